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
  description = "By duty (plan, apply, backup), the policy for that duty's principal: it may assume its own role and nothing else. Give the principals no other permissions."
  value       = module.policies.callers
}

output "trust_policy_json" {
  description = "By duty, the role's trust policy (JSON), as attached."
  value       = module.policies.trust
}

output "policy_documents" {
  description = "The three roles' policy documents (JSON), by duty."
  value       = local.duties
}
