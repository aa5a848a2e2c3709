# The client's network: a VPC with three tiers of subnets in each zone
# (public for load balancers and NAT, private for servers, data for
# databases, caches and file systems), NAT for outbound traffic, flow logs,
# a locked default security group, gateway endpoints for S3, and an optional
# site-to-site VPN to the client's premises.

data "aws_partition" "current" {}

locals {
  zones = { for i, az in var.availability_zones : az => i }
  # /16 -> /20 subnets: public 0-3, private 4-7, data 8-11.
  newbits = 4
  tiers   = { public = 0, private = 4, data = 8 }
  subnets = merge([
    for tier, offset in local.tiers : {
      for az, i in local.zones : "${tier}-${az}" => {
        tier = tier
        az   = az
        cidr = cidrsubnet(var.cidr_block, local.newbits, offset + i)
      }
    }
  ]...)
  nat_zones = var.single_nat_gateway ? [var.availability_zones[0]] : var.availability_zones
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

# Nothing may use the default security group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-default-unused" })
}

resource "aws_subnet" "this" {
  for_each = local.subnets

  vpc_id                  = aws_vpc.this.id
  cidr_block              = each.value.cidr
  availability_zone       = each.value.az
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-${each.key}", Tier = each.value.tier })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_zones)

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${each.key}" })
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_zones)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.this["public-${each.key}"].id
  tags          = merge(var.tags, { Name = "${var.name}-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

# Private and data subnets: one table per zone, out through that zone's NAT.
resource "aws_route_table" "private" {
  for_each = local.zones

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private-${each.key}" })
}

resource "aws_route" "private_nat" {
  for_each = local.zones

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? var.availability_zones[0] : each.key].id
}

resource "aws_route_table_association" "this" {
  for_each = local.subnets

  subnet_id      = aws_subnet.this[each.key].id
  route_table_id = each.value.tier == "public" ? aws_route_table.public.id : aws_route_table.private[each.value.az].id
}

data "aws_region" "current" {}

# S3 through the VPC, not the NAT: cheaper, and backups stay off the internet.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for rt in aws_route_table.private : rt.id]
  tags              = merge(var.tags, { Name = "${var.name}-s3" })
}

# --- Flow logs ------------------------------------------------------------

data "aws_iam_policy_document" "flow_logs_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.name}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [var.flow_log_group_arn, "${var.flow_log_group_arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "ALL"
  log_destination = var.flow_log_group_arn
  iam_role_arn    = aws_iam_role.flow_logs.arn
  tags            = merge(var.tags, { Name = var.name })
}

# --- Site-to-site VPN -------------------------------------------------------

resource "aws_customer_gateway" "this" {
  count = var.vpn == null ? 0 : 1

  bgp_asn    = var.vpn.bgp_asn
  ip_address = var.vpn.customer_gateway_ip
  type       = "ipsec.1"
  tags       = merge(var.tags, { Name = "${var.name}-client" })
}

resource "aws_vpn_gateway" "this" {
  count = var.vpn == null ? 0 : 1

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_vpn_connection" "this" {
  count = var.vpn == null ? 0 : 1

  vpn_gateway_id      = aws_vpn_gateway.this[0].id
  customer_gateway_id = aws_customer_gateway.this[0].id
  type                = "ipsec.1"
  static_routes_only  = length(var.vpn.static_routes) > 0

  # IKEv2 with current algorithms only, on both tunnels.
  tunnel1_ike_versions                 = ["ikev2"]
  tunnel1_phase1_encryption_algorithms = ["AES256-GCM-16", "AES256"]
  tunnel1_phase1_integrity_algorithms  = ["SHA2-256", "SHA2-384"]
  tunnel1_phase1_dh_group_numbers      = [20, 21]
  tunnel1_phase2_encryption_algorithms = ["AES256-GCM-16", "AES256"]
  tunnel1_phase2_integrity_algorithms  = ["SHA2-256", "SHA2-384"]
  tunnel1_phase2_dh_group_numbers      = [20, 21]
  tunnel2_ike_versions                 = ["ikev2"]
  tunnel2_phase1_encryption_algorithms = ["AES256-GCM-16", "AES256"]
  tunnel2_phase1_integrity_algorithms  = ["SHA2-256", "SHA2-384"]
  tunnel2_phase1_dh_group_numbers      = [20, 21]
  tunnel2_phase2_encryption_algorithms = ["AES256-GCM-16", "AES256"]
  tunnel2_phase2_integrity_algorithms  = ["SHA2-256", "SHA2-384"]
  tunnel2_phase2_dh_group_numbers      = [20, 21]

  dynamic "tunnel1_log_options" {
    for_each = var.vpn.tunnel_log_group_arn == null ? [] : [var.vpn.tunnel_log_group_arn]
    content {
      cloudwatch_log_options {
        log_enabled       = true
        log_group_arn     = tunnel1_log_options.value
        log_output_format = "json"
      }
    }
  }

  dynamic "tunnel2_log_options" {
    for_each = var.vpn.tunnel_log_group_arn == null ? [] : [var.vpn.tunnel_log_group_arn]
    content {
      cloudwatch_log_options {
        log_enabled       = true
        log_group_arn     = tunnel2_log_options.value
        log_output_format = "json"
      }
    }
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_vpn_connection_route" "this" {
  for_each = var.vpn == null ? toset([]) : toset(var.vpn.static_routes)

  destination_cidr_block = each.value
  vpn_connection_id      = aws_vpn_connection.this[0].id
}

# The client's networks are reachable from the private and data subnets.
resource "aws_vpn_gateway_route_propagation" "private" {
  for_each = var.vpn == null ? {} : local.zones

  vpn_gateway_id = aws_vpn_gateway.this[0].id
  route_table_id = aws_route_table.private[each.key].id
}
