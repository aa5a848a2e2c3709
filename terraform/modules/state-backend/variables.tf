variable "bucket_name" {
  description = "Name of the S3 bucket that holds every stack's Terraform state and the runners' lock and audit objects."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten state version is kept before it expires; old versions are how a broken state is rolled back."
  type        = number
  default     = 365

  validation {
    condition     = var.noncurrent_version_days >= 30 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of days, at least 30."
  }
}

variable "access_log_bucket" {
  description = "Bucket that receives the state bucket's server access logs (it must allow the S3 logging service to write)."
  type        = string

  validation {
    condition     = length(var.access_log_bucket) >= 3
    error_message = "access_log_bucket must name an existing bucket."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the state key is deleted once deletion is scheduled."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "key_administrator_arns" {
  description = "IAM principals that administer the state key (besides the account root). Use and grants are left to IAM policies."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.key_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", arn))])
    error_message = "key_administrator_arns must be IAM ARNs."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}

# --- The runners' records and locks, and Object Lock ------------------------------

variable "runner_key_prefix" {
  description = "Prefix under which the runners keep their records and stack locks (runner-role's runner_key_prefix): <prefix>audit/, <prefix>plan-records/, <prefix>locks/."
  type        = string
  default     = "runners/"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.runner_key_prefix))
    error_message = "runner_key_prefix must be a relative key prefix ending in /, such as runners/."
  }
}

variable "apply_role_arns" {
  description = "The runner apply role (runner-role's apply_role_arn): the only principal that may write apply records or remove a stack lock. Empty: the bucket policy does not restrict those writes (the roles' own policies still do)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.apply_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "apply_role_arns must be IAM role ARNs."
  }
}

variable "lock_administrator_arns" {
  description = "People's roles that may also remove a stale stack lock (runners unlock), besides the apply role."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.lock_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", arn))])
    error_message = "lock_administrator_arns must be IAM role or user ARNs."
  }
}

variable "retention_administrator_arns" {
  description = "Principals that may bypass GOVERNANCE retention to remove an object version early (a state version that leaked a secret). Never the runner roles. Empty: nobody, until the bucket policy is changed. Audit records can never be removed early."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.retention_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", arn))])
    error_message = "retention_administrator_arns must be IAM role or user ARNs."
  }
}

variable "object_lock_mode" {
  description = "Default Object Lock retention of every object version: GOVERNANCE (retention_administrator_arns may remove a version early) or COMPLIANCE (nobody can)."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode must be GOVERNANCE or COMPLIANCE."
  }
}

variable "object_lock_days" {
  description = "Days each object version (state, audit and plan records, lock files) is retained under Object Lock; at most noncurrent_version_days, so expiry can follow."
  type        = number
  default     = 365

  validation {
    condition     = var.object_lock_days >= 1 && floor(var.object_lock_days) == var.object_lock_days && var.object_lock_days <= var.noncurrent_version_days
    error_message = "object_lock_days must be a whole number of days, at least 1 and at most noncurrent_version_days."
  }
}
