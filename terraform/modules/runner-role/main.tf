# Three roles, one per duty, so each job holds only what it needs:
#   <name>-plan    read the managed resources and the state; take Terraform's
#                  lock; write its plan records; DR look-ups.
#   <name>-apply   plan's reads plus writes to the managed resources, the
#                  runners' stack locks and apply records, and explicit denies
#                  on the runners' own safety net.
#   <name>-backup  snapshot, copy and delete only what carries the backup tag.
# Each role trusts its own duty's principal only (plan_principal_arns, ...,
# and optionally Jenkins jobs through OIDC), so the plan principal, whose keys
# the merge-request zone holds, can never assume apply or backup.
# The documents, trust policies included, come from ./policies, which the
# runners' tests evaluate for every principal and check against the AWS calls
# the code declares.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

module "policies" {
  source = "./policies"

  partition            = data.aws_partition.current.partition
  account_id           = data.aws_caller_identity.current.account_id
  regions              = var.regions
  role_name_prefix     = var.name
  state_bucket_arn     = var.state_bucket_arn
  state_kms_key_arn    = var.state_kms_key_arn
  runner_key_prefix    = var.runner_key_prefix
  bucket_name_prefix   = var.bucket_name_prefix
  backup_tag_key       = var.backup_tag_key
  snapshot_tag_key     = var.snapshot_tag_key
  snapshot_name_prefix = var.snapshot_name_prefix
  backup_kms_key_arns  = var.backup_kms_key_arns
  backup_bucket_arn    = var.backup_bucket_arn
  protected_arns       = var.protected_arns

  plan_principal_arns   = var.plan_principal_arns
  apply_principal_arns  = var.apply_principal_arns
  backup_principal_arns = var.backup_principal_arns
  external_id           = var.external_id
  jenkins_oidc          = var.jenkins_oidc
}

locals {
  duties = {
    plan   = module.policies.plan
    apply  = module.policies.apply
    backup = module.policies.backup
  }
}

resource "aws_iam_role" "runner" {
  for_each = local.duties

  name                 = "${var.name}-${each.key}"
  description          = "runners: ${each.key}"
  assume_role_policy   = module.policies.trust[each.key]
  max_session_duration = var.session_hours[each.key] * 3600
  tags                 = var.tags
}

# One resource per duty rather than for_each, so checkov follows each
# document from the policies module.
resource "aws_iam_role_policy" "plan" {
  name   = "runners-plan"
  role   = aws_iam_role.runner["plan"].id
  policy = module.policies.plan
}

resource "aws_iam_role_policy" "apply" {
  name   = "runners-apply"
  role   = aws_iam_role.runner["apply"].id
  policy = module.policies.apply
}

resource "aws_iam_role_policy" "backup" {
  name   = "runners-backup"
  role   = aws_iam_role.runner["backup"].id
  policy = module.policies.backup
}
