# What the runners stand on, applied by an administrator with their own
# credentials (the runner roles cannot create or change themselves): the
# state bucket and its replica in the backup region, the backup region's key,
# the access-log buckets, and the runner roles.
#
# `runners bootstrap --env <env>` creates the state bucket, its key, the
# replica, its key and the replication with boto3 before any Terraform runs,
# and writes imports.tf here: the first apply adopts them, and Terraform owns
# them from then on. No local state, no -migrate-state.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name = "${var.client}-${var.environment}"
  tags = {
    Client      = var.client
    Environment = var.environment
    ManagedBy   = "terraform"
    Stack       = "bootstrap"
  }
  account = data.aws_caller_identity.current.account_id
  role    = "arn:${data.aws_partition.current.partition}:iam::${local.account}:role"
}

module "access_logs" {
  source = "../../modules/logging"

  name                   = "${local.name}-bootstrap"
  log_groups             = {}
  access_log_bucket_name = "${local.name}-access-logs-${var.region}"
}

module "backup_access_logs" {
  source    = "../../modules/logging"
  providers = { aws = aws.backup }

  name                   = "${local.name}-bootstrap"
  log_groups             = {}
  access_log_bucket_name = "${local.name}-access-logs-${var.backup_region}"
}

module "state" {
  source = "../../modules/state-backend"

  bucket_name       = var.state_bucket_name
  access_log_bucket = module.access_logs.access_log_bucket
  # Only the apply role writes apply records and removes the runners' stack
  # locks; named by the ARN runner_role gives it.
  apply_role_arns = ["${local.role}/${local.name}-runners-apply"]
}

module "backup_region" {
  source    = "../../modules/backup-region"
  providers = { aws = aws, aws.backup = aws.backup }

  name              = local.name
  source_buckets    = { state = { bucket = module.state.bucket_name, kms_key_arn = module.state.kms_key_arn } }
  access_log_bucket = module.backup_access_logs.access_log_bucket
}

module "runner_role" {
  source = "../../modules/runner-role"

  name                  = "${local.name}-runners"
  plan_principal_arns   = [var.runner_principal_arns.plan]
  apply_principal_arns  = [var.runner_principal_arns.apply]
  backup_principal_arns = [var.runner_principal_arns.backup]
  regions               = [var.region, var.backup_region]
  state_bucket_arn      = module.state.bucket_arn
  state_kms_key_arn     = module.state.kms_key_arn
  bucket_name_prefix    = "${local.name}-"
  backup_kms_key_arns   = concat([module.backup_region.kms_key_arn], var.data_kms_key_arns)
  protected_arns = [
    module.backup_region.bucket_arn,
    "${module.backup_region.bucket_arn}/*",
    module.backup_region.kms_key_arn,
    module.state.kms_key_arn,
  ]
}
