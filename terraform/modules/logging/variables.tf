variable "name" {
  description = "Prefix of the log groups (/<name>/<group>) and of the key and bucket names."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 lower-case letters, digits and hyphens."
  }
}

variable "log_groups" {
  description = "Log groups to create, by short name, with their retention in days (null: default_retention_days). Empty: only the access-log bucket."
  type = map(object({
    retention_days = optional(number)
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.log_groups) : can(regex("^[A-Za-z0-9_./-]{1,200}$", k))])
    error_message = "log_groups keys must be valid log group name parts (letters, digits, _ . / -)."
  }

  validation {
    condition = alltrue([
      for g in values(var.log_groups) :
      g.retention_days == null ? true : contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], g.retention_days)
    ])
    error_message = "retention_days must be one CloudWatch accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "default_retention_days" {
  description = "Retention of log groups that set none. A year by default, so incidents can be investigated long after."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.default_retention_days)
    error_message = "default_retention_days must be a retention CloudWatch accepts (365, 731, ...)."
  }
}

variable "access_log_bucket_name" {
  description = "When set, also create this S3 bucket to receive S3 server access logs and load balancer access logs."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket_name == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_name))
    error_message = "access_log_bucket_name must be a valid S3 bucket name."
  }
}

variable "access_log_days" {
  description = "Days access logs are kept in the bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_days >= 90
    error_message = "access_log_days must be at least 90."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
