output "plan" {
  description = "Policy document (JSON) of the plan role: read-only on the managed resources; writes only its plan records and Terraform's lock file."
  value = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([for s in local.documents.plan : merge(local.allow, s)], local.denies.plan)
  })
}

output "apply" {
  description = "Policy document (JSON) of the apply role: plan's reads plus writes to the managed resources, with explicit denies on the runners' own safety net."
  value = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([for s in local.documents.apply : merge(local.allow, s)], local.denies.apply)
  })
}

output "backup" {
  description = "Policy document (JSON) of the backup role: snapshot, copy and delete only what carries the backup tag."
  value = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([for s in local.documents.backup : merge(local.allow, s)], local.denies.backup)
  })
}

output "callers" {
  description = "By duty, the policy document (JSON) for that duty's principal: assume its own runner role and nothing else."
  value = {
    for duty, statements in local.runner_assume :
    duty => jsonencode({ Version = "2012-10-17", Statement = [for s in statements : merge(local.allow, s)] })
  }
}

output "trust" {
  description = "By duty, the role's trust policy (JSON): that duty's principals and Jenkins jobs only."
  value       = { for duty, statements in local.trust : duty => jsonencode({ Version = "2012-10-17", Statement = statements }) }
}

output "role_arns" {
  description = "The ARNs the three roles will have, by duty."
  value       = local.roles
}
