output "instance_id" {
  description = "The instance's ID (for load balancer targets)."
  value       = aws_instance.this.id
}

output "private_ip" {
  description = "The server's private address."
  value       = aws_instance.this.private_ip
}

output "fqdn" {
  description = "The server's fully qualified name, as cloud-init sets it."
  value       = module.cloud_config.fqdn
}

output "data_volume_id" {
  description = "The data volume's ID, or null."
  value       = one(aws_ebs_volume.data[*].id)
}

output "role_name" {
  description = "The server's IAM role (attach more policies to it from the stack)."
  value       = aws_iam_role.this.name
}

output "ami_id" {
  description = "The image the server was built from."
  value       = aws_instance.this.ami
}
