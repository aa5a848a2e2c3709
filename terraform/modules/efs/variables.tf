variable "name" {
  description = "The file system's name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 lower-case letters, digits and hyphens."
  }
}

variable "vpc_id" {
  description = "The VPC of the mount targets."
  type        = string
}

variable "subnet_ids" {
  description = "One subnet per zone for the mount targets (vpc's data_subnet_ids), by zone."
  type        = map(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must give a subnet in at least two zones."
  }
}

variable "client_security_groups" {
  description = "Security groups of the servers that mount the file system (NFS is allowed from them only), by a name you choose (the key must be known at plan time; the id may not be)."
  type        = map(string)

  validation {
    condition     = length(var.client_security_groups) > 0
    error_message = "client_security_groups must name the servers' security groups."
  }
}

variable "kms_key_arn" {
  description = "Key the file system is encrypted with."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "mount_point" {
  description = "Where servers mount it (ec2-server's cloud_config.nfs_mounts)."
  type        = string
  default     = "/srv/shared"

  validation {
    condition     = startswith(var.mount_point, "/")
    error_message = "mount_point must be an absolute path."
  }
}

variable "transition_to_ia" {
  description = "Move files not read for this long to Infrequent Access."
  type        = string
  default     = "AFTER_30_DAYS"

  validation {
    condition     = contains(["AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS", "AFTER_90_DAYS"], var.transition_to_ia)
    error_message = "transition_to_ia must be AFTER_1_DAY, AFTER_7_DAYS, AFTER_14_DAYS, AFTER_30_DAYS, AFTER_60_DAYS or AFTER_90_DAYS."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "backup_policy" {
  description = "Turn on AWS Backup's automatic daily backups of the file system. Off only where the API is missing (the embedded AWS)."
  type        = bool
  default     = true
}
