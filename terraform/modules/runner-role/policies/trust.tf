# Who may assume each runner role. Each role trusts its own duty's principals
# only, in statements of its own: the plan principal (whose keys the
# merge-request zone holds) cannot become apply or backup, and no principal
# holds two duties. tests/test_runner_policy.py evaluates these documents for
# every principal they name.

locals {
  principal_arns = {
    plan   = var.plan_principal_arns
    apply  = var.apply_principal_arns
    backup = var.backup_principal_arns
  }
  sids = { plan = "Plan", apply = "Apply", backup = "Backup" }

  # Source identity and session tags carry the build and the approver into
  # CloudTrail: AssumeRole and AssumeRoleWithWebIdentity need these to set them.
  session_actions = ["sts:SetSourceIdentity", "sts:TagSession"]

  external_id = var.external_id == null ? {} : {
    Condition = { StringEquals = { "sts:ExternalId" = var.external_id } }
  }

  oidc_subjects = var.jenkins_oidc == null ? { plan = [], apply = [], backup = [] } : {
    plan   = var.jenkins_oidc.plan_subjects
    apply  = var.jenkins_oidc.apply_subjects
    backup = var.jenkins_oidc.backup_subjects
  }

  trust = {
    for duty, sid in local.sids : duty => concat(
      length(local.principal_arns[duty]) == 0 ? [] : [merge({
        Sid       = "Trust${sid}Principal"
        Effect    = "Allow"
        Principal = { AWS = local.principal_arns[duty] }
        Action    = concat(["sts:AssumeRole"], local.session_actions)
      }, local.external_id)],
      length(local.oidc_subjects[duty]) == 0 ? [] : [{
        Sid       = "Trust${sid}JenkinsJobs"
        Effect    = "Allow"
        Principal = { Federated = var.jenkins_oidc.provider_arn }
        Action    = concat(["sts:AssumeRoleWithWebIdentity"], local.session_actions)
        Condition = {
          StringEquals = {
            "${var.jenkins_oidc.issuer}:aud" = [var.jenkins_oidc.audiences[duty]]
            "${var.jenkins_oidc.issuer}:sub" = local.oidc_subjects[duty]
          }
        }
      }],
    )
  }
}
