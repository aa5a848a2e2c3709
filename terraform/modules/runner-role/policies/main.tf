# The runner roles' policy documents, as data.
#
# Statements whose Sid starts with "Runner" grant the AWS calls the runners
# make themselves (locks, audit records, backups, disaster-recovery lookups).
# tests/test_runner_policy.py holds them to the operations the code declares
# (AWS_OPERATIONS): every declared call must be granted, and no Runner
# statement may grant an action no declared call needs.
#
# The other statements give Terraform what the managed resources need: plan
# reads them, apply also writes them. Those follow the modules, not the code.

locals {
  p    = var.partition
  acct = var.account_id
  tag  = var.snapshot_tag_key

  roles = {
    for duty in ["plan", "apply", "backup"] :
    duty => "arn:${local.p}:iam::${local.acct}:role/${var.role_name_prefix}-${duty}"
  }

  state_objects = "${var.state_bucket_arn}/*"
  runner_prefix = var.runner_key_prefix
  buckets       = "arn:${local.p}:s3:::${var.bucket_name_prefix}*"

  in_regions = { StringEquals = { "aws:RequestedRegion" = var.regions } }

  # --- Terraform: read everything the modules manage ------------------------
  terraform_read = [
    {
      # These Describe/List calls do not support resource-level permissions.
      Sid = "TerraformReadUnscoped"
      Action = [
        "ec2:Describe*",
        "ec2:GetEbsDefaultKmsKeyId",
        "ec2:GetEbsEncryptionByDefault",
        "elasticloadbalancing:Describe*",
        "kms:ListAliases",
        "elasticache:DescribeCacheEngineVersions",
        "logs:DescribeLogGroups",
        "rds:DescribeDBEngineVersions",
        "route53:ListHostedZones",
        "sns:GetSubscriptionAttributes",
        "sns:ListTopics",
        "sqs:ListQueues",
      ]
      Resource = "*"
    },
    {
      Sid = "TerraformReadAccount"
      Action = [
        "elasticache:Describe*",
        "elasticache:ListTagsForResource",
        "elasticfilesystem:Describe*",
        "elasticfilesystem:ListTagsForResource",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
        "logs:ListTagsForResource",
        "logs:ListTagsLogGroup",
        "rds:Describe*",
        "rds:ListTagsForResource",
        "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:ListTagsForResource",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueueTags",
      ]
      Resource = [
        "arn:${local.p}:elasticache:*:${local.acct}:*",
        "arn:${local.p}:elasticfilesystem:*:${local.acct}:*",
        "arn:${local.p}:kms:*:${local.acct}:key/*",
        "arn:${local.p}:logs:*:${local.acct}:log-group:*",
        "arn:${local.p}:rds:*:${local.acct}:*",
        "arn:${local.p}:sns:*:${local.acct}:*",
        "arn:${local.p}:sqs:*:${local.acct}:*",
      ]
    },
    {
      Sid = "TerraformReadIam"
      Action = [
        "iam:GetInstanceProfile",
        "iam:GetOpenIDConnectProvider",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:GetSAMLProvider",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListPolicyVersions",
        "iam:ListRolePolicies",
      ]
      Resource = [
        "arn:${local.p}:iam::${local.acct}:instance-profile/*",
        "arn:${local.p}:iam::${local.acct}:policy/*",
        "arn:${local.p}:iam::${local.acct}:role/*",
        "arn:${local.p}:iam::${local.acct}:saml-provider/*",
        "arn:${local.p}:iam::${local.acct}:oidc-provider/*",
        "arn:${local.p}:iam::aws:policy/*",
      ]
    },
    {
      Sid = "TerraformReadDns"
      Action = [
        "route53:GetChange",
        "route53:GetHostedZone",
        "route53:GetDNSSEC",
        "route53:ListQueryLoggingConfigs",
        "route53:ListResourceRecordSets",
        "route53:ListTagsForResource",
      ]
      Resource = [
        "arn:${local.p}:route53:::hostedzone/*",
        "arn:${local.p}:route53:::change/*",
      ]
    },
    {
      Sid      = "TerraformReadApiGateway"
      Action   = ["apigateway:GET"]
      Resource = ["arn:${local.p}:apigateway:*::/*"]
    },
    {
      Sid = "TerraformReadBuckets"
      Action = [
        "s3:GetAccelerateConfiguration",
        "s3:GetBucket*",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
      ]
      Resource = [local.buckets]
    },
  ]

  # --- Terraform state: read it, and hold Terraform's lock file -------------
  state_read = [
    {
      Sid      = "StateList"
      Action   = ["s3:ListBucket"]
      Resource = [var.state_bucket_arn]
    },
    {
      Sid      = "StateRead"
      Action   = ["s3:GetObject"]
      Resource = [local.state_objects]
    },
    {
      # A plan takes Terraform's lock (use_lockfile): <state key>.tflock.
      Sid      = "StateLockFile"
      Action   = ["s3:PutObject", "s3:DeleteObject"]
      Resource = ["${var.state_bucket_arn}/*.tflock"]
    },
  ]

  state_key_read = [{
    Sid      = "StateKey"
    Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    Resource = [var.state_kms_key_arn]
  }]

  state_write = [{
    Sid      = "StateWrite"
    Action   = ["s3:PutObject"]
    Resource = ["${var.state_bucket_arn}/*.tfstate"]
  }]

  # --- The runners' own calls ------------------------------------------------
  # The runners' own objects in the state bucket, one prefix per writer so
  # that IAM, not the record's content, says who wrote a record:
  #   <prefix>plan-records/  plan and drift records: the plan role writes them
  #   <prefix>audit/         apply and refusal records: only the apply role
  #   <prefix>locks/         stack locks: only the apply role creates or deletes
  # Records are never deleted or overwritten by any role (state-backend puts
  # them under Object Lock and its bucket policy denies their deletion).
  plan_records = "${var.state_bucket_arn}/${local.runner_prefix}plan-records/*"
  audit        = "${var.state_bucket_arn}/${local.runner_prefix}audit/*"
  stack_locks  = "${var.state_bucket_arn}/${local.runner_prefix}locks/*"

  runner_records_list = [{
    # The whole bucket, not only the prefix: without ListBucket, S3 answers
    # a read of a lock that does not exist with AccessDenied instead of
    # NoSuchKey, and a free lock would look like an error.
    Sid      = "RunnerRecordsList"
    Action   = ["s3:ListBucket"]
    Resource = [var.state_bucket_arn]
  }]

  runner_plan_records = concat(local.runner_records_list, [{
    Sid      = "RunnerPlanRecords"
    Action   = ["s3:PutObject"]
    Resource = [local.plan_records]
  }])

  runner_apply_records = concat(local.runner_records_list, [
    {
      Sid      = "RunnerApplyRecords"
      Action   = ["s3:PutObject"]
      Resource = [local.audit]
    },
    {
      Sid      = "RunnerStackLocks"
      Action   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
      Resource = [local.stack_locks]
    },
  ])

  # Explicit denies win over every allow, including Terraform's broad ones
  # (StateLockFile's "*.tflock" also matches a key under the runners' prefix).
  deny_erasing_records = [{
    Sid    = "DenyErasingRunnerRecords"
    Effect = "Deny"
    Action = [
      "s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion",
      "s3:PutObjectLegalHold", "s3:PutObjectRetention",
    ]
    Resource = [local.audit, local.plan_records]
  }]

  plan_denies = concat(local.deny_erasing_records, [{
    Sid      = "DenyPlanWritingApplyRecordsAndLocks"
    Effect   = "Deny"
    Action   = ["s3:DeleteObject", "s3:PutObject"]
    Resource = [local.audit, local.stack_locks]
  }])

  backup_denies = concat(local.deny_erasing_records, [{
    Sid      = "DenyBackupWritingRunnerRecords"
    Effect   = "Deny"
    Action   = ["s3:DeleteObject", "s3:PutObject"]
    Resource = ["${var.state_bucket_arn}/${local.runner_prefix}*"]
  }])

  runner_recovery_lookups = [
    {
      # Which images, zones and shipped snapshots exist in the region a stack
      # is rebuilt in (runners dr prepare).
      Sid       = "RunnerRecoveryDescribe"
      Action    = ["ec2:DescribeAvailabilityZones", "ec2:DescribeImages", "ec2:DescribeSnapshots"]
      Resource  = "*"
      Condition = local.in_regions
    },
    {
      Sid    = "RunnerRecoverySnapshots"
      Action = ["rds:DescribeDBClusterSnapshots", "rds:DescribeDBSnapshots"]
      Resource = [
        "arn:${local.p}:rds:*:${local.acct}:snapshot:*",
        "arn:${local.p}:rds:*:${local.acct}:cluster-snapshot:*",
      ]
    },
    {
      # The backup region's key, looked up by its alias.
      Sid      = "RunnerRecoveryKey"
      Action   = ["kms:DescribeKey"]
      Resource = ["arn:${local.p}:kms:*:${local.acct}:key/*"]
    },
    {
      # A stack's state, read from the backup region's replica when the
      # primary region is gone: state files only, in the client's buckets.
      Sid      = "RunnerRecoveryState"
      Action   = ["s3:GetObject"]
      Resource = ["${local.buckets}/*.tfstate", local.state_objects]
    },
    {
      Sid      = "RunnerRecoveryParameters"
      Action   = ["ssm:GetParameter"]
      Resource = [for path in var.ami_parameter_paths : "arn:${local.p}:ssm:*::parameter/${path}"]
    },
  ]

  # Snapshots: the runners' own carry local.tag. Sources: what a backup
  # policy may select carries var.backup_tag_key.
  has_tag     = { Null = { "aws:ResourceTag/${local.tag}" = "false" } }
  request_tag = { Null = { "aws:RequestTag/${local.tag}" = "false" } }
  is_source   = { Null = { "aws:ResourceTag/${var.backup_tag_key}" = "false" } }
  rds_ours = [
    "arn:${local.p}:rds:*:${local.acct}:snapshot:${var.snapshot_name_prefix}*",
    "arn:${local.p}:rds:*:${local.acct}:cluster-snapshot:${var.snapshot_name_prefix}*",
  ]
  # After a copy starts, the source snapshot is tagged with where it went
  # (runners.backup.tags.COPIED_TO), and an instance set's members with their
  # device (DEVICE): those keys, on the runners' own only.
  link_tag = {
    Null                        = { "aws:ResourceTag/${local.tag}" = "false" }
    "ForAllValues:StringEquals" = { "aws:TagKeys" = ["runners:copied-to", "runners:device"] }
  }

  # verify-restore's throwaway volumes and databases: made carrying this tag
  # (runners.dr.tags.VERIFY), named runners-verify-*, and deletable only so.
  verify_tag         = "runners:verify-restore"
  has_verify_tag     = { Null = { "aws:ResourceTag/${local.verify_tag}" = "false" } }
  request_verify_tag = { Null = { "aws:RequestTag/${local.verify_tag}" = "false" } }
  throwaway_dbs = [
    "arn:${local.p}:rds:*:${local.acct}:db:runners-verify-*",
    "arn:${local.p}:rds:*:${local.acct}:cluster:runners-verify-*",
  ]

  runner_backup = [
    {
      Sid = "RunnerBackupDescribe"
      Action = [
        "ec2:DescribeAvailabilityZones", "ec2:DescribeImages", "ec2:DescribeInstances",
        "ec2:DescribeSnapshots", "ec2:DescribeVolumes",
      ]
      Resource  = "*"
      Condition = local.in_regions
    },
    {
      # ship copies the images the policy names, tagged with the runners' tag as it copies.
      Sid       = "RunnerCopyImages"
      Action    = ["ec2:CopyImage"]
      Resource  = ["arn:${local.p}:ec2:*::image/*"]
      Condition = local.request_tag
    },
    {
      Sid       = "RunnerTagImageCopies"
      Action    = ["ec2:CreateTags"]
      Resource  = ["arn:${local.p}:ec2:*::image/*"]
      Condition = local.request_tag
    },
    {
      Sid = "RunnerBackupDescribeDatabases"
      Action = [
        "rds:DescribeDBClusterSnapshots", "rds:DescribeDBClusters", "rds:DescribeDBInstances",
        "rds:DescribeDBSnapshots",
      ]
      Resource = [
        "arn:${local.p}:rds:*:${local.acct}:db:*",
        "arn:${local.p}:rds:*:${local.acct}:snapshot:*",
        "arn:${local.p}:rds:*:${local.acct}:cluster:*",
        "arn:${local.p}:rds:*:${local.acct}:cluster-snapshot:*",
      ]
    },
    {
      # Snapshot only volumes and instances that carry the backup tag...
      Sid       = "RunnerSnapshotTaggedVolumes"
      Action    = ["ec2:CreateSnapshot", "ec2:CreateSnapshots"]
      Resource  = ["arn:${local.p}:ec2:*:${local.acct}:volume/*", "arn:${local.p}:ec2:*:${local.acct}:instance/*"]
      Condition = local.is_source
    },
    {
      # ...though an instance's attached volumes need not carry it themselves:
      # CreateSnapshots is also authorised on the instance, which must.
      Sid      = "RunnerSnapshotInstanceVolumes"
      Action   = ["ec2:CreateSnapshots"]
      Resource = ["arn:${local.p}:ec2:*:${local.acct}:volume/*"]
    },
    {
      # ...and every snapshot or copy is created carrying the runners' tag.
      Sid       = "RunnerCreateTaggedSnapshots"
      Action    = ["ec2:CopySnapshot", "ec2:CreateSnapshot", "ec2:CreateSnapshots"]
      Resource  = ["arn:${local.p}:ec2:*::snapshot/*"]
      Condition = local.request_tag
    },
    {
      # Tags as part of creating a snapshot or copy: otherwise the role could
      # tag someone else's snapshot and delete it.
      Sid      = "RunnerTagOnCreate"
      Action   = ["ec2:CreateTags"]
      Resource = ["arn:${local.p}:ec2:*::snapshot/*", "arn:${local.p}:ec2:*:${local.acct}:volume/*"]
      Condition = {
        StringEquals = { "ec2:CreateAction" = ["CopySnapshot", "CreateSnapshot", "CreateSnapshots", "CreateVolume"] }
      }
    },
    {
      Sid       = "RunnerLinkOwnSnapshots"
      Action    = ["ec2:CreateTags"]
      Resource  = ["arn:${local.p}:ec2:*::snapshot/*"]
      Condition = local.link_tag
    },
    {
      Sid       = "RunnerDeleteTaggedSnapshots"
      Action    = ["ec2:DeleteSnapshot"]
      Resource  = ["arn:${local.p}:ec2:*::snapshot/*"]
      Condition = local.has_tag
    },
    {
      Sid    = "RunnerSnapshotTaggedDatabases"
      Action = ["rds:CreateDBClusterSnapshot", "rds:CreateDBSnapshot"]
      Resource = [
        "arn:${local.p}:rds:*:${local.acct}:db:*",
        "arn:${local.p}:rds:*:${local.acct}:cluster:*",
      ]
      Condition = local.is_source
    },
    {
      # RDS has no "tag only on create" condition, so the role may create,
      # copy into, tag and delete only snapshots named with its prefix.
      Sid = "RunnerCreateOwnDbSnapshots"
      Action = [
        "rds:AddTagsToResource", "rds:CopyDBClusterSnapshot", "rds:CopyDBSnapshot",
        "rds:CreateDBClusterSnapshot", "rds:CreateDBSnapshot",
      ]
      Resource  = local.rds_ours
      Condition = local.request_tag
    },
    {
      # Copying reads the source snapshot, which must be one of the runners'.
      Sid       = "RunnerCopyOwnDbSnapshots"
      Action    = ["rds:CopyDBClusterSnapshot", "rds:CopyDBSnapshot"]
      Resource  = local.rds_ours
      Condition = local.has_tag
    },
    {
      Sid       = "RunnerLinkOwnDbSnapshots"
      Action    = ["rds:AddTagsToResource"]
      Resource  = local.rds_ours
      Condition = local.link_tag
    },
    {
      Sid       = "RunnerDeleteOwnDbSnapshots"
      Action    = ["rds:DeleteDBClusterSnapshot", "rds:DeleteDBSnapshot"]
      Resource  = local.rds_ours
      Condition = local.has_tag
    },
    {
      # Copies of encrypted snapshots are re-encrypted with the backup
      # region's key; the services use the key through grants.
      Sid = "RunnerSnapshotKeys"
      Action = [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ]
      Resource = var.backup_kms_key_arns
    },
    {
      Sid       = "RunnerSnapshotKeyGrants"
      Action    = ["kms:CreateGrant"]
      Resource  = var.backup_kms_key_arns
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    },
  ]

  # runners verify-restore: restore the newest copies to throwaways and delete them.
  runner_verify_restore = [
    {
      # A volume from any snapshot, but only created carrying the verify tag.
      Sid    = "RunnerVerifyRestoreVolumes"
      Action = ["ec2:CreateVolume"]
      Resource = [
        "arn:${local.p}:ec2:*:${local.acct}:volume/*",
        "arn:${local.p}:ec2:*::snapshot/*",
      ]
      Condition = local.request_verify_tag
    },
    {
      Sid       = "RunnerVerifyRestoreDeleteVolumes"
      Action    = ["ec2:DeleteVolume"]
      Resource  = ["arn:${local.p}:ec2:*:${local.acct}:volume/*"]
      Condition = local.has_verify_tag
    },
    {
      # Throwaway databases: only named runners-verify-*, only with the tag.
      Sid = "RunnerVerifyRestoreDatabases"
      Action = [
        "rds:AddTagsToResource", "rds:RestoreDBClusterFromSnapshot",
        "rds:RestoreDBInstanceFromDBSnapshot",
      ]
      Resource  = local.throwaway_dbs
      Condition = local.request_verify_tag
    },
    {
      # ...from the runners' own snapshots, with the account's groups and options.
      Sid    = "RunnerVerifyRestoreFromOwnSnapshots"
      Action = ["rds:RestoreDBClusterFromSnapshot", "rds:RestoreDBInstanceFromDBSnapshot"]
      Resource = concat(local.rds_ours, [
        "arn:${local.p}:rds:*:${local.acct}:og:*",
        "arn:${local.p}:rds:*:${local.acct}:pg:*",
        "arn:${local.p}:rds:*:${local.acct}:cluster-pg:*",
        "arn:${local.p}:rds:*:${local.acct}:subgrp:*",
      ])
    },
    {
      Sid       = "RunnerVerifyRestoreDeleteDatabases"
      Action    = ["rds:DeleteDBCluster", "rds:DeleteDBInstance"]
      Resource  = local.throwaway_dbs
      Condition = local.has_verify_tag
    },
  ]

  # runners ship-s3: read the client's buckets, write only the backup bucket,
  # delete nothing (an aborted multipart upload is parts, never an object).
  runner_ship_s3 = concat(
    [
      {
        Sid      = "RunnerShipS3Buckets"
        Action   = ["s3:GetBucketVersioning", "s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = [local.buckets]
      },
      {
        Sid      = "RunnerShipS3Read"
        Action   = ["s3:GetObject"]
        Resource = ["${local.buckets}/*"]
      },
    ],
    var.backup_bucket_arn == null ? [] : [{
      Sid      = "RunnerShipS3Write"
      Action   = ["s3:AbortMultipartUpload", "s3:PutObject"]
      Resource = ["${var.backup_bucket_arn}/*"]
    }],
  )

  # Each duty's principal may assume its own role and no other, carrying its
  # session's source identity and tags (the build and the approver).
  runner_assume = {
    for duty, arn in local.roles : duty => [{
      Sid      = "RunnerAssumeOwnRole"
      Action   = ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]
      Resource = [arn]
    }]
  }

  # --- Terraform: apply writes what the modules manage ------------------------
  regional_write = [
    for s in [
      {
        Sid = "TerraformWriteNetworkAndServers"
        Action = [
          "ec2:Allocate*", "ec2:Associate*", "ec2:Attach*", "ec2:Authorize*", "ec2:Create*",
          "ec2:Delete*", "ec2:Detach*", "ec2:Disable*", "ec2:Disassociate*", "ec2:Enable*",
          "ec2:Modify*", "ec2:Release*", "ec2:Replace*", "ec2:Revoke*", "ec2:RunInstances",
          "ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances", "ec2:Update*",
        ]
        Resource = [
          "arn:${local.p}:ec2:*:${local.acct}:*",
          "arn:${local.p}:ec2:*::image/*",
          "arn:${local.p}:ec2:*::snapshot/*",
        ]
      },
      {
        Sid = "TerraformWriteLoadBalancers"
        Action = [
          "elasticloadbalancing:Add*", "elasticloadbalancing:Create*", "elasticloadbalancing:Delete*",
          "elasticloadbalancing:Deregister*", "elasticloadbalancing:Modify*",
          "elasticloadbalancing:Register*", "elasticloadbalancing:Remove*", "elasticloadbalancing:Set*",
        ]
        Resource = ["arn:${local.p}:elasticloadbalancing:*:${local.acct}:*"]
      },
      {
        Sid = "TerraformWriteDataServices"
        Action = [
          "elasticache:Add*", "elasticache:Create*", "elasticache:Decrease*", "elasticache:Delete*",
          "elasticache:Increase*", "elasticache:Modify*", "elasticache:Remove*",
          "elasticfilesystem:Create*", "elasticfilesystem:Delete*", "elasticfilesystem:Put*",
          "elasticfilesystem:TagResource", "elasticfilesystem:UntagResource", "elasticfilesystem:Update*",
          "rds:AddTagsToResource", "rds:Create*", "rds:DeleteDBInstance", "rds:DeleteDBParameterGroup",
          "rds:DeleteDBSubnetGroup", "rds:DeleteOptionGroup", "rds:Modify*", "rds:RebootDBInstance",
          "rds:RemoveTagsFromResource", "rds:RestoreDBInstanceFromDBSnapshot",
          "rds:RestoreDBInstanceToPointInTime",
        ]
        Resource = [
          "arn:${local.p}:elasticache:*:${local.acct}:*",
          "arn:${local.p}:elasticfilesystem:*:${local.acct}:*",
          "arn:${local.p}:rds:*:${local.acct}:*",
        ]
      },
      {
        Sid = "TerraformWriteMessagingAndLogs"
        Action = [
          "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup",
          "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey", "logs:PutRetentionPolicy",
          "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
          "sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe",
          "sns:TagResource", "sns:UntagResource", "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes",
          "sqs:TagQueue", "sqs:UntagQueue",
        ]
        Resource = [
          "arn:${local.p}:logs:*:${local.acct}:log-group:*",
          "arn:${local.p}:sns:*:${local.acct}:*",
          "arn:${local.p}:sqs:*:${local.acct}:*",
        ]
      },
      {
        Sid      = "TerraformWriteApiGateway"
        Action   = ["apigateway:DELETE", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"]
        Resource = ["arn:${local.p}:apigateway:*::/*"]
      },
      {
        Sid = "TerraformWriteKeys"
        Action = [
          "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias", "kms:EnableKeyRotation",
          "kms:Encrypt", "kms:GenerateDataKey*", "kms:PutKeyPolicy", "kms:ReEncrypt*",
          "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
          "kms:UpdateKeyDescription",
        ]
        Resource = [
          "arn:${local.p}:kms:*:${local.acct}:key/*",
          "arn:${local.p}:kms:*:${local.acct}:alias/*",
        ]
      },
      {
        # These name no resource yet (or a subscription, which has no ARN
        # IAM can match); what they create is then managed above.
        Sid = "TerraformWriteUnscoped"
        Action = [
          "elasticfilesystem:CreateFileSystem", "kms:CreateKey", "sns:SetSubscriptionAttributes",
          "sns:Unsubscribe",
        ]
        Resource = "*"
      },
    ] : merge(s, { Condition = local.in_regions })
  ]

  # IAM and Route 53 are global: their calls are not made in the stack's region.
  global_write = [
    {
      Sid = "TerraformWriteAccessRoles"
      Action = [
        "iam:AddRoleToInstanceProfile", "iam:AttachRolePolicy", "iam:CreateInstanceProfile",
        "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:CreateRole", "iam:CreateSAMLProvider",
        "iam:DeleteInstanceProfile", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:DeleteRole",
        "iam:DeleteRolePolicy", "iam:DeleteSAMLProvider", "iam:DetachRolePolicy", "iam:PutRolePolicy",
        "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:TagPolicy", "iam:TagRole",
        "iam:TagSAMLProvider", "iam:UntagInstanceProfile", "iam:UntagPolicy", "iam:UntagRole",
        "iam:UntagSAMLProvider", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
        "iam:UpdateRoleDescription", "iam:UpdateSAMLProvider",
      ]
      Resource = [
        "arn:${local.p}:iam::${local.acct}:instance-profile/*",
        "arn:${local.p}:iam::${local.acct}:policy/*",
        "arn:${local.p}:iam::${local.acct}:role/*",
        "arn:${local.p}:iam::${local.acct}:saml-provider/*",
      ]
    },
    {
      Sid      = "TerraformPassRolesToServices"
      Action   = ["iam:PassRole"]
      Resource = ["arn:${local.p}:iam::${local.acct}:role/*"]
      Condition = {
        StringEquals = {
          "iam:PassedToService" = [
            "apigateway.amazonaws.com", "ec2.amazonaws.com", "monitoring.rds.amazonaws.com",
            "vpc-flow-logs.amazonaws.com",
          ]
        }
      }
    },
    {
      Sid      = "TerraformServiceLinkedRoles"
      Action   = ["iam:CreateServiceLinkedRole"]
      Resource = ["arn:${local.p}:iam::${local.acct}:role/aws-service-role/*"]
      Condition = {
        StringEquals = {
          "iam:AWSServiceName" = [
            "elasticache.amazonaws.com", "elasticfilesystem.amazonaws.com",
            "elasticloadbalancing.amazonaws.com", "ops.apigateway.amazonaws.com", "rds.amazonaws.com",
          ]
        }
      }
    },
    {
      Sid      = "TerraformCreateZones"
      Action   = ["route53:CreateHostedZone"]
      Resource = "*"
    },
    {
      Sid = "TerraformWriteDns"
      Action = [
        "route53:AssociateVPCWithHostedZone", "route53:ChangeResourceRecordSets",
        "route53:ChangeTagsForResource", "route53:CreateQueryLoggingConfig",
        "route53:DeleteHostedZone", "route53:DeleteQueryLoggingConfig",
        "route53:DisassociateVPCFromHostedZone", "route53:UpdateHostedZoneComment",
      ]
      Resource = [
        "arn:${local.p}:route53:::hostedzone/*",
        "arn:${local.p}:ec2:*:${local.acct}:vpc/*",
      ]
    },
    {
      Sid = "TerraformWriteBuckets"
      Action = [
        "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutAccelerateConfiguration",
        "s3:PutBucket*", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
        "s3:PutReplicationConfiguration",
      ]
      Resource = [local.buckets]
    },
  ]

  # What apply must never do, whatever the plan says: touch the runners'
  # own roles, state and backups, or share snapshots and images outside the
  # account. Explicit denies win over every allow above.
  protected = distinct(concat(
    [var.state_bucket_arn, local.state_objects],
    values(local.roles),
    var.protected_arns,
  ))

  apply_denies = concat(local.deny_erasing_records, [
    {
      Sid    = "DenyChangingTheRunnersSafetyNet"
      Effect = "Deny"
      # Bucket settings and object history, never the objects themselves:
      # apply writes the state and removes Terraform's lock file.
      Action = [
        "iam:*", "kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "s3:DeleteBucket*",
        "s3:DeleteObjectVersion", "s3:PutBucket*", "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration", "s3:PutReplicationConfiguration",
      ]
      Resource = local.protected
    },
    {
      Sid      = "DenySharingSnapshotsAndImages"
      Effect   = "Deny"
      Action   = ["ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute", "rds:ModifyDBSnapshotAttribute"]
      Resource = "*"
    },
    {
      Sid       = "DenyDeletingBackups"
      Effect    = "Deny"
      Action    = ["ec2:DeleteSnapshot", "rds:DeleteDBClusterSnapshot", "rds:DeleteDBSnapshot"]
      Resource  = "*"
      Condition = local.has_tag
    },
  ])

  allow = { Effect = "Allow" }

  documents = {
    plan = concat(
      local.terraform_read, local.state_read, local.state_key_read, local.runner_plan_records,
      local.runner_recovery_lookups,
    )
    apply = concat(
      local.terraform_read, local.state_read, local.state_key_read, local.state_write,
      local.regional_write, local.global_write, local.runner_apply_records,
    )
    backup = concat(
      local.runner_backup, local.runner_verify_restore, local.runner_ship_s3, local.state_key_read,
    )
  }
  denies = {
    plan   = local.plan_denies
    apply  = local.apply_denies
    backup = local.backup_denies
  }
}
