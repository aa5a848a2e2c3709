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

variable "saml_metadata_file" {
  description = "The team's identity provider metadata, relative to this stack."
  type        = string
  default     = "saml-metadata.xml"
}

variable "trusted_account_ids" {
  description = "The team's own account, whose IAM users may assume the roles with MFA (break-glass when the IdP is down)."
  type        = list(string)
  default     = []
}

variable "custom_roles" {
  description = "The client's own roles (see iam-roles' custom_roles)."
  type = map(object({
    description         = string
    managed_policy_arns = optional(list(string), [])
    inline_policy_json  = optional(string)
    max_session_hours   = optional(number, 1)
  }))
  default = {}
}
