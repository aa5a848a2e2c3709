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

variable "backup_region" {
  description = "The region backups are copied to, state is replicated to, and disaster recovery rebuilds in."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$", var.backup_region)) && var.backup_region != var.region
    error_message = "backup_region must be an AWS region name other than region."
  }
}

variable "state_bucket_name" {
  description = "The state bucket: runners.toml's [environments.<env>.backend] bucket, which runners bootstrap made."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "runner_principal_arns" {
  description = "The IAM user or role of each Jenkins duty, whose keys are the runners-aws-plan (both zones), runners-aws-write and runners-aws-backup (production folder only) credentials. Three different principals."
  type = object({
    plan   = string
    apply  = string
    backup = string
  })

  validation {
    condition     = alltrue([for arn in values(var.runner_principal_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", arn))]) && length(distinct(values(var.runner_principal_arns))) == 3
    error_message = "runner_principal_arns must name three different IAM role or user ARNs, one per duty."
  }
}

variable "data_kms_key_arns" {
  description = "Keys of the volumes and databases the runners back up (the data stack's data_kms_key_arn output), so the backup role may copy their snapshots."
  type        = list(string)
  default     = []
}
