variable "identifier" {
  description = "The database instance's name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.identifier)) && !endswith(var.identifier, "-") && !strcontains(var.identifier, "--")
    error_message = "identifier must start with a letter and use lower-case letters, digits and single hyphens (at most 63)."
  }
}

variable "engine" {
  description = "Database engine."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["postgres", "mysql", "mariadb"], var.engine)
    error_message = "engine must be postgres, mysql or mariadb."
  }
}

variable "engine_version" {
  description = "Engine version: the major version for PostgreSQL (17), major.minor for MySQL and MariaDB (8.0, 10.11). Minor upgrades are applied automatically in the maintenance window."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)*$", var.engine_version))
    error_message = "engine_version must be a version number such as 17 or 8.0."
  }
}

variable "parameters" {
  description = "More database parameters, or overrides of the module's (query logging, TLS), by name."
  type        = map(string)
  default     = {}
}

variable "instance_class" {
  description = "Instance class, such as db.t4g.medium."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class (db.*)."
  }
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB (at least allocated_storage_gb)."
  type        = number
  default     = 200
}

variable "db_name" {
  description = "Name of the database created with the instance (ignored when restoring from a snapshot)."
  type        = string
  default     = "app"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and use letters, digits and underscores."
  }
}

variable "username" {
  description = "Master user name (ignored when restoring from a snapshot). Its password is generated and kept in Secrets Manager by RDS, never in Terraform state."
  type        = string
  default     = "dbadmin"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,15}$", var.username)) && !contains(["admin", "postgres", "root", "rdsadmin"], lower(var.username))
    error_message = "username must be 1-16 letters, digits or underscores starting with a letter, and not a reserved name."
  }
}

variable "subnet_ids" {
  description = "Data subnets in at least two zones (vpc's data_subnet_ids)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list subnets in at least two zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the database."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Key for storage, snapshots and Performance Insights."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "multi_az" {
  description = "A standby in another zone (production)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of RDS automated backups (point-in-time recovery); the runners' snapshots come on top."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "backup_window" {
  description = "Daily UTC window for automated backups."
  type        = string
  default     = "02:00-03:00"
}

variable "maintenance_window" {
  description = "Weekly UTC window for maintenance."
  type        = string
  default     = "sun:03:30-sun:04:30"
}

variable "snapshot_identifier" {
  description = "Restore from this RDS snapshot (name or ARN; disaster recovery). Changing it later does not replace the database."
  type        = string
  default     = null

  validation {
    condition     = var.snapshot_identifier == null ? true : can(regex("^(arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:snapshot:)?[a-zA-Z][a-zA-Z0-9-:]*$", var.snapshot_identifier))
    error_message = "snapshot_identifier must be an RDS snapshot name or ARN."
  }
}

variable "backup_tag" {
  description = "Tag put on the database so the runners snapshot it: key and backup policy name. Null: not backed up by the runners."
  type = object({
    key   = string
    value = string
  })
  default = null
}

variable "deletion_protection" {
  description = "Refuse deletion: a destroy must first turn this off in a reviewed change."
  type        = bool
  default     = true
}

variable "final_snapshot" {
  description = "Take the snapshot <identifier>-final when the database is deleted. Only a disaster-recovery drill, whose database is a restore of a shipped copy, turns it off."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "restore_kms_key_arn" {
  description = "The key the restored snapshot is encrypted with (a copy shipped to the backup region carries the backup key). Set it with snapshot_identifier and keep it afterwards: the restored database stays under that key. Null: kms_key_arn."
  type        = string
  default     = null

  validation {
    condition     = var.restore_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:", var.restore_kms_key_arn))
    error_message = "restore_kms_key_arn must be a KMS key ARN."
  }
}
