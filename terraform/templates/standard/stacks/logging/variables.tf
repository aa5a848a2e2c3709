variable "client" {
  description = "Short name of the client, the first part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.client))
    error_message = "client must be 2-12 lower-case letters and digits, starting with a letter."
  }
}

variable "environment" {
  description = "development or production."
  type        = string

  validation {
    condition     = contains(["development", "production"], var.environment)
    error_message = "environment must be development or production."
  }
}

variable "region" {
  description = "Region the stack is built in: the primary region, or the backup region when disaster recovery rebuilds it there."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "log_retention_days" {
  description = "Retention of the servers' and services' log groups, in days (one CloudWatch accepts)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch accepts, such as 30, 90, 365 or 731."
  }
}
