# One client's workload in one region: network and VPN, logging, DNS, five
# servers from one ec2-server call, the database, the cache, the shared file
# system, the public and internal load balancers, the API and the queues.
# Disaster recovery plans this same stack in the backup region with the
# restore inputs (snapshot_identifier, snapshot_ids, ami_ids) set.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # The region is in every name: a rebuild in the backup region must not
  # collide with what is left of the primary one (IAM names are global).
  name       = "${var.client}-${var.environment}-${var.region}"
  backup_tag = { key = var.backup_tag_key, value = var.backup_policy }

  by_role = { for role in ["web", "api", "worker"] : role => [for host, s in var.servers : host if s.role == role] }

  server_logs = {
    "/var/log/syslog"                = "servers/syslog"
    "/var/log/auth.log"              = "servers/auth"
    "/var/log/cloud-init-output.log" = "servers/cloud-init"
  }
}

# --- Keys and logs ------------------------------------------------------------

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

# Volumes, database, cache and file system. Its ARN goes into the bootstrap
# stack's data_kms_key_arns so the backup role may copy their snapshots.
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

module "logging" {
  source = "../../modules/logging"

  name                   = local.name
  default_retention_days = var.log_retention_days
  log_groups = merge(
    { for group in values(local.server_logs) : group => {} },
    { "network/flow-logs" = {}, "cache" = {}, "api" = {} },
  )
  access_log_bucket_name = "${local.name}-access-logs"
}

# --- Network ------------------------------------------------------------------

module "network" {
  source = "../../modules/vpc"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  flow_log_group_arn = module.logging.log_group_arns["network/flow-logs"]
  vpn                = var.vpn
}

module "dns" {
  source = "../../modules/dns"

  zone_name       = var.domain
  private_vpc_ids = [module.network.vpc_id]
  records = {
    for host, server in module.server : "${host} A" => { ttl = 300, records = [server.private_ip] }
  }
}

# --- Security groups ------------------------------------------------------------

resource "aws_security_group" "tier" {
  for_each = toset(["public-lb", "internal-lb", "api-link", "servers", "database", "cache"])

  name        = "${local.name}-${each.key}"
  description = "${local.name}: ${each.key}"
  vpc_id      = module.network.vpc_id
  tags        = { Name = "${local.name}-${each.key}" }
}

locals {
  # from -> to, port, what for. Everything else is refused.
  flows = {
    "public-lb-https"  = { sg = "public-lb", cidr = "0.0.0.0/0", port = 443, why = "HTTPS from the internet" }
    "internal-lb-api"  = { sg = "internal-lb", from = "api-link", port = 443, why = "HTTPS from API Gateway's VPC link" }
    "servers-web"      = { sg = "servers", from = "public-lb", port = var.app_port, why = "the application, from the public load balancer" }
    "servers-api"      = { sg = "servers", from = "internal-lb", port = var.app_port, why = "the API, from the internal load balancer" }
    "database-servers" = { sg = "database", from = "servers", port = 5432, why = "PostgreSQL from the servers" }
    "cache-servers"    = { sg = "cache", from = "servers", port = 6379, why = "the cache (TLS) from the servers" }
  }
  egress = {
    "public-lb-servers"   = { sg = "public-lb", to = "servers", port = var.app_port, why = "to the web servers" }
    "internal-lb-servers" = { sg = "internal-lb", to = "servers", port = var.app_port, why = "to the api servers" }
    "api-link-lb"         = { sg = "api-link", to = "internal-lb", port = 443, why = "to the internal load balancer" }
    "servers-database"    = { sg = "servers", to = "database", port = 5432, why = "to the database" }
    "servers-cache"       = { sg = "servers", to = "cache", port = 6379, why = "to the cache" }
    "servers-efs"         = { sg = "servers", to = "efs", port = 2049, why = "NFS to the shared file system" }
    "servers-https"       = { sg = "servers", cidr = "0.0.0.0/0", port = 443, why = "HTTPS: AWS APIs, CloudWatch agent, the Debian archive" }
    "servers-puppet"      = { sg = "servers", cidr = "0.0.0.0/0", port = 8140, why = "the Puppet server" }
  }
}

resource "aws_vpc_security_group_ingress_rule" "flow" {
  for_each = local.flows

  security_group_id            = aws_security_group.tier[each.value.sg].id
  description                  = each.value.why
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  cidr_ipv4                    = lookup(each.value, "cidr", null)
  referenced_security_group_id = contains(keys(each.value), "from") ? aws_security_group.tier[each.value.from].id : null
}

resource "aws_vpc_security_group_egress_rule" "flow" {
  for_each = local.egress

  security_group_id = aws_security_group.tier[each.value.sg].id
  description       = each.value.why
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = lookup(each.value, "cidr", null)
  referenced_security_group_id = (
    !contains(keys(each.value), "to") ? null :
    each.value.to == "efs" ? module.shared.security_group_id : aws_security_group.tier[each.value.to].id
  )
}

# --- Servers: five from one module call -------------------------------------

module "server" {
  source   = "../../modules/ec2-server"
  for_each = var.servers

  hostname           = each.key
  domain             = var.domain
  name_prefix        = local.name
  instance_type      = each.value.instance_type
  subnet_id          = module.network.private_subnet_ids[var.availability_zones[each.value.zone]]
  security_group_ids = [aws_security_group.tier["servers"].id]
  kms_key_arn        = aws_kms_key.data.arn
  ami_id             = lookup(var.ami_ids, each.key, null)

  detailed_monitoring    = var.features.detailed_monitoring
  termination_protection = var.deletion_protection
  final_snapshot         = var.final_snapshots

  data_volume = { size_gb = each.value.data_gb, mount_point = "/srv" }
  snapshot_id = lookup(var.snapshot_ids, each.key, null)
  backup_tag  = local.backup_tag

  log_group_arns = [for group in values(local.server_logs) : module.logging.log_group_arns[group]]
  cloud_config = {
    puppet_server      = var.puppet.server
    puppet_environment = var.puppet.environment
    log_files = [
      for path, group in local.server_logs : { path = path, log_group_name = module.logging.log_group_names[group] }
    ]
    nfs_mounts = each.value.role == "worker" ? [] : [module.shared.mount]
  }
}

# --- Data ---------------------------------------------------------------------

module "database" {
  source = "../../modules/rds"

  identifier           = local.name
  engine_version       = var.database.engine_version
  instance_class       = var.database.instance_class
  allocated_storage_gb = var.database.allocated_storage_gb
  multi_az             = var.database.multi_az
  subnet_ids           = values(module.network.data_subnet_ids)
  security_group_ids   = [aws_security_group.tier["database"].id]
  kms_key_arn          = aws_kms_key.data.arn
  snapshot_identifier  = var.snapshot_identifier
  restore_kms_key_arn  = var.database_kms_key_arn
  deletion_protection  = var.deletion_protection
  final_snapshot       = var.final_snapshots
  backup_tag           = local.backup_tag
}

module "cache" {
  source = "../../modules/elasticache"
  count  = var.features.cache ? 1 : 0

  name               = local.name
  node_type          = var.cache.node_type
  nodes              = var.cache.nodes
  subnet_ids         = values(module.network.data_subnet_ids)
  security_group_ids = [aws_security_group.tier["cache"].id]
  kms_key_arn        = aws_kms_key.data.arn
  auth_token         = var.cache_auth_token
  log_group_name     = module.logging.log_group_names["cache"]
}

module "shared" {
  source = "../../modules/efs"

  name                   = "${local.name}-shared"
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.data_subnet_ids
  client_security_groups = { servers = aws_security_group.tier["servers"].id }
  kms_key_arn            = aws_kms_key.data.arn
  backup_policy          = var.features.efs_backup_policy
}

# --- Traffic ------------------------------------------------------------------

module "web_lb" {
  source = "../../modules/load-balancer"

  name                = substr("${local.name}-web", 0, 32)
  vpc_id              = module.network.vpc_id
  subnet_ids          = values(module.network.public_subnet_ids)
  security_group_ids  = [aws_security_group.tier["public-lb"].id]
  certificate_arn     = var.certificate_arn
  access_log_bucket   = module.logging.access_log_bucket
  deletion_protection = var.deletion_protection
  applications = {
    web = {
      priority   = 10
      host_names = var.web_host_names
      port       = var.app_port
      instances  = { for host in local.by_role.web : host => module.server[host].instance_id }
    }
  }
}

module "api_lb" {
  source = "../../modules/load-balancer"

  name                = substr("${local.name}-api", 0, 32)
  internal            = true
  vpc_id              = module.network.vpc_id
  subnet_ids          = values(module.network.private_subnet_ids)
  security_group_ids  = [aws_security_group.tier["internal-lb"].id]
  certificate_arn     = var.api.certificate_arn
  access_log_bucket   = module.logging.access_log_bucket
  deletion_protection = var.deletion_protection
  applications = {
    api = {
      priority          = 10
      host_names        = [var.api.host_name]
      port              = var.app_port
      health_check_path = "/health"
      instances         = { for host in local.by_role.api : host => module.server[host].instance_id }
    }
  }
}

module "api" {
  source = "../../modules/api-gateway"

  name                 = local.name
  subnet_ids           = values(module.network.private_subnet_ids)
  security_group_ids   = [aws_security_group.tier["api-link"].id]
  listener_arn         = module.api_lb.https_listener_arn
  tls_server_name      = var.api.host_name
  jwt_authorizer       = { issuer = var.api.jwt_issuer, audiences = var.api.jwt_audiences }
  routes               = { "ANY /{proxy+}" = [] }
  access_log_group_arn = module.logging.log_group_arns["api"]
}

# --- Messages -------------------------------------------------------------------

module "messaging" {
  source = "../../modules/messaging"

  name   = local.name
  queues = { orders = { visibility_timeout_seconds = 120 } }
  topics = { order-events = { queue_subscriptions = ["orders"] } }

  dead_letter_source_policy = var.features.dead_letter_source_policy
}

# The api servers publish order events; the workers consume them.
data "aws_iam_policy_document" "publish" {
  statement {
    actions   = ["sns:Publish"]
    resources = [module.messaging.topic_arns["order-events"]]
  }
  statement {
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [module.messaging.kms_key_arn]
  }
}

data "aws_iam_policy_document" "consume" {
  statement {
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [module.messaging.queue_arns["orders"]]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [module.messaging.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "publish" {
  for_each = toset(local.by_role.api)

  name   = "publish-order-events"
  role   = module.server[each.key].role_name
  policy = data.aws_iam_policy_document.publish.json
}

resource "aws_iam_role_policy" "consume" {
  for_each = toset(local.by_role.worker)

  name   = "consume-orders"
  role   = module.server[each.key].role_name
  policy = data.aws_iam_policy_document.consume.json
}

# The cache became optional (features.cache); its address gained an index.
moved {
  from = module.cache
  to   = module.cache[0]
}
