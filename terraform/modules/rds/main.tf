# One RDS database: encrypted, private, Multi-AZ, with automated backups,
# logs in CloudWatch, Enhanced Monitoring, Performance Insights, IAM
# authentication, and a master password RDS keeps in Secrets Manager.
# Restores from a snapshot with snapshot_identifier.

locals {
  log_exports = {
    postgres = ["postgresql", "upgrade"]
    mysql    = ["audit", "error", "general", "slowquery"]
    mariadb  = ["audit", "error", "general", "slowquery"]
  }
  port      = var.engine == "postgres" ? 5432 : 3306
  restoring = var.snapshot_identifier != null
  tags = merge(
    var.tags,
    var.backup_tag == null ? {} : { (var.backup_tag.key) = var.backup_tag.value },
  )
}

# Slow and schema-changing statements are logged (exported to CloudWatch),
# and clients must use TLS.
locals {
  major  = split(".", var.engine_version)[0]
  family = var.engine == "postgres" ? "postgres${local.major}" : "${var.engine}${join(".", slice(split(".", var.engine_version), 0, 2))}"
  parameters = var.engine == "postgres" ? {
    log_statement              = "ddl"
    log_min_duration_statement = "1000"
    "rds.force_ssl"            = "1"
    } : {
    slow_query_log           = "1"
    long_query_time          = "1"
    require_secure_transport = "1"
  }
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.identifier}-"
  family      = local.family
  description = "${var.identifier}: query logging and TLS"
  tags        = var.tags

  dynamic "parameter" {
    for_each = merge(local.parameters, var.parameters)
    content {
      name         = parameter.key
      value        = parameter.value
      apply_method = "pending-reboot"
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_subnet_group" "this" {
  name       = var.identifier
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

data "aws_iam_policy_document" "monitoring_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.identifier}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_trust.json
  tags               = var.tags
}

data "aws_partition" "current" {}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = var.identifier
  engine         = var.engine
  engine_version = var.engine_version
  instance_class = var.instance_class

  # From a snapshot, the name and master user come with the data.
  snapshot_identifier         = var.snapshot_identifier
  db_name                     = local.restoring ? null : var.db_name
  username                    = local.restoring ? null : var.username
  manage_master_user_password = true

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = max(var.max_allocated_storage_gb, var.allocated_storage_gb)
  storage_type          = "gp3"
  storage_encrypted     = true
  # RestoreDBInstanceFromDBSnapshot keeps the snapshot's key and takes no
  # other: a database restored from a shipped copy stays under the backup
  # key, and naming any other key here would replace it on the next plan.
  kms_key_id = coalesce(var.restore_kms_key_arn, var.kms_key_arn)

  db_subnet_group_name   = aws_db_subnet_group.this.name
  parameter_group_name   = aws_db_parameter_group.this.name
  vpc_security_group_ids = var.security_group_ids
  publicly_accessible    = false
  port                   = local.port
  multi_az               = var.multi_az

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  allow_major_version_upgrade         = false
  apply_immediately                   = false
  maintenance_window                  = var.maintenance_window

  backup_retention_period   = var.backup_retention_days
  backup_window             = var.backup_window
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.final_snapshot
  final_snapshot_identifier = var.final_snapshot ? "${var.identifier}-final" : null

  enabled_cloudwatch_logs_exports       = local.log_exports[var.engine]
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7

  tags = local.tags

  lifecycle {
    # A restore sets snapshot_identifier once; clearing it afterwards must
    # not replace (and so empty) the restored database.
    ignore_changes = [snapshot_identifier]
  }
}
