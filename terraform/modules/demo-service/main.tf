# A stand-in for one service of the client's layout, built only from what
# Terraform runs offline (terraform_data), so the demo and the tests need no
# provider download.

terraform {
  required_version = ">= 1.5"
}

variable "name" {
  description = "The service's name, unique in the stack."
  type        = string
}

variable "environment" {
  description = "The environment the service runs in."
  type        = string
}

variable "size" {
  description = "Instance size label."
  type        = string
  default     = "small"
}

resource "terraform_data" "server" {
  input = {
    name        = var.name
    environment = var.environment
    size        = var.size
    fqdn        = "${var.name}.${var.environment}.example.internal"
  }
}

output "fqdn" {
  description = "The server's fully qualified name."
  value       = terraform_data.server.output.fqdn
}
