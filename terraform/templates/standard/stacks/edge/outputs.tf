output "web_dns_name" {
  description = "The public load balancer's DNS name, for the client's public records."
  value       = module.web_lb.dns_name
}

output "api_endpoint" {
  description = "The HTTP API's endpoint."
  value       = module.api.endpoint
}

output "zone_id" {
  description = "The private zone."
  value       = module.dns.zone_id
}
