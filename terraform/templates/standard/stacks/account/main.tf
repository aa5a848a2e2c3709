# How people reach the account: the team's SAML identity provider and the
# preset and custom roles it signs them into. Global (IAM), so this stack is
# not rebuilt in the backup region: disaster recovery reuses it as it is.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name = "${var.client}-${var.environment}"
}

module "saml" {
  source = "../../modules/saml-idp"

  name         = "${local.name}-sso"
  metadata_xml = file("${path.module}/${var.saml_metadata_file}")
}

module "roles" {
  source = "../../modules/iam-roles"

  name_prefix         = local.name
  saml_provider_arn   = module.saml.arn
  trusted_account_ids = var.trusted_account_ids
  # The servers' log groups (the logging stack's /<client>-<env>-<region>/servers/...),
  # in any region (DR included); not the network's, the cache's or the API's.
  server_log_group_arns = [
    "arn:${data.aws_partition.current.partition}:logs:*:${data.aws_caller_identity.current.account_id}:log-group:/${local.name}-*/servers/*",
  ]
  custom_roles = var.custom_roles
}
