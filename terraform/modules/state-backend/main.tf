# The bucket every stack's Terraform state lives in. Terraform's S3 backend
# locks with a lock file in the same bucket (use_lockfile = true, S3
# conditional writes), so no DynamoDB table is needed. Versioned so a bad
# write can be rolled back, KMS-encrypted, TLS-only, never public.
#
# The runners' audit trail lives here too, under Object Lock: every version
# is retained (object_lock_days), and the bucket policy denies removing or
# shortening the retention of a record to every principal, and writing apply
# records or removing stack locks to all but the apply role.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  bucket_arn   = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
  audit        = "${local.bucket_arn}/${var.runner_key_prefix}audit/*"
  plan_records = "${local.bucket_arn}/${var.runner_key_prefix}plan-records/*"
  stack_locks  = "${local.bucket_arn}/${var.runner_key_prefix}locks/*"
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself; the account-root statement is AWS's default key policy, which hands control to IAM policies.
  # The account root keeps control of the key, so IAM policies (such as the
  # runner roles') decide who may use it; without this the key can become
  # unmanageable.
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = concat([local.account_root], var.key_administrator_arns)
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "Terraform state in s3://${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "state" {
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.state.key_id
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_144:State is copied to the backup region by the backup-region module's replication rule, configured there.
  #checkov:skip=CKV2_AWS_62:Nothing consumes state-change events; the runners' audit records say who changed what.
  bucket = var.bucket_name
  tags   = var.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Object Lock on every version the bucket keeps: state, the runners' audit and
# plan records, lock files. A deletion only adds a delete marker (Terraform's
# lock file is released that way); the locked versions stay. Enabling it on
# an existing, versioned bucket needs no replacement.
resource "aws_s3_bucket_object_lock_configuration" "state" {
  bucket              = aws_s3_bucket.state.id
  object_lock_enabled = "Enabled"

  rule {
    default_retention {
      mode = var.object_lock_mode
      days = var.object_lock_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "state" {
  bucket        = aws_s3_bucket.state.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${var.bucket_name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
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

  statement {
    sid       = "DenyUnencryptedObjectUploads"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }
}

# The audit trail: no principal removes a record or its retention, whatever
# its IAM policy says; only the apply role writes apply records and removes
# the runners' stack locks; governance retention is bypassed by the named
# administrators alone.
data "aws_iam_policy_document" "records" {
  source_policy_documents = [data.aws_iam_policy_document.bucket.json]

  statement {
    sid    = "DenyErasingRunnerRecords"
    effect = "Deny"
    actions = [
      "s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion",
      "s3:PutObjectLegalHold", "s3:PutObjectRetention",
    ]
    resources = [local.audit, local.plan_records]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.apply_role_arns) == 0 ? [] : [var.apply_role_arns]
    content {
      sid       = "DenyApplyRecordsButFromTheApplyRole"
      effect    = "Deny"
      actions   = ["s3:PutObject"]
      resources = [local.audit]
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.apply_role_arns) == 0 ? [] : [concat(var.apply_role_arns, var.lock_administrator_arns)]
    content {
      sid       = "DenyStackLockRemovalButByTheApplyRole"
      effect    = "Deny"
      actions   = ["s3:DeleteObject"]
      resources = [local.stack_locks]
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = statement.value
      }
    }
  }

  statement {
    sid       = "DenyBypassingRetention"
    effect    = "Deny"
    actions   = ["s3:BypassGovernanceRetention"]
    resources = ["${local.bucket_arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    dynamic "condition" {
      for_each = length(var.retention_administrator_arns) == 0 ? [] : [var.retention_administrator_arns]
      content {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = condition.value
      }
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.records.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}
