# Traffic: the public load balancer in front of the servers, the internal one
# the API gateway reaches through its VPC link, the HTTP API, and the private
# DNS zone with a record per server and one for the API.

locals {
  name = "${var.client}-${var.environment}-${var.region}"
}

data "aws_vpc" "this" {
  tags = { Name = local.name }
}

data "aws_subnets" "tier" {
  for_each = toset(["public", "private"])

  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.this.id]
  }
  tags = { Tier = each.key }
}

data "aws_security_group" "tier" {
  for_each = toset(["public-lb", "internal-lb", "api-link"])

  vpc_id = data.aws_vpc.this.id
  name   = "${local.name}-${each.key}"
}

# The servers stack's instances, by the fully qualified name each carries.
data "aws_instance" "server" {
  for_each = toset(var.server_names)

  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.this.id]
  }
  filter {
    name   = "tag:FQDN"
    values = ["${each.key}.${var.domain}"]
  }
  filter {
    name   = "instance-state-name"
    values = ["pending", "running", "stopping", "stopped"]
  }
}

data "aws_cloudwatch_log_group" "api" {
  name = "/${local.name}/api"
}

module "web_lb" {
  source = "../../modules/load-balancer"

  name               = substr("${local.name}-web", 0, 32)
  vpc_id             = data.aws_vpc.this.id
  subnet_ids         = data.aws_subnets.tier["public"].ids
  security_group_ids = [data.aws_security_group.tier["public-lb"].id]
  certificate_arn    = var.certificate_arn
  access_log_bucket  = "${local.name}-access-logs"
  applications = {
    web = {
      priority   = 10
      host_names = var.web_host_names
      port       = var.app_port
      instances  = { for host, server in data.aws_instance.server : host => server.id }
    }
  }
}

module "api_lb" {
  source = "../../modules/load-balancer"

  name               = substr("${local.name}-api", 0, 32)
  internal           = true
  vpc_id             = data.aws_vpc.this.id
  subnet_ids         = data.aws_subnets.tier["private"].ids
  security_group_ids = [data.aws_security_group.tier["internal-lb"].id]
  certificate_arn    = var.api.certificate_arn
  access_log_bucket  = "${local.name}-access-logs"
  applications = {
    api = {
      priority          = 10
      host_names        = [var.api.host_name]
      port              = var.app_port
      health_check_path = "/health"
      instances         = { for host, server in data.aws_instance.server : host => server.id }
    }
  }
}

module "api" {
  source = "../../modules/api-gateway"

  name                 = local.name
  subnet_ids           = data.aws_subnets.tier["private"].ids
  security_group_ids   = [data.aws_security_group.tier["api-link"].id]
  listener_arn         = module.api_lb.https_listener_arn
  tls_server_name      = var.api.host_name
  jwt_authorizer       = { issuer = var.api.jwt_issuer, audiences = var.api.jwt_audiences }
  routes               = { "ANY /{proxy+}" = [] }
  access_log_group_arn = data.aws_cloudwatch_log_group.api.arn
}

module "dns" {
  source = "../../modules/dns"

  zone_name       = var.domain
  private_vpc_ids = [data.aws_vpc.this.id]
  records = merge(
    { for host, server in data.aws_instance.server : "${host} A" => { records = [server.private_ip] } },
    {
      "${trimsuffix(var.api.host_name, ".${var.domain}")} A" = {
        alias = { name = module.api_lb.dns_name, zone_id = module.api_lb.zone_id }
      }
    },
  )
}
