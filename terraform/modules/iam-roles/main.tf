# How people reach the account: preset roles (billing, server logs, read-only,
# full administrator) and the client's custom ones, assumed through the
# team's SAML identity provider or, with MFA, from trusted accounts.

data "aws_partition" "current" {}

locals {
  p = data.aws_partition.current.partition

  presets = {
    for key, role in {
      # Reads bills, costs, budgets and invoices; changes nothing (no payment
      # methods, no budgets, no account settings). Full billing is a custom
      # role with job-function/Billing, given on purpose.
      billing = {
        enabled     = var.presets.billing
        description = "Read billing and cost information"
        managed     = ["arn:${local.p}:iam::aws:policy/AWSBillingReadOnlyAccess"]
        inline      = null
      }
      server-logs = {
        enabled     = var.presets.server_logs
        description = "Read the servers' logs in CloudWatch"
        managed     = []
        inline      = length(var.server_log_group_arns) > 0 ? data.aws_iam_policy_document.server_logs.json : null
      }
      # ReadOnlyAccess reads what the account is made of, and also the data
      # in it; the inline policy denies the data (local.data_reads).
      read-only = {
        enabled     = var.presets.read_only
        description = "Read the account's configuration, not its data"
        managed     = ["arn:${local.p}:iam::aws:policy/ReadOnlyAccess"]
        inline      = data.aws_iam_policy_document.no_data_reads.json
      }
      administrator = {
        enabled     = var.presets.administrator
        description = "Full administrator"
        managed     = ["arn:${local.p}:iam::aws:policy/AdministratorAccess"]
        inline      = null
      }
    } : key => role if role.enabled
  }

  custom = {
    for key, role in var.custom_roles : key => {
      description = role.description
      managed     = role.managed_policy_arns
      inline      = role.inline_policy_json
    }
  }

  roles = merge(local.presets, local.custom)

  session_hours = merge(
    { for key in keys(local.presets) : key => var.max_session_hours },
    { for key, role in var.custom_roles : key => role.max_session_hours },
  )

  attachments = merge([
    for key, role in local.roles : { for arn in role.managed : "${key} ${arn}" => { role = key, arn = arn } }
  ]...)
}

data "aws_iam_policy_document" "trust" {
  dynamic "statement" {
    for_each = var.saml_provider_arn == null ? [] : [var.saml_provider_arn]
    content {
      sid     = "TeamSignInThroughSaml"
      actions = ["sts:AssumeRoleWithSAML", "sts:TagSession"]
      principals {
        type        = "Federated"
        identifiers = [statement.value]
      }
      condition {
        test     = "StringEquals"
        variable = "SAML:aud"
        values   = ["https://signin.aws.amazon.com/saml"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.trusted_account_ids) == 0 ? [] : [var.trusted_account_ids]
    content {
      sid     = "TrustedAccountsWithMfa"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = [for id in statement.value : "arn:${local.p}:iam::${id}:root"]
      }
      condition {
        test     = "Bool"
        variable = "aws:MultiFactorAuthPresent"
        values   = ["true"]
      }
    }
  }
}

locals {
  # What ReadOnlyAccess grants beyond configuration: object contents, parameter
  # and secret values, decryption, table items, queue and stream records,
  # logs (the server-logs role reads those), instance consoles, function code.
  data_reads = [
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent",
    "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
    "ssm:GetDocument", "ssm:GetCommandInvocation",
    "secretsmanager:GetSecretValue", "kms:Decrypt",
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect",
    "sqs:ReceiveMessage", "kinesis:GetRecords",
    "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults", "logs:StartLiveTail",
    "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot", "ec2:GetPasswordData",
    "lambda:GetFunction", "codecommit:GetBlob", "codecommit:GetFile", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
    "athena:GetQueryResults",
  ]
}

data "aws_iam_policy_document" "no_data_reads" {
  statement {
    sid       = "NoDataReads"
    effect    = "Deny"
    actions   = local.data_reads
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "server_logs" {
  statement {
    sid       = "FindLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"] # DescribeLogGroups has no resource-level permissions
  }

  statement {
    sid = "ReadServerLogs"
    actions = [
      "logs:DescribeLogStreams",
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
      "logs:GetQueryResults",
      "logs:StartQuery",
    ]
    resources = length(var.server_log_group_arns) > 0 ? concat(var.server_log_group_arns, [for arn in var.server_log_group_arns : "${arn}:*"]) : ["arn:${local.p}:logs:*:*:log-group:/nonexistent"]
  }

  statement {
    sid       = "StopQueries"
    actions   = ["logs:StopQuery"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "this" {
  for_each = local.roles

  name                 = "${var.name_prefix}-${each.key}"
  description          = each.value.description
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = local.session_hours[each.key] * 3600
  tags                 = var.tags

  lifecycle {
    precondition {
      condition     = var.saml_provider_arn != null || length(var.trusted_account_ids) > 0
      error_message = "Give saml_provider_arn or trusted_account_ids: a role nobody can assume is of no use."
    }
  }
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = local.attachments

  role       = aws_iam_role.this[each.value.role].name
  policy_arn = each.value.arn
}

resource "aws_iam_role_policy" "this" {
  for_each = { for key, role in local.roles : key => role.inline if role.inline != null }

  name   = "${var.name_prefix}-${each.key}"
  role   = aws_iam_role.this[each.key].id
  policy = each.value
}
