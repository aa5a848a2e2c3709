output "primary_endpoint" {
  description = "Host name of the primary (writes)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint" {
  description = "Host name spreading reads over the replicas."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "Port (TLS)."
  value       = aws_elasticache_replication_group.this.port
}

output "id" {
  description = "The replication group's ID."
  value       = aws_elasticache_replication_group.this.id
}
