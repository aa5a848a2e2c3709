output "backend_config" {
  description = "For runners.toml's [environments.<env>.backend]."
  value       = module.state.backend_config
}

output "runner_role_arns" {
  description = "The runner roles, by duty (plan, apply, backup)."
  value = {
    plan   = module.runner_role.plan_role_arn
    apply  = module.runner_role.apply_role_arn
    backup = module.runner_role.backup_role_arn
  }
}

output "jenkins_policy_json" {
  description = "By duty, the policy to attach to that duty's principal: assume its own runner role, nothing else."
  value       = module.runner_role.caller_policy_json
}

output "backup_region" {
  description = "The backup region's bucket and key."
  value = {
    region      = module.backup_region.region
    bucket      = module.backup_region.bucket_name
    kms_key_arn = module.backup_region.kms_key_arn
  }
}
