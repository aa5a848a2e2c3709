output "identifier" {
  description = "The instance's identifier (what the runners snapshot)."
  value       = aws_db_instance.this.identifier
}

output "arn" {
  description = "The instance's ARN."
  value       = aws_db_instance.this.arn
}

output "endpoint" {
  description = "host:port to connect to."
  value       = aws_db_instance.this.endpoint
}

output "address" {
  description = "The host name to connect to."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "The port the database listens on."
  value       = aws_db_instance.this.port
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret holding the master credentials (RDS rotates it)."
  value       = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}
