variable "name" {
  description = "The API's name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$", var.name))
    error_message = "name must be 1-128 letters, digits, '_' and '-'."
  }
}

variable "subnet_ids" {
  description = "Private subnets the VPC link reaches the load balancer from."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list subnets in at least two zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the VPC link (the load balancer must accept them)."
  type        = list(string)
}

variable "listener_arn" {
  description = "The internal load balancer's HTTPS listener the API forwards to (load-balancer's https_listener_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:elasticloadbalancing:.*:listener/", var.listener_arn))
    error_message = "listener_arn must be a load balancer listener ARN."
  }
}

variable "tls_server_name" {
  description = "Host name the load balancer's certificate is for; API Gateway verifies it on the way in."
  type        = string
}

variable "jwt_authorizer" {
  description = "Who may call the API: the OpenID Connect issuer and the audiences its tokens must carry."
  type = object({
    issuer    = string
    audiences = list(string)
  })

  validation {
    condition     = startswith(var.jwt_authorizer.issuer, "https://") && length(var.jwt_authorizer.audiences) > 0
    error_message = "jwt_authorizer needs an https issuer URL and at least one audience."
  }
}

variable "routes" {
  description = "Route keys (\"GET /orders\", \"ANY /{proxy+}\") to the scopes a token needs for them ([] for any valid token)."
  type        = map(list(string))

  validation {
    condition     = length(var.routes) > 0 && alltrue([for k in keys(var.routes) : can(regex("^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /", k))])
    error_message = "routes keys must be \"METHOD /path\"."
  }
}

variable "access_log_group_arn" {
  description = "CloudWatch log group (from logging) for the access logs."
  type        = string
}

variable "throttle" {
  description = "Default throttling: steady requests per second and burst."
  type = object({
    rate_limit  = optional(number, 100)
    burst_limit = optional(number, 200)
  })
  default = {}
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}
