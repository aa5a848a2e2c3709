variable "name" {
  description = "Prefix of the three role names: <name>-plan, <name>-apply, <name>-backup."
  type        = string
  default     = "runners"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,50}$", var.name))
    error_message = "name must be 1-50 characters valid in an IAM role name."
  }
}

# One principal per duty, each given on its own: the plan principal's keys sit
# in both Jenkins zones (merge-request code can use them), the apply and backup
# principals' only in the production folder. No principal may hold two duties.
variable "plan_principal_arns" {
  description = "IAM users or roles that may assume <name>-plan: the principal behind the runners-aws-plan credential (both Jenkins zones)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.plan_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "plan_principal_arns must be IAM user or role ARNs (not an account root, which would let any identity of the account in)."
  }

  validation {
    condition     = length(var.plan_principal_arns) > 0 || length(try(var.jenkins_oidc.plan_subjects, [])) > 0
    error_message = "The plan role needs a principal (plan_principal_arns) or Jenkins jobs (jenkins_oidc.plan_subjects) to trust."
  }
}

variable "apply_principal_arns" {
  description = "IAM users or roles that may assume <name>-apply: the principal behind the runners-aws-write credential, held only in the production folder."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.apply_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "apply_principal_arns must be IAM user or role ARNs (not an account root, which would let any identity of the account in)."
  }

  validation {
    condition     = length(setintersection(var.apply_principal_arns, var.plan_principal_arns)) == 0
    error_message = "apply_principal_arns and plan_principal_arns share a principal: whoever can plan (merge-request code included) could then apply. Give each duty its own principal."
  }

  validation {
    condition     = length(var.apply_principal_arns) > 0 || length(try(var.jenkins_oidc.apply_subjects, [])) > 0
    error_message = "The apply role needs a principal (apply_principal_arns) or Jenkins jobs (jenkins_oidc.apply_subjects) to trust."
  }
}

variable "backup_principal_arns" {
  description = "IAM users or roles that may assume <name>-backup: the principal behind the runners-aws-backup credential, held only in the production folder."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.backup_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "backup_principal_arns must be IAM user or role ARNs (not an account root, which would let any identity of the account in)."
  }

  validation {
    condition     = length(setintersection(var.backup_principal_arns, concat(var.plan_principal_arns, var.apply_principal_arns))) == 0
    error_message = "backup_principal_arns shares a principal with plan_principal_arns or apply_principal_arns. Give each duty its own principal."
  }

  validation {
    condition     = length(var.backup_principal_arns) > 0 || length(try(var.jenkins_oidc.backup_subjects, [])) > 0
    error_message = "The backup role needs a principal (backup_principal_arns) or Jenkins jobs (jenkins_oidc.backup_subjects) to trust."
  }
}

variable "jenkins_oidc" {
  description = "Optional: Jenkins' OpenID Connect Provider plugin. provider_arn: the IAM OIDC provider of the production folder's issuer; issuer: that issuer's URL without https://. A role trusts a token whose aud is its duty's audience and whose sub (the job's URL by default) is one of its duty's subjects, e.g. apply_subjects = [the production job's URL]."
  type = object({
    provider_arn = string
    issuer       = string
    audiences = optional(object({
      plan   = optional(string, "runners-plan")
      apply  = optional(string, "runners-apply")
      backup = optional(string, "runners-backup")
    }), {})
    plan_subjects   = optional(list(string), [])
    apply_subjects  = optional(list(string), [])
    backup_subjects = optional(list(string), [])
  })
  default = null

  validation {
    condition     = var.jenkins_oidc == null ? true : length(distinct(values(var.jenkins_oidc.audiences))) == 3
    error_message = "jenkins_oidc.audiences must differ per duty: the audience is what tells a plan token from an apply token of the same job."
  }
}

variable "external_id" {
  description = "When set, AssumeRole by the principals must present this external ID (use it when the Jenkins server is in another organisation's account). An identifier, not a secret."
  type        = string
  default     = null

  validation {
    # RE2 caps a repetition count at 1000, so the length is checked apart.
    condition     = var.external_id == null ? true : can(regex("^[A-Za-z0-9+=,.@:/_-]+$", var.external_id)) && length(var.external_id) >= 2 && length(var.external_id) <= 1224
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
