# The servers: one ec2-server module call made once per entry of var.servers,
# in the network stack's private subnets, encrypted with the data stack's
# key, shipping their logs to the logging stack's groups, their data volumes
# tagged for the runners' backups.

locals {
  name       = "${var.client}-${var.environment}-${var.region}"
  backup_tag = { key = var.backup_tag_key, value = var.backup_policy }

  server_logs = {
    "/var/log/syslog"                = "servers/syslog"
    "/var/log/auth.log"              = "servers/auth"
    "/var/log/cloud-init-output.log" = "servers/cloud-init"
  }
}

data "aws_vpc" "this" {
  tags = { Name = local.name }
}

data "aws_subnet" "private" {
  for_each = toset(var.availability_zones)

  vpc_id            = data.aws_vpc.this.id
  availability_zone = each.key
  tags              = { Tier = "private" }
}

data "aws_security_group" "servers" {
  vpc_id = data.aws_vpc.this.id
  name   = "${local.name}-servers"
}

data "aws_kms_alias" "data" {
  name = "alias/${local.name}-data"
}

data "aws_cloudwatch_log_group" "server" {
  for_each = toset(values(local.server_logs))

  name = "/${local.name}/${each.key}"
}

module "server" {
  source   = "../../modules/ec2-server"
  for_each = var.servers

  hostname           = each.key
  domain             = var.domain
  name_prefix        = local.name
  instance_type      = each.value.instance_type
  subnet_id          = data.aws_subnet.private[var.availability_zones[each.value.zone]].id
  security_group_ids = [data.aws_security_group.servers.id]
  kms_key_arn        = data.aws_kms_alias.data.target_key_arn
  ami_id             = lookup(var.ami_ids, each.key, null)

  detailed_monitoring = var.features.detailed_monitoring

  data_volume = { size_gb = each.value.data_gb, mount_point = "/srv" }
  snapshot_id = lookup(var.snapshot_ids, each.key, null)
  backup_tag  = local.backup_tag

  log_group_arns = [for group in values(local.server_logs) : data.aws_cloudwatch_log_group.server[group].arn]
  cloud_config = {
    puppet_server      = var.puppet.server
    puppet_environment = var.puppet.environment
    log_files = [
      for path, group in local.server_logs : { path = path, log_group_name = data.aws_cloudwatch_log_group.server[group].name }
    ]
  }
}
