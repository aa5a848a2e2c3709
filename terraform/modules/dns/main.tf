# A hosted zone (public, or private to some VPCs) and its records.

locals {
  records = {
    for key, r in var.records : key => merge(r, {
      name = split(" ", key)[0] == "@" ? var.zone_name : "${split(" ", key)[0]}.${var.zone_name}"
      type = split(" ", key)[1]
    })
  }
  # Failover records whose health check the module makes.
  health_checks = { for key, r in var.records : key => r.failover.health_check if r.failover != null && try(r.failover.health_check != null, false) }
}

# Route 53 probes the primary's endpoint; when it fails, answers switch to
# the SECONDARY record of the same name (the backup region's, for example).
resource "aws_route53_health_check" "this" {
  for_each = local.health_checks

  fqdn              = each.value.fqdn
  port              = each.value.port
  type              = each.value.type
  resource_path     = each.value.type == "TCP" ? null : each.value.resource_path
  failure_threshold = each.value.failure_threshold
  request_interval  = 30
  tags              = merge(var.tags, { Name = "${var.zone_name} ${each.key}" })
}

resource "aws_route53_zone" "this" {
  name          = var.zone_name
  comment       = "Managed by Terraform"
  force_destroy = false
  tags          = var.tags

  dynamic "vpc" {
    for_each = var.private_vpc_ids
    content {
      vpc_id = vpc.value
    }
  }
}

resource "aws_route53_query_log" "this" {
  count = var.query_log_group_arn != null && length(var.private_vpc_ids) == 0 ? 1 : 0

  zone_id                  = aws_route53_zone.this.zone_id
  cloudwatch_log_group_arn = var.query_log_group_arn
}

resource "aws_route53_record" "this" {
  for_each = local.records

  zone_id = aws_route53_zone.this.zone_id
  name    = each.value.name
  type    = each.value.type
  ttl     = each.value.alias == null ? each.value.ttl : null
  records = each.value.alias == null ? each.value.records : null

  set_identifier  = each.value.failover == null ? null : each.value.failover.set_identifier
  health_check_id = contains(keys(local.health_checks), each.key) ? aws_route53_health_check.this[each.key].id : null

  dynamic "failover_routing_policy" {
    for_each = each.value.failover == null ? [] : [each.value.failover.role]
    content {
      type = failover_routing_policy.value
    }
  }

  dynamic "alias" {
    for_each = each.value.alias == null ? [] : [each.value.alias]
    content {
      name                   = alias.value.name
      zone_id                = alias.value.zone_id
      evaluate_target_health = alias.value.evaluate_target_health
    }
  }
}
