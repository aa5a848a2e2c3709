# The demo client's stack: servers from one module with for_each, a database
# whose password is sensitive, and a DNS record. Only terraform_data and the
# built-in provider, so it plans and applies offline against the embedded AWS
# (the S3 state backend is the only AWS it touches).

terraform {
  required_version = ">= 1.5"
  backend "s3" {}
}

variable "environment" {
  description = "development or production."
  type        = string
}

variable "servers" {
  description = "Server name to size label."
  type        = map(string)
  default = {
    web-1 = "small"
    web-2 = "small"
  }
}

variable "db_password" {
  description = "The database master password."
  type        = string
  sensitive   = true
  default     = "demo-only-not-a-secret"
}

module "server" {
  source   = "../../modules/demo-service"
  for_each = var.servers

  name        = each.key
  environment = var.environment
  size        = each.value
}

variable "db_engine_version" {
  description = "Major PostgreSQL version; changing it replaces the database."
  type        = string
  default     = "16"
}

resource "terraform_data" "database" {
  input = {
    engine   = "postgres"
    version  = var.db_engine_version
    password = var.db_password
  }
  triggers_replace = [var.db_engine_version]
}

resource "terraform_data" "dns" {
  input = { for name, server in module.server : name => server.fqdn }
}

output "servers" {
  description = "FQDN of each server."
  value       = { for name, server in module.server : name => server.fqdn }
}
