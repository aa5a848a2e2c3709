# A hosted zone (public, or private to some VPCs) and its records.

locals {
  records = {
    for key, r in var.records : key => merge(r, {
      name = split(" ", key)[0] == "@" ? var.zone_name : "${split(" ", key)[0]}.${var.zone_name}"
      type = split(" ", key)[1]
    })
  }
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

  dynamic "alias" {
    for_each = each.value.alias == null ? [] : [each.value.alias]
    content {
      name                   = alias.value.name
      zone_id                = alias.value.zone_id
      evaluate_target_health = alias.value.evaluate_target_health
    }
  }
}
