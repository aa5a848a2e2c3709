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
