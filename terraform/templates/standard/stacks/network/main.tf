# The network: the VPC with public, private and data subnets in each zone,
# NAT, flow logs, and the security groups of every tier with the only flows
# allowed between them. The other stacks find the VPC, subnets and groups by
# their Name and Tier tags.

locals {
  name = "${var.client}-${var.environment}-${var.region}"
}

data "aws_cloudwatch_log_group" "flow_logs" {
  name = "/${local.name}/network/flow-logs"
}

module "network" {
  source = "../../modules/vpc"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
  flow_log_group_arn = data.aws_cloudwatch_log_group.flow_logs.arn
  vpn                = var.vpn
}

resource "aws_security_group" "tier" {
  #checkov:skip=CKV2_AWS_5:The other stacks attach these groups (load balancers, servers, database, cache), finding them by name; checkov reads one stack at a time.
  for_each = toset(["public-lb", "internal-lb", "api-link", "servers", "database", "cache"])

  name        = "${local.name}-${each.key}"
  description = "${local.name}: ${each.key}"
  vpc_id      = module.network.vpc_id
  tags        = { Name = "${local.name}-${each.key}" }
}

locals {
  # to <- from, port, what for. Everything else is refused.
  ingress = {
    "public-lb-https"  = { sg = "public-lb", cidr = "0.0.0.0/0", port = 443, why = "HTTPS from the internet" }
    "internal-lb-api"  = { sg = "internal-lb", from = "api-link", port = 443, why = "HTTPS from API Gateway's VPC link" }
    "servers-web"      = { sg = "servers", from = "public-lb", port = var.app_port, why = "the application, from the public load balancer" }
    "servers-api"      = { sg = "servers", from = "internal-lb", port = var.app_port, why = "the API, from the internal load balancer" }
    "database-servers" = { sg = "database", from = "servers", port = 5432, why = "PostgreSQL from the servers" }
    "cache-servers"    = { sg = "cache", from = "servers", port = 6379, why = "the cache (TLS) from the servers" }
  }
  egress = {
    "public-lb-servers"   = { sg = "public-lb", to = "servers", port = var.app_port, why = "to the servers" }
    "internal-lb-servers" = { sg = "internal-lb", to = "servers", port = var.app_port, why = "to the servers" }
    "api-link-lb"         = { sg = "api-link", to = "internal-lb", port = 443, why = "to the internal load balancer" }
    "servers-database"    = { sg = "servers", to = "database", port = 5432, why = "to the database" }
    "servers-cache"       = { sg = "servers", to = "cache", port = 6379, why = "to the cache" }
    "servers-https"       = { sg = "servers", cidr = "0.0.0.0/0", port = 443, why = "HTTPS: AWS APIs, CloudWatch agent, the Debian archive" }
    "servers-puppet"      = { sg = "servers", cidr = "0.0.0.0/0", port = 8140, why = "the Puppet server" }
  }
}

resource "aws_vpc_security_group_ingress_rule" "flow" {
  for_each = local.ingress

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

  security_group_id            = aws_security_group.tier[each.value.sg].id
  description                  = each.value.why
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  cidr_ipv4                    = lookup(each.value, "cidr", null)
  referenced_security_group_id = contains(keys(each.value), "to") ? aws_security_group.tier[each.value.to].id : null
}
