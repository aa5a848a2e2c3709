variable "name" {
  description = "The replication group's name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name))
    error_message = "name must be 2-40 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "engine" {
  description = "redis or valkey."
  type        = string
  default     = "valkey"

  validation {
    condition     = contains(["redis", "valkey"], var.engine)
    error_message = "engine must be redis or valkey."
  }
}

variable "engine_version" {
  description = "Engine version."
  type        = string
  default     = "8.0"
}

variable "node_type" {
  description = "Node type, such as cache.t4g.small."
  type        = string
  default     = "cache.t4g.small"

  validation {
    condition     = startswith(var.node_type, "cache.")
    error_message = "node_type must be an ElastiCache node type (cache.*)."
  }
}

variable "nodes" {
  description = "Number of nodes: one primary and replicas. Two or more turns on automatic failover across zones."
  type        = number
  default     = 2

  validation {
    condition     = var.nodes >= 1 && var.nodes <= 6
    error_message = "nodes must be between 1 and 6."
  }
}

variable "subnet_ids" {
  description = "Data subnets (vpc's data_subnet_ids)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the cache."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Key for data at rest and snapshots."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "auth_token" {
  description = "The AUTH password clients present (16-128 characters). Pass it from the secret store (TF_VAR_...), never from a committed file."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.auth_token) >= 16 && length(var.auth_token) <= 128 && !can(regex("[\\s\"@/]", var.auth_token))
    error_message = "auth_token must be 16-128 printable characters without spaces, quotes, @ or /."
  }
}

variable "snapshot_retention_days" {
  description = "Days of daily automatic snapshots."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be between 1 and 35."
  }
}

variable "log_group_name" {
  description = "CloudWatch log group (from logging) for the slow log and engine log."
  type        = string
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
