variable "name" {
  description = "Prefix of the three role names: <name>-plan, <name>-apply, <name>-backup."
  type        = string
  default     = "runners"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,50}$", var.name))
    error_message = "name must be 1-50 characters valid in an IAM role name."
  }
}

variable "trusted_principal_arns" {
  description = "IAM principals that may assume the roles: the identity the Jenkins utility server runs as."
  type        = list(string)

  validation {
    condition     = length(var.trusted_principal_arns) > 0 && alltrue([for arn in var.trusted_principal_arns : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:", arn))])
    error_message = "trusted_principal_arns must list at least one IAM user or role ARN."
  }
}

variable "external_id" {
  description = "When set, AssumeRole must present this external ID (use it when the Jenkins server is in another organisation's account)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.external_id == null ? true : can(regex("^[A-Za-z0-9+=,.@:/_-]{2,1224}$", var.external_id))
    error_message = "external_id must be 2-1224 characters: letters, digits and +=,.@:/_-."
  }
}

variable "session_hours" {
  description = "Longest session per role. Apply gets the longest: Terraform cannot renew credentials mid-apply, and a database can take an hour to create."
  type = object({
    plan   = optional(number, 1)
    apply  = optional(number, 4)
    backup = optional(number, 6)
  })
  default = {}

  validation {
    condition     = alltrue([for h in values(var.session_hours) : h >= 1 && h <= 12 && floor(h) == h])
    error_message = "session_hours must be whole hours between 1 and 12."
  }
}

variable "regions" {
  description = "Regions the roles act in: the primary region, then the backup region."
  type        = list(string)

  validation {
    condition     = length(var.regions) >= 2 && length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must list the primary region and the backup region, each once."
  }
}

variable "state_bucket_arn" {
  description = "The Terraform state bucket (state-backend's bucket_arn)."
  type        = string
}

variable "state_kms_key_arn" {
  description = "The state bucket's key (state-backend's kms_key_arn)."
  type        = string
}

variable "runner_key_prefix" {
  description = "Prefix in the state bucket for the runners' stack locks and audit records."
  type        = string
  default     = "runners/"
}

variable "bucket_name_prefix" {
  description = "Every bucket the stacks manage is named starting with this."
  type        = string
}

variable "backup_tag_key" {
  description = "Tag that marks the volumes, instances, databases and clusters the backup role may snapshot; backup policies select by it."
  type        = string
  default     = "runners:backup"
}

variable "snapshot_tag_key" {
  description = "Tag every snapshot and copy the runners make carries (runners.backup.tags.MANAGED_BY); the backup role deletes, copies and links only snapshots carrying it."
  type        = string
  default     = "runners:managed-by"
}

variable "snapshot_name_prefix" {
  description = "Name prefix of the RDS snapshots the runners create."
  type        = string
  default     = "runners-"
}

variable "backup_kms_key_arns" {
  description = "Keys of the volumes and databases backed up, and the backup region's key (backup-region's kms_key_arn)."
  type        = list(string)
}

variable "backup_bucket_arn" {
  description = "The backup region's bucket (backup-region's bucket_arn): ship-s3 copies into it and may write nowhere else. Null: no ship-s3."
  type        = string
  default     = null
}

variable "protected_arns" {
  description = "More resources apply must never change: the backup bucket and key, for instance."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the roles."
  type        = map(string)
  default     = {}
}
