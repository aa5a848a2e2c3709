# Three roles, one per duty, so each job holds only what it needs:
#   <name>-plan    read the managed resources and the state; take Terraform's
#                  lock; the runners' locks and audit records; DR look-ups.
#   <name>-apply   plan's reads plus writes to the managed resources, and
#                  explicit denies on the runners' own safety net.
#   <name>-backup  snapshot, copy and delete only what carries the backup tag.
# The documents come from ./policies, which the runners' tests evaluate and
# check against the AWS calls the code declares.

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
  snapshot_name_prefix = var.snapshot_name_prefix
  backup_kms_key_arns  = var.backup_kms_key_arns
  protected_arns       = var.protected_arns
}

locals {
  duties = {
    plan   = module.policies.plan
    apply  = module.policies.apply
    backup = module.policies.backup
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.trusted_principal_arns
    }
    dynamic "condition" {
      for_each = var.external_id == null ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }
  }
}

resource "aws_iam_role" "runner" {
  for_each = local.duties

  name                 = "${var.name}-${each.key}"
  description          = "runners: ${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.session_hours[each.key] * 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "runner" {
  #checkov:skip=CKV_AWS_290:Apply manages the account's resources; writes are limited to this account, its two regions and named services (see policies/main.tf).
  #checkov:skip=CKV_AWS_289:Apply manages the account's IAM roles and KMS key policies, which the stacks declare; it is denied the runners' own roles, state and backups.
  #checkov:skip=CKV_AWS_286:Apply creates the access roles the stacks declare (the issue's preset roles include full administrator); only a reviewed plan is applied.
  #checkov:skip=CKV_AWS_355:Only actions without resource-level permissions use "*" (Describe/List, kms:CreateKey); checkov cannot see that.
  for_each = local.duties

  name   = "runners-${each.key}"
  role   = aws_iam_role.runner[each.key].id
  policy = each.value
}
