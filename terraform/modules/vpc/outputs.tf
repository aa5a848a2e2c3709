output "vpc_id" {
  description = "The VPC's ID."
  value       = aws_vpc.this.id
}

output "cidr_block" {
  description = "The VPC's IPv4 range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (load balancers, NAT), by zone."
  value       = { for az, _ in local.zones : az => aws_subnet.this["public-${az}"].id }
}

output "private_subnet_ids" {
  description = "Private subnets (servers), by zone."
  value       = { for az, _ in local.zones : az => aws_subnet.this["private-${az}"].id }
}

output "data_subnet_ids" {
  description = "Data subnets (databases, caches, file systems), by zone."
  value       = { for az, _ in local.zones : az => aws_subnet.this["data-${az}"].id }
}

output "private_route_table_ids" {
  description = "Route tables of the private and data subnets, by zone."
  value       = { for az, rt in aws_route_table.private : az => rt.id }
}

output "nat_public_ips" {
  description = "Addresses the servers' outbound traffic comes from (for the client's allow-lists)."
  value       = [for eip in aws_eip.nat : eip.public_ip]
}

output "vpn_connection_id" {
  description = "The VPN connection, or null."
  value       = one(aws_vpn_connection.this[*].id)
}

output "vpn_tunnel_addresses" {
  description = "The AWS ends of the two VPN tunnels, for the client's device configuration."
  value       = var.vpn == null ? [] : [aws_vpn_connection.this[0].tunnel1_address, aws_vpn_connection.this[0].tunnel2_address]
}
