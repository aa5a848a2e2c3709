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
  description = "Zones of the region to use, as the network stack was given them."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && alltrue([for az in var.availability_zones : startswith(az, var.region)])
    error_message = "availability_zones must list at least two zones of the stack's region."
  }
}

variable "domain" {
  description = "Private DNS domain of the servers: each is <name>.<domain> (the edge stack's zone)."
  type        = string
}

variable "servers" {
  description = "The servers, by host name: size, zone (index into availability_zones) and data volume size."
  type = map(object({
    instance_type = string
    zone          = number
    data_gb       = optional(number, 20)
  }))

  validation {
    condition     = length(var.servers) > 0 && alltrue([for name in keys(var.servers) : can(regex("^[a-z][a-z0-9-]{0,30}$", name))])
    error_message = "servers must name at least one server, each a host name of lower-case letters, digits and '-'."
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

variable "backup_policy" {
  description = "Value of the backup tag on the data volumes: the runners' backup policy that covers them."
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
    detailed_monitoring = optional(bool, true) # EC2 MonitorInstances
  })
  default = {}
}

variable "snapshot_ids" {
  description = "Disaster recovery: restore servers' data volumes from these EBS snapshots (in the stack's region), by host name; ignored once a volume exists."
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
