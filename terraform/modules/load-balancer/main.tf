# An application load balancer: HTTPS only (HTTP redirects), a modern TLS
# policy, invalid headers dropped, access logs, deletion protection, and
# host-based routing to target groups of instances.

locals {
  default_app = [for k, a in var.applications : k if a.priority == min([for x in values(var.applications) : x.priority]...)][0]
  # Keyed by application and target name, both known at plan time; instance
  # ids are not until the instances exist (a for_each over them fails the
  # first plan of a stack that creates them).
  targets = merge([
    for app, a in var.applications : { for name, id in a.instances : "${app} ${name}" => { app = app, id = id, port = a.port } }
  ]...)
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_76:The web ACL (and its managed rule groups, Log4j's included) is the caller's, passed in web_acl_arn.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.subnet_ids
  security_groups            = var.security_group_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  access_logs {
    bucket  = var.access_log_bucket
    prefix  = "elb"
    enabled = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.web_acl_arn == null ? 0 : 1

  resource_arn = aws_lb.this.arn
  web_acl_arn  = var.web_acl_arn
}

resource "aws_lb_target_group" "this" {
  for_each = var.applications

  name     = substr("${var.name}-${each.key}", 0, 32)
  vpc_id   = var.vpc_id
  port     = each.value.port
  protocol = "HTTP"

  health_check {
    path                = each.value.health_check_path
    matcher             = "200-399"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_target_group_attachment" "this" {
  for_each = local.targets

  target_group_arn = aws_lb_target_group.this[each.value.app].arn
  target_id        = each.value.id
  port             = each.value.port
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[local.default_app].arn
  }

  tags = var.tags
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "host" {
  for_each = var.applications

  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority

  condition {
    host_header {
      values = each.value.host_names
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }

  tags = var.tags
}
