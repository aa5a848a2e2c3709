variable "zone_name" {
  description = "The DNS zone, such as prod.acme.example."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.zone_name))
    error_message = "zone_name must be a lower-case domain name without a trailing dot."
  }
}

variable "private_vpc_ids" {
  description = "VPCs a private zone is visible in. Empty: a public zone."
  type        = list(string)
  default     = []
}

variable "records" {
  description = "Records by \"name type\" (name relative to the zone, \"@\" for the apex), or \"name type id\" for a failover pair: TTL and values, or an alias to a load balancer or another AWS target; optionally a failover role (PRIMARY or SECONDARY) with its set identifier and, for the primary, the health check that decides."
  type = map(object({
    ttl     = optional(number, 300)
    records = optional(list(string), [])
    alias = optional(object({
      name                   = string
      zone_id                = string
      evaluate_target_health = optional(bool, true)
    }))
    failover = optional(object({
      role           = string
      set_identifier = string
      health_check = optional(object({
        fqdn              = string
        port              = optional(number, 443)
        type              = optional(string, "HTTPS")
        resource_path     = optional(string, "/health")
        failure_threshold = optional(number, 3)
      }))
    }))
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.records) : can(regex("^(@|[a-z0-9_*][a-z0-9_.-]*) (A|AAAA|CNAME|MX|TXT|SRV|CAA|NS|PTR)( [a-z0-9-]+)?$", k))])
    error_message = "records keys must be \"<name> <type>\", such as \"www A\" or \"@ MX\", or \"<name> <type> <id>\" for one of a failover pair."
  }

  validation {
    condition = alltrue([for r in values(var.records) : r.failover == null ? true : (
      contains(["PRIMARY", "SECONDARY"], r.failover.role) &&
      (r.failover.role == "SECONDARY" || r.failover.health_check != null || try(r.alias.evaluate_target_health, false))
    )])
    error_message = "failover.role must be PRIMARY or SECONDARY, and a PRIMARY needs a health_check (or an alias that evaluates its target's health)."
  }

  validation {
    condition     = alltrue([for r in values(var.records) : try(contains(["HTTP", "HTTPS", "TCP"], r.failover.health_check.type), true)])
    error_message = "failover.health_check.type must be HTTP, HTTPS or TCP."
  }

  validation {
    condition     = alltrue([for r in values(var.records) : (r.alias == null) != (length(r.records) == 0)])
    error_message = "Each record has either records or an alias, not both and not neither."
  }

  validation {
    condition     = alltrue([for r in values(var.records) : r.ttl >= 30 && r.ttl <= 86400])
    error_message = "ttl must be between 30 and 86400 seconds."
  }
}

variable "query_log_group_arn" {
  description = "CloudWatch log group in us-east-1 (with a resource policy for Route 53) that receives a public zone's query logs. Null: no query logging."
  type        = string
  default     = null

  validation {
    condition     = var.query_log_group_arn == null ? true : can(regex("^arn:aws[a-z-]*:logs:us-east-1:", var.query_log_group_arn))
    error_message = "query_log_group_arn must be a log group in us-east-1: Route 53 writes query logs only there."
  }
}

variable "tags" {
  description = "Tags for the zone."
  type        = map(string)
  default     = {}
}
