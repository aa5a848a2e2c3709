# The SAML identity provider that presents the team's users to AWS. The
# preset roles (iam-roles) trust it; users pick a role when they sign in.

resource "aws_iam_saml_provider" "this" {
  name                   = var.name
  saml_metadata_document = var.metadata_xml
  tags                   = var.tags
}
