variable "name_prefix" {
  description = "Prefix of every role name: <prefix>-billing, <prefix>-server-logs, <prefix>-read-only, <prefix>-administrator, <prefix>-<custom>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 1-40 characters valid in an IAM role name."
  }
}

variable "saml_provider_arn" {
  description = "The SAML identity provider the team signs in through (saml-idp's arn). Null: no SAML trust."
  type        = string
  default     = null

  validation {
    condition     = var.saml_provider_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:saml-provider/", var.saml_provider_arn))
    error_message = "saml_provider_arn must be an IAM SAML provider ARN."
  }
}

variable "trusted_account_ids" {
  description = "Accounts whose IAM users may assume the roles, with MFA (the team's own account, for instance)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.trusted_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "trusted_account_ids must be 12-digit account IDs."
  }
}

variable "presets" {
  description = "Which preset roles to create."
  type = object({
    billing       = optional(bool, true)
    server_logs   = optional(bool, true)
    read_only     = optional(bool, true)
    administrator = optional(bool, true)
  })
  default = {}
}

variable "server_log_group_arns" {
  description = "Log groups the server-logs role may read (logging's log_group_arns)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.server_log_group_arns : can(regex("^arn:aws[a-z-]*:logs:", arn))])
    error_message = "server_log_group_arns must be CloudWatch Logs log group ARNs."
  }
}

variable "custom_roles" {
  description = "Client-specific roles: name suffix to description, AWS managed or customer policy ARNs, and an optional inline policy (JSON)."
  type = map(object({
    description         = string
    managed_policy_arns = optional(list(string), [])
    inline_policy_json  = optional(string)
    max_session_hours   = optional(number, 1)
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.custom_roles) : can(regex("^[a-z0-9][a-z0-9-]{0,30}$", k)) && !contains(["billing", "server-logs", "read-only", "administrator"], k)])
    error_message = "custom_roles keys must be lower-case names of up to 31 characters, other than the preset names."
  }

  validation {
    condition     = alltrue([for r in values(var.custom_roles) : r.max_session_hours >= 1 && r.max_session_hours <= 12])
    error_message = "max_session_hours must be between 1 and 12."
  }
}

variable "max_session_hours" {
  description = "Longest console or CLI session for the preset roles."
  type        = number
  default     = 8

  validation {
    condition     = var.max_session_hours >= 1 && var.max_session_hours <= 12
    error_message = "max_session_hours must be between 1 and 12."
  }
}

variable "tags" {
  description = "Tags for every role."
  type        = map(string)
  default     = {}
}
