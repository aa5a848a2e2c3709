output "servers" {
  description = "Each server's fully qualified name, private address and instance."
  value = {
    for host, s in module.server : host => {
      fqdn        = s.fqdn
      private_ip  = s.private_ip
      instance_id = s.instance_id
      data_volume = s.data_volume_id
    }
  }
}

output "web_endpoint" {
  description = "The public load balancer's DNS name (point the web host names at it)."
  value       = module.web_lb.dns_name
}

output "api_endpoint" {
  description = "The API's URL."
  value       = module.api.endpoint
}

output "database" {
  description = "The database's identifier (what the runners snapshot), endpoint and credentials secret."
  value = {
    identifier = module.database.identifier
    endpoint   = module.database.endpoint
    secret_arn = module.database.master_user_secret_arn
  }
}

output "cache_endpoint" {
  description = "The cache's primary endpoint."
  value       = one(module.cache[*].primary_endpoint)
}

output "shared_file_system" {
  description = "The EFS file system mounted on the web and api servers."
  value       = module.shared.mount
}

output "queues" {
  description = "Queue URLs by name."
  value       = module.messaging.queue_urls
}

output "vpn_tunnel_addresses" {
  description = "AWS ends of the VPN tunnels, for the client's device."
  value       = module.network.vpn_tunnel_addresses
}

output "data_kms_key_arn" {
  description = "The data key: add it to the bootstrap stack's data_kms_key_arns."
  value       = aws_kms_key.data.arn
}
