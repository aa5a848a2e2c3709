output "zone_id" {
  description = "The hosted zone's ID."
  value       = aws_route53_zone.this.zone_id
}

output "name_servers" {
  description = "Name servers to delegate a public zone to at the parent."
  value       = aws_route53_zone.this.name_servers
}

output "fqdns" {
  description = "Fully qualified name of each record, by record key."
  value       = { for key, r in aws_route53_record.this : key => r.fqdn }
}
