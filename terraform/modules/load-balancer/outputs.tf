output "arn" {
  description = "The load balancer's ARN."
  value       = aws_lb.this.arn
}

output "dns_name" {
  description = "The load balancer's DNS name (for a dns alias record)."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "The load balancer's hosted zone (for a dns alias record)."
  value       = aws_lb.this.zone_id
}

output "https_listener_arn" {
  description = "The HTTPS listener (API Gateway's VPC link integrates with it)."
  value       = aws_lb_listener.https.arn
}

output "target_group_arns" {
  description = "Target group ARN by application."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn }
}
