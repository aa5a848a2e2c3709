output "saml_provider_arn" {
  description = "The identity provider, for the IdP's Role attribute."
  value       = module.saml.arn
}

output "role_arns" {
  description = "Role ARN by role key, for the IdP's Role attribute."
  value       = module.roles.role_arns
}
