output "plan_role_arn" {
  description = "Role for plan and drift jobs, and disaster-recovery planning."
  value       = aws_iam_role.runner["plan"].arn
}

output "apply_role_arn" {
  description = "Role for apply jobs only."
  value       = aws_iam_role.runner["apply"].arn
}

output "backup_role_arn" {
  description = "Role for backup, ship, prune, report and verify jobs."
  value       = aws_iam_role.runner["backup"].arn
}

output "caller_policy_json" {
  description = "Attach this to the identity Jenkins runs as: it may assume the three roles and nothing else."
  value       = module.policies.caller
}

output "policy_documents" {
  description = "The three roles' policy documents (JSON), by duty."
  value       = local.duties
}
