output "plan" {
  description = "Policy document (JSON) of the plan role: read-only on the managed resources."
  value       = jsonencode({ Version = "2012-10-17", Statement = [for s in local.documents.plan : merge(local.allow, s)] })
}

output "apply" {
  description = "Policy document (JSON) of the apply role: plan's reads plus writes to the managed resources, with explicit denies on the runners' own safety net."
  value = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([for s in local.documents.apply : merge(local.allow, s)], local.apply_denies)
  })
}

output "backup" {
  description = "Policy document (JSON) of the backup role: snapshot, copy and delete only what carries the backup tag."
  value       = jsonencode({ Version = "2012-10-17", Statement = [for s in local.documents.backup : merge(local.allow, s)] })
}

output "caller" {
  description = "Policy document (JSON) for the principal Jenkins runs as: assume the three runner roles and nothing else."
  value       = jsonencode({ Version = "2012-10-17", Statement = [for s in local.documents.caller : merge(local.allow, s)] })
}

output "role_arns" {
  description = "The ARNs the three roles will have, by duty."
  value       = local.roles
}
