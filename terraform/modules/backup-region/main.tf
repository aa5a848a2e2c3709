# The backup region's side of the account: a KMS key there (EBS and RDS
# snapshot copies are re-encrypted with it, and the replica bucket uses it),
# and a versioned bucket that primary-region buckets replicate into.
#
# Deletes are not replicated: an object deleted in the primary region stays
# in the backup region until its lifecycle expires it. That is the point of a
# backup.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "backup" {
  provider = aws.backup
}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  source_keys  = compact([for s in values(var.source_buckets) : s.kms_key_arn])
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }
}

resource "aws_kms_key" "backup" {
  provider                = aws.backup
  description             = "${var.name}: backups in ${data.aws_region.backup.name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "backup" {
  provider      = aws.backup
  name          = "alias/${var.name}-backup"
  target_key_id = aws_kms_key.backup.key_id
}

resource "aws_s3_bucket" "replica" {
  #checkov:skip=CKV_AWS_144:This bucket is the cross-region replica; replicating it again would copy backups back to the primary region.
  #checkov:skip=CKV2_AWS_62:Nothing consumes replica events; replication metrics and the runners' reports watch it.
  provider = aws.backup
  bucket   = "${var.name}-backup-${data.aws_region.backup.name}"
  tags     = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "replica" {
  provider = aws.backup
  bucket   = aws_s3_bucket.replica.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "replica" {
  provider = aws.backup
  bucket   = aws_s3_bucket.replica.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.backup.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "replica" {
  provider                = aws.backup
  bucket                  = aws_s3_bucket.replica.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "replica" {
  provider = aws.backup
  bucket   = aws_s3_bucket.replica.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "replica" {
  provider      = aws.backup
  bucket        = aws_s3_bucket.replica.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${aws_s3_bucket.replica.id}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "replica" {
  provider = aws.backup
  bucket   = aws_s3_bucket.replica.id

  # No transition to an archive class, ever: disaster recovery reads the
  # replicated state with GetObject, which an archived object refuses
  # (InvalidObjectState) until a restore that takes hours.
  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.replica]
}

data "aws_iam_policy_document" "replica_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.replica.arn, "${aws_s3_bucket.replica.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "replica" {
  provider = aws.backup
  bucket   = aws_s3_bucket.replica.id
  policy   = data.aws_iam_policy_document.replica_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.replica]
}

# The role S3 replication runs as: read the sources' versions, write replicas.
data "aws_iam_policy_document" "replication_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "replication" {
  name               = "${var.name}-s3-replication"
  assume_role_policy = data.aws_iam_policy_document.replication_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "replication" {
  statement {
    sid       = "ReadSourceConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [for s in values(var.source_buckets) : "arn:${data.aws_partition.current.partition}:s3:::${s.bucket}"]
  }

  statement {
    sid = "ReadSourceVersions"
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = [for s in values(var.source_buckets) : "arn:${data.aws_partition.current.partition}:s3:::${s.bucket}/*"]
  }

  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateTags"]
    resources = ["${aws_s3_bucket.replica.arn}/*"]
  }

  dynamic "statement" {
    for_each = length(local.source_keys) > 0 ? [1] : []
    content {
      sid       = "DecryptSources"
      actions   = ["kms:Decrypt"]
      resources = local.source_keys
    }
  }

  statement {
    sid       = "EncryptReplicas"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.backup.arn]
  }
}

resource "aws_iam_role_policy" "replication" {
  name   = "replicate-to-${data.aws_region.backup.name}"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}

# Keyed by the caller's labels, known at plan time; a bucket's name may not
# be until the bucket exists.
resource "aws_s3_bucket_replication_configuration" "source" {
  for_each = var.source_buckets

  bucket = each.value.bucket
  role   = aws_iam_role.replication.arn

  rule {
    id       = "to-${data.aws_region.backup.name}"
    status   = "Enabled"
    priority = 1
    filter {}

    delete_marker_replication {
      status = "Disabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket        = aws_s3_bucket.replica.arn
      storage_class = var.replica_storage_class
      encryption_configuration {
        replica_kms_key_id = aws_kms_key.backup.arn
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.replica]
}
