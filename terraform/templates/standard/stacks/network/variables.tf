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

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && endswith(var.vpc_cidr, "/16")
    error_message = "vpc_cidr must be an IPv4 /16 such as 10.20.0.0/16."
  }
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

variable "app_port" {
  description = "Port the servers' application listens on behind the load balancers."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1 && var.app_port <= 65535
    error_message = "app_port must be 1-65535."
  }
}
