variable "hostname" {
  description = "The server's short host name; also its Name tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.hostname))
    error_message = "hostname must be one DNS label: lower-case letters, digits and hyphens."
  }
}

variable "domain" {
  description = "The domain of the server's fully qualified name."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the server's IAM role and instance profile names (<prefix>-<hostname>)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 1-30 characters valid in an IAM role name."
  }
}

variable "instance_type" {
  description = "EC2 instance type (a Nitro type: the data volume is found by its NVMe serial)."
  type        = string
  default     = "t3.medium"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t3.medium."
  }
}

variable "architecture" {
  description = "CPU architecture of the Debian image: amd64 or arm64 (match the instance type)."
  type        = string
  default     = "amd64"

  validation {
    condition     = contains(["amd64", "arm64"], var.architecture)
    error_message = "architecture must be amd64 or arm64."
  }
}

variable "debian_release" {
  description = "Debian major release of the image when ami_id is not given."
  type        = number
  default     = 13

  validation {
    condition     = contains([12, 13], var.debian_release)
    error_message = "debian_release must be 12 (bookworm) or 13 (trixie)."
  }
}

variable "ami_id" {
  description = "A specific image to boot. Null: the latest official Debian image (disaster recovery pins one found in the backup region)."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null ? true : can(regex("^ami-[0-9a-f]+$", var.ami_id))
    error_message = "ami_id must be an AMI ID (ami-...)."
  }
}

variable "subnet_id" {
  description = "Private subnet the server runs in (vpc's private_subnet_ids)."
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the server."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0
    error_message = "Give at least one security group: the VPC's default group is locked."
  }
}

variable "kms_key_arn" {
  description = "Key that encrypts the root and data volumes (and so their snapshots)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "root_volume_gb" {
  description = "Size of the root volume in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_gb >= 8 && var.root_volume_gb <= 1024
    error_message = "root_volume_gb must be between 8 and 1024."
  }
}

variable "data_volume" {
  description = "A separate EBS data volume, backed up by the runners. Null: none."
  type = object({
    size_gb     = number
    mount_point = optional(string, "/srv")
    type        = optional(string, "gp3")
  })
  default = null

  validation {
    condition     = var.data_volume == null ? true : (var.data_volume.size_gb >= 1 && var.data_volume.size_gb <= 16384 && contains(["gp3", "io2", "st1"], var.data_volume.type))
    error_message = "data_volume needs size_gb between 1 and 16384 and a type of gp3, io2 or st1."
  }
}

variable "final_snapshot" {
  description = "Snapshot the data volume when it is destroyed. Only a disaster-recovery drill, whose volume is a restore of a shipped copy, turns it off."
  type        = bool
  default     = true
}

variable "snapshot_id" {
  description = "Restore the data volume from this EBS snapshot (disaster recovery). Changing it later does not replace the volume."
  type        = string
  default     = null

  validation {
    condition     = var.snapshot_id == null ? true : can(regex("^snap-[0-9a-f]+$", var.snapshot_id))
    error_message = "snapshot_id must be an EBS snapshot ID (snap-...)."
  }
}

variable "backup_tag" {
  description = "Tag put on the data volume so the runners back it up: key and backup policy name. Null: not backed up."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "termination_protection" {
  description = "Refuse API termination: a destroy must first turn this off in a reviewed change."
  type        = bool
  default     = true
}

variable "cloud_config" {
  description = "What the server's first boot needs: Puppet server and environment, files to ship to CloudWatch, NFS mounts, extra Debian packages."
  type = object({
    puppet_server      = string
    puppet_environment = optional(string, "production")
    log_files = list(object({
      path           = string
      log_group_name = string
    }))
    nfs_mounts = optional(list(object({
      dns_name    = string
      mount_point = string
    })), [])
    extra_packages = optional(list(string), [])
  })
}

variable "log_group_arns" {
  description = "Log groups the server's CloudWatch agent may write to (those in cloud_config.log_files)."
  type        = list(string)

  validation {
    condition     = length(var.log_group_arns) > 0
    error_message = "log_group_arns must list the log groups of cloud_config.log_files."
  }
}

variable "enable_ssm" {
  description = "Let Systems Manager reach the server (Session Manager instead of SSH, patch reports)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "detailed_monitoring" {
  description = "CloudWatch detailed (1-minute) monitoring of the instance. Off only where the API is missing (the embedded AWS)."
  type        = bool
  default     = true
}
