variable "name" {
  description = "Name prefix of the VPC and everything in it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 lower-case letters, digits and hyphens."
  }
}

variable "cidr_block" {
  description = "The VPC's IPv4 range, /16 to /24. Each tier gets one subnet per zone, carved from it."
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 24
    error_message = "cidr_block must be an IPv4 CIDR between /16 and /24, such as 10.20.0.0/16."
  }
}

variable "availability_zones" {
  description = "Zones to spread the subnets over (two or three)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list two or three distinct zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, for development) instead of one per zone."
  type        = bool
  default     = false
}

variable "flow_log_group_arn" {
  description = "CloudWatch log group (from logging) that receives the VPC flow logs."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:logs:", var.flow_log_group_arn))
    error_message = "flow_log_group_arn must be a CloudWatch Logs log group ARN."
  }
}

variable "vpn" {
  description = "Site-to-site VPN to the client's office or data centre. Null: no VPN."
  type = object({
    customer_gateway_ip  = string
    bgp_asn              = optional(number, 65000)
    static_routes        = optional(list(string), [])
    tunnel_log_group_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.vpn == null ? true : can(cidrhost("${var.vpn.customer_gateway_ip}/32", 0))
    error_message = "vpn.customer_gateway_ip must be the public IPv4 address of the client's VPN device."
  }

  validation {
    condition     = var.vpn == null ? true : alltrue([for r in var.vpn.static_routes : can(cidrhost(r, 0))])
    error_message = "vpn.static_routes must be IPv4 CIDRs of the client's networks; leave it empty to use BGP."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
