# The client's data: the key everything at rest is encrypted with, the
# PostgreSQL database and the Valkey cache, in the network stack's data
# subnets behind its database and cache security groups.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "${var.client}-${var.environment}-${var.region}"
  backup_tag = { key = var.backup_tag_key, value = var.backup_policy }
}

data "aws_vpc" "this" {
  tags = { Name = local.name }
}

data "aws_subnets" "data" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.this.id]
  }
  tags = { Tier = "data" }
}

data "aws_security_group" "tier" {
  for_each = toset(["database", "cache"])

  vpc_id = data.aws_vpc.this.id
  name   = "${local.name}-${each.key}"
}

data "aws_iam_policy_document" "data_key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

# Volumes, database and cache. Its ARN goes into the bootstrap stack's
# data_kms_key_arns, so the backup role may copy their snapshots; the servers
# stack finds it by its alias.
resource "aws_kms_key" "data" {
  description             = "${local.name}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.data_key.json
}

resource "aws_kms_alias" "data" {
  name          = "alias/${local.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

module "database" {
  source = "../../modules/rds"

  identifier           = local.name
  engine_version       = var.database.engine_version
  instance_class       = var.database.instance_class
  allocated_storage_gb = var.database.allocated_storage_gb
  multi_az             = var.database.multi_az
  subnet_ids           = data.aws_subnets.data.ids
  security_group_ids   = [data.aws_security_group.tier["database"].id]
  kms_key_arn          = aws_kms_key.data.arn
  snapshot_identifier  = var.snapshot_identifier
  restore_kms_key_arn  = var.database_kms_key_arn
  backup_tag           = local.backup_tag
}

module "cache" {
  source = "../../modules/elasticache"
  count  = var.features.cache ? 1 : 0

  name               = local.name
  node_type          = var.cache.node_type
  nodes              = var.cache.nodes
  subnet_ids         = data.aws_subnets.data.ids
  security_group_ids = [data.aws_security_group.tier["cache"].id]
  kms_key_arn        = aws_kms_key.data.arn
  auth_token         = var.cache_auth_token
  log_group_name     = "/${local.name}/cache"
}
