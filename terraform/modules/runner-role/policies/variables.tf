variable "partition" {
  description = "AWS partition of every ARN (aws, aws-us-gov, aws-cn)."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-us-gov", "aws-cn"], var.partition)
    error_message = "partition must be aws, aws-us-gov or aws-cn."
  }
}

variable "account_id" {
  description = "The client account the roles live in and act on."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "regions" {
  description = "Regions the roles may act in: the primary region first, then the backup region."
  type        = list(string)

  validation {
    condition     = length(var.regions) >= 1 && alltrue([for r in var.regions : can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$", r))])
    error_message = "regions must list AWS region names such as eu-west-1."
  }
}

variable "role_name_prefix" {
  description = "The roles are named <prefix>-plan, <prefix>-apply and <prefix>-backup."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,50}$", var.role_name_prefix))
    error_message = "role_name_prefix must be 1-50 characters valid in an IAM role name."
  }
}

variable "state_bucket_arn" {
  description = "ARN of the Terraform state bucket (state-backend's bucket_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.state_bucket_arn))
    error_message = "state_bucket_arn must be an S3 bucket ARN."
  }
}

variable "state_kms_key_arn" {
  description = "ARN of the key that encrypts the state bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be a KMS key ARN."
  }
}

variable "runner_key_prefix" {
  description = "Key prefix in the state bucket under which the runners keep their stack locks and audit records."
  type        = string
  default     = "runners/"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$", var.runner_key_prefix))
    error_message = "runner_key_prefix must be a relative key prefix ending in /, such as runners/."
  }
}

variable "bucket_name_prefix" {
  description = "Every S3 bucket the stacks manage has a name starting with this; Terraform's S3 access is limited to them."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{2,}$", var.bucket_name_prefix))
    error_message = "bucket_name_prefix must be at least 3 characters of a bucket name."
  }
}

variable "backup_tag_key" {
  description = "The tag that marks the volumes, instances, databases and clusters the backup role may snapshot."
  type        = string
  default     = "runners:backup"

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.backup_tag_key)) && !startswith(var.backup_tag_key, "aws:")
    error_message = "backup_tag_key must be a valid tag key not starting with aws:."
  }
}

variable "snapshot_tag_key" {
  description = "The tag every snapshot the backup role creates or copies carries (runners.backup.tags.MANAGED_BY); it may delete, copy from and link only snapshots carrying it."
  type        = string
  default     = "runners:managed-by"

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.snapshot_tag_key)) && !startswith(var.snapshot_tag_key, "aws:")
    error_message = "snapshot_tag_key must be a valid tag key not starting with aws:."
  }
}

variable "snapshot_name_prefix" {
  description = "RDS snapshots the runners create are named with this prefix; the backup role may tag, copy to and delete only those."
  type        = string
  default     = "runners-"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.snapshot_name_prefix))
    error_message = "snapshot_name_prefix must start with a letter and use lower-case letters, digits and hyphens."
  }
}

variable "backup_kms_key_arns" {
  description = "Keys that encrypt the volumes, databases and snapshot copies the backup role handles (the primary region's keys and the backup region's key)."
  type        = list(string)

  validation {
    condition     = length(var.backup_kms_key_arns) > 0 && alltrue([for arn in var.backup_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:", arn))])
    error_message = "backup_kms_key_arns must list at least one KMS key ARN."
  }
}

variable "ami_parameter_paths" {
  description = "SSM parameter paths (without leading slash) disaster recovery reads to find machine images, such as Debian's public aws/service/debian/* parameters."
  type        = list(string)
  default     = ["aws/service/debian/*"]

  validation {
    condition     = alltrue([for p in var.ami_parameter_paths : !startswith(p, "/")])
    error_message = "ami_parameter_paths are written without a leading slash."
  }
}

variable "protected_arns" {
  description = "Resources the apply role must never change or delete: the runners' own safety net (backup bucket, backup key, ...). The state bucket and the runner roles are always included."
  type        = list(string)
  default     = []
}

variable "backup_bucket_arn" {
  description = "The backup region's bucket (backup-region's bucket_arn): the only bucket ship-s3 may write to. Null: ship-s3 may write nowhere."
  type        = string
  default     = null

  validation {
    condition     = var.backup_bucket_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.backup_bucket_arn))
    error_message = "backup_bucket_arn must be an S3 bucket ARN."
  }
}

# --- Who may assume which role ------------------------------------------------

variable "plan_principal_arns" {
  description = "IAM users or roles that may assume the plan role: the principal whose keys are the runners-aws-plan credential (merge-request and production zones). Never the apply or backup principal."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.plan_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "plan_principal_arns must be IAM user or role ARNs (not an account root, which would let any identity of the account in)."
  }
}

variable "apply_principal_arns" {
  description = "IAM users or roles that may assume the apply role: the principal whose keys are the runners-aws-write credential, held only in the production folder."
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
}

variable "backup_principal_arns" {
  description = "IAM users or roles that may assume the backup role: the principal whose keys are the runners-aws-backup credential, held only in the production folder."
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
}

variable "external_id" {
  description = "When set, AssumeRole by the principals above must present this external ID (an identifier, not a secret)."
  type        = string
  default     = null

  validation {
    # RE2 caps a repetition count at 1000, so the length is checked apart.
    condition     = var.external_id == null ? true : can(regex("^[A-Za-z0-9+=,.@:/_-]+$", var.external_id)) && length(var.external_id) >= 2 && length(var.external_id) <= 1224
    error_message = "external_id must be 2-1224 characters: letters, digits and +=,.@:/_-."
  }
}

variable "jenkins_oidc" {
  description = "Optional: Jenkins' OpenID Connect Provider plugin as an identity provider. provider_arn is the IAM OIDC provider of the production folder's issuer (issuer: its URL without https://); each role trusts tokens whose aud is that duty's audience and whose sub (by default the job's URL) is one of that duty's subjects: the production jobs, never a merge-request job."
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
    condition     = var.jenkins_oidc == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/", var.jenkins_oidc.provider_arn)) && !startswith(var.jenkins_oidc.issuer, "https://")
    error_message = "jenkins_oidc.provider_arn must be an IAM OIDC provider ARN and jenkins_oidc.issuer its URL without https://."
  }

  validation {
    condition     = var.jenkins_oidc == null ? true : length(distinct(values(var.jenkins_oidc.audiences))) == 3
    error_message = "jenkins_oidc.audiences must differ per duty: the audience is what tells a plan token from an apply token of the same job."
  }

  validation {
    condition     = var.jenkins_oidc == null ? true : alltrue([for s in concat(var.jenkins_oidc.plan_subjects, var.jenkins_oidc.apply_subjects, var.jenkins_oidc.backup_subjects) : can(regex("^https://[^*?]+/job/[^*?]+/$", s))])
    error_message = "jenkins_oidc subjects must be job URLs such as https://jenkins.acme.internal/job/acme/job/production/job/terraform/ (no wildcards)."
  }
}
