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

variable "database" {
  description = "The RDS database's size and availability."
  type = object({
    instance_class       = string
    allocated_storage_gb = number
    multi_az             = bool
    engine_version       = optional(string, "17")
  })
}

variable "cache" {
  description = "The cache's node type and node count."
  type = object({
    node_type = string
    nodes     = number
  })
}

variable "cache_auth_token" {
  description = "The cache's AUTH password. Never in a tfvars file: Jenkins passes it as TF_VAR_cache_auth_token from its credentials."
  type        = string
  sensitive   = true
}

variable "backup_policy" {
  description = "Value of the backup tag on the database: the runners' backup policy that covers it."
  type        = string
  default     = "daily"
}

variable "backup_tag_key" {
  description = "The runners' backup tag (runner-role's backup_tag_key)."
  type        = string
  default     = "runners:backup"
}

variable "features" {
  description = "Parts of the stack that can be switched off; on by default. The embedded AWS (moto) profile turns off what moto does not implement."
  type = object({
    cache = optional(bool, true) # ElastiCache member clusters of a replication group
  })
  default = {}
}

variable "snapshot_identifier" {
  description = "Disaster recovery: restore the database from this RDS snapshot (name or ARN in the stack's region); ignored once the database exists."
  type        = string
  default     = null
}

variable "database_kms_key_arn" {
  description = "Disaster recovery: the key of the database snapshot being restored (the backup region's key). Keep it set after the restore."
  type        = string
  default     = null
}
