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

variable "domain" {
  description = "The private DNS zone of the servers and the internal API (each server is <name>.<domain>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)+$", var.domain))
    error_message = "domain must be a DNS name such as prod.acme.internal."
  }
}

variable "server_names" {
  description = "Host names of the servers stack's servers, which both load balancers send traffic to."
  type        = list(string)

  validation {
    condition     = length(var.server_names) > 0
    error_message = "server_names must name at least one server."
  }
}

variable "app_port" {
  description = "Port the servers' application listens on."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1 && var.app_port <= 65535
    error_message = "app_port must be 1-65535."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the public load balancer, in the stack's region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "web_host_names" {
  description = "Host names the public load balancer serves."
  type        = list(string)
}

variable "api" {
  description = "The API: internal certificate (in the stack's region), its host name inside domain, and the JWT issuer and audiences callers need."
  type = object({
    certificate_arn = string
    host_name       = string
    jwt_issuer      = string
    jwt_audiences   = list(string)
  })

  validation {
    condition     = endswith(var.api.host_name, ".${var.domain}")
    error_message = "api.host_name must be a name inside domain."
  }
}
