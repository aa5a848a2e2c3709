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

variable "availability_zones" {
  description = "Zones of the region to use (disaster recovery gives the backup region's)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && alltrue([for az in var.availability_zones : startswith(az, var.region)])
    error_message = "availability_zones must list at least two zones of the stack's region."
  }
}

variable "vpc_cidr" {
  description = "The VPC's range (a /16)."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per zone (development)."
  type        = bool
  default     = false
}

variable "vpn" {
  description = "Site-to-site VPN to the client's premises (vpc module's vpn); null for none."
  type = object({
    customer_gateway_ip = string
    bgp_asn             = optional(number, 65000)
    static_routes       = optional(list(string), [])
  })
  default = null
}

variable "domain" {
  description = "Private DNS domain of the servers: each is <name>.<domain>."
  type        = string
}

variable "servers" {
  description = "The servers, by host name: what they do (web, api or worker), size, zone (index into availability_zones) and data volume size."
  type = map(object({
    role          = string
    instance_type = string
    zone          = number
    data_gb       = optional(number, 20)
  }))

  validation {
    condition     = alltrue([for s in values(var.servers) : contains(["web", "api", "worker"], s.role)])
    error_message = "Each server's role must be web, api or worker."
  }

  validation {
    condition     = alltrue([for s in values(var.servers) : s.zone >= 0 && s.zone < length(var.availability_zones)])
    error_message = "Each server's zone must be an index into availability_zones."
  }
}

variable "puppet" {
  description = "The Puppet server the servers report to, and their environment."
  type = object({
    server      = string
    environment = string
  })
}

variable "app_port" {
  description = "Port the web and api servers listen on behind the load balancers."
  type        = number
  default     = 8080
}

variable "certificate_arn" {
  description = "ACM certificate of the public load balancer, in the stack's region."
  type        = string
}

variable "web_host_names" {
  description = "Host names the public load balancer serves."
  type        = list(string)
}

variable "api" {
  description = "The API: internal certificate (in the stack's region), its host name, and the JWT issuer and audiences callers need."
  type = object({
    certificate_arn = string
    host_name       = string
    jwt_issuer      = string
    jwt_audiences   = list(string)
  })
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
  description = "Value of the backup tag on volumes and the database: the runners' backup policy that covers them."
  type        = string
  default     = "daily"
}

variable "backup_tag_key" {
  description = "The runners' backup tag (runner-role's backup_tag_key)."
  type        = string
  default     = "runners:backup"
}

variable "log_retention_days" {
  description = "Retention of the servers' and services' log groups."
  type        = number
  default     = 365
}

# --- Disaster recovery: restore inputs ---------------------------------------

variable "snapshot_identifier" {
  description = "Restore the database from this RDS snapshot (name or ARN in the stack's region). Set by disaster recovery; ignored once the database exists."
  type        = string
  default     = null
}

variable "snapshot_ids" {
  description = "Restore servers' data volumes from these EBS snapshots (in the stack's region), by host name. Set by disaster recovery; ignored once a volume exists."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.snapshot_ids) : contains(keys(var.servers), name)])
    error_message = "snapshot_ids keys must be host names from servers."
  }

  validation {
    condition     = alltrue([for id in values(var.snapshot_ids) : can(regex("^snap-[0-9a-f]+$", id))])
    error_message = "snapshot_ids values must be EBS snapshot IDs (snap-...)."
  }
}

variable "ami_ids" {
  description = "Pin servers' images by host name (disaster recovery pins images found in the backup region). Others boot the latest official Debian image."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.ami_ids) : contains(keys(var.servers), name)])
    error_message = "ami_ids keys must be host names from servers."
  }
}

variable "features" {
  description = "Parts of the stack that can be switched off. All are on by default; only an environment that lacks the API turns one off: the embedded AWS (moto) profile turns off each one moto does not implement (README, what is emulated)."
  type = object({
    detailed_monitoring       = optional(bool, true) # EC2 MonitorInstances
    efs_backup_policy         = optional(bool, true) # EFS PutBackupPolicy
    dead_letter_source_policy = optional(bool, true) # SQS RedriveAllowPolicy
    cache                     = optional(bool, true) # ElastiCache member clusters of a replication group
  })
  default = {}
}

variable "database_kms_key_arn" {
  description = "Disaster recovery: the key of the database snapshot being restored (the backup region's key). Set it with snapshot_identifier and keep it: the restored database stays under it, and any other key would replace the database."
  type        = string
  default     = null
}

# --- Protection -------------------------------------------------------------

variable "deletion_protection" {
  description = "Refuse deleting the database, the load balancers and the servers. To destroy the stack, first apply false in a reviewed change, then destroy. A disaster-recovery drill builds its copy with false, so it can clean up."
  type        = bool
  default     = true
}

variable "final_snapshots" {
  description = "Snapshot the database and the data volumes when they are deleted. Only a disaster-recovery drill, whose data is a restore of shipped copies, turns this off."
  type        = bool
  default     = true
}
