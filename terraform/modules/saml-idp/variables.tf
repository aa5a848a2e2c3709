variable "name" {
  description = "Name of the identity provider in IAM, as it appears in role ARNs and the IdP's configuration."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,128}$", var.name))
    error_message = "name must be 1-128 letters, digits, '.', '_' or '-'."
  }
}

variable "metadata_xml" {
  description = "The SAML metadata document the team's identity provider publishes (XML)."
  type        = string

  validation {
    condition     = can(regex("EntityDescriptor", var.metadata_xml)) && length(var.metadata_xml) >= 1000 && length(var.metadata_xml) <= 10000000
    error_message = "metadata_xml must be the IdP's SAML metadata document (an EntityDescriptor, 1 kB to 10 MB)."
  }
}

variable "tags" {
  description = "Tags for the provider."
  type        = map(string)
  default     = {}
}
