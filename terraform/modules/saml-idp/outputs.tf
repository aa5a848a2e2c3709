output "arn" {
  description = "The provider's ARN: iam-roles trusts it, and the IdP sends it with each role in the SAML assertion."
  value       = aws_iam_saml_provider.this.arn
}

output "valid_until" {
  description = "When the metadata's signing certificate expires; renew the metadata before then."
  value       = aws_iam_saml_provider.this.valid_until
}
