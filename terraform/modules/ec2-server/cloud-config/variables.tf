variable "hostname" {
  description = "The server's short host name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.hostname))
    error_message = "hostname must be one DNS label: lower-case letters, digits and hyphens."
  }
}

variable "domain" {
  description = "The domain the server's fully qualified name ends in."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lower-case domain name without a trailing dot."
  }
}

variable "region" {
  description = "The AWS region the server runs in (for the CloudWatch agent)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "puppet_server" {
  description = "The Puppet server the agent reports to."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+$", var.puppet_server))
    error_message = "puppet_server must be a host name."
  }
}

variable "puppet_environment" {
  description = "The Puppet environment the server runs in."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z0-9_]+$", var.puppet_environment))
    error_message = "puppet_environment must be lower-case letters, digits and underscores (Puppet's rule)."
  }
}

variable "extra_packages" {
  description = "Debian packages to install besides the orchestration and logging ones."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.extra_packages : can(regex("^[a-z0-9][a-z0-9+.-]+$", p))])
    error_message = "extra_packages must be Debian package names."
  }
}

variable "debian_mirror" {
  description = "The Debian archive apt uses: the mainline repositories, not the cloud provider's mirror, over https."
  type        = string
  default     = "https://deb.debian.org/debian"

  validation {
    condition     = can(regex("^https://", var.debian_mirror))
    error_message = "debian_mirror must be an https URL."
  }
}

variable "debian_security_mirror" {
  description = "The Debian security archive."
  type        = string
  default     = "https://deb.debian.org/debian-security"

  validation {
    condition     = can(regex("^https://", var.debian_security_mirror))
    error_message = "debian_security_mirror must be an https URL."
  }
}

variable "timezone" {
  description = "The server's time zone."
  type        = string
  default     = "Etc/UTC"
}

variable "log_files" {
  description = "Files the CloudWatch agent ships, each to a log group (one stream per server)."
  type = list(object({
    path           = string
    log_group_name = string
  }))

  validation {
    condition     = length(var.log_files) > 0 && alltrue([for f in var.log_files : startswith(f.path, "/")])
    error_message = "log_files must list at least one absolute path."
  }
}

variable "data_volume" {
  description = "The EBS data volume to format (only when it has no file system) and mount. Null: none."
  type = object({
    volume_id   = string
    mount_point = string
  })
  default = null

  validation {
    condition     = var.data_volume == null ? true : (can(regex("^vol-[0-9a-f]+$", var.data_volume.volume_id)) && startswith(var.data_volume.mount_point, "/"))
    error_message = "data_volume needs a volume ID (vol-...) and an absolute mount point."
  }
}

variable "nfs_mounts" {
  description = "NFS file systems (EFS) to mount: server DNS name and mount point."
  type = list(object({
    dns_name    = string
    mount_point = string
  }))
  default = []

  validation {
    condition     = alltrue([for m in var.nfs_mounts : startswith(m.mount_point, "/")])
    error_message = "Each nfs_mounts mount_point must be an absolute path."
  }
}

variable "cloudwatch_agent_url" {
  description = "Where AWS publishes the CloudWatch agent's Debian package, its signature and its signing key."
  type        = string
  default     = "https://amazoncloudwatch-agent.s3.amazonaws.com"
}

variable "cloudwatch_agent_key_fingerprint" {
  description = "Fingerprint of the key that signs the CloudWatch agent package; the package is installed only if it verifies against a key with this fingerprint."
  type        = string
  default     = "937616F3450B7D806CBD9725D58167303B789C72"

  validation {
    condition     = can(regex("^[0-9A-F]{40}$", var.cloudwatch_agent_key_fingerprint))
    error_message = "cloudwatch_agent_key_fingerprint must be 40 upper-case hex digits."
  }
}
