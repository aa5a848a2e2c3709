variable "name" {
  description = "The load balancer's name."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,30}[a-zA-Z0-9]$", var.name))
    error_message = "name must be 2-32 letters, digits and hyphens."
  }
}

variable "internal" {
  description = "An internal load balancer (reached through the VPN or API Gateway) instead of an internet-facing one."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "The VPC the targets live in."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets for an internet-facing load balancer, private ones for an internal one; two zones at least."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list subnets in at least two zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the load balancer."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "access_log_bucket" {
  description = "Bucket (logging's access_log_bucket) that receives the access logs, under elb/."
  type        = string
}

variable "web_acl_arn" {
  description = "WAFv2 web ACL to protect an internet-facing load balancer with. Null: none."
  type        = string
  default     = null
}

variable "applications" {
  description = "Applications behind the load balancer: host names they answer, target port, health check path and the instances serving them, as name (e.g. host name) -> instance ID. The first by priority is also the default."
  type = map(object({
    priority          = number
    host_names        = list(string)
    port              = number
    health_check_path = optional(string, "/")
    instances         = map(string)
  }))

  validation {
    condition     = length(var.applications) > 0 && length(distinct([for a in values(var.applications) : a.priority])) == length(var.applications)
    error_message = "applications must list at least one application, each with its own priority."
  }

  validation {
    condition     = alltrue([for a in values(var.applications) : a.port >= 1 && a.port <= 65535 && a.priority >= 1 && a.priority <= 50000])
    error_message = "port must be 1-65535 and priority 1-50000."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion: a destroy must first turn this off in a reviewed change."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
