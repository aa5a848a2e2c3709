variable "name" {
  description = "Prefix for the names of the replica bucket, its key and the replication role."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$", var.name))
    error_message = "name must be 3-42 lower-case letters, digits and hyphens."
  }
}

variable "source_buckets" {
  description = "Primary-region buckets to replicate into the backup region, by a label you choose (known at plan time): the bucket's name and the ARN of the KMS key its objects are encrypted with (null for SSE-S3). Each must have versioning enabled."
  type = map(object({
    bucket      = string
    kms_key_arn = optional(string)
  }))

  validation {
    condition     = length(var.source_buckets) > 0
    error_message = "source_buckets must name at least one bucket to replicate."
  }

  validation {
    condition     = alltrue([for s in values(var.source_buckets) : s.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:", s.kms_key_arn))])
    error_message = "Each source_buckets value must be a KMS key ARN or null."
  }
}

variable "replica_storage_class" {
  description = "Storage class replicas are written in."
  type        = string
  default     = "STANDARD_IA"

  validation {
    condition     = contains(["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], var.replica_storage_class)
    error_message = "replica_storage_class must be STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR."
  }
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted replica version is kept before it expires."
  type        = number
  default     = 365

  validation {
    condition     = var.noncurrent_version_days >= 30
    error_message = "noncurrent_version_days must be at least 30."
  }
}

variable "access_log_bucket" {
  description = "Bucket in the backup region that receives the replica bucket's server access logs."
  type        = string

  validation {
    condition     = length(var.access_log_bucket) >= 3
    error_message = "access_log_bucket must name an existing bucket in the backup region."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
