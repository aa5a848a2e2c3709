output "role_arns" {
  description = "Role ARN by role key (billing, server-logs, read-only, administrator and the custom ones): what the IdP sends in the Role attribute."
  value       = { for key, role in aws_iam_role.this : key => role.arn }
}

output "role_names" {
  description = "Role name by role key."
  value       = { for key, role in aws_iam_role.this : key => role.name }
}
