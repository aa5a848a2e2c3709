output "id" {
  description = "The file system's ID."
  value       = aws_efs_file_system.this.id
}

output "dns_name" {
  description = "The name servers mount (resolves to the mount target in their zone)."
  value       = aws_efs_file_system.this.dns_name
}

output "mount" {
  description = "An entry for ec2-server's cloud_config.nfs_mounts."
  value = {
    dns_name    = aws_efs_file_system.this.dns_name
    mount_point = var.mount_point
  }
}

output "mount_target_ips" {
  description = "Mount target address by zone."
  value       = { for az, mt in aws_efs_mount_target.this : az => mt.ip_address }
}

output "security_group_id" {
  description = "The mount targets' security group."
  value       = aws_security_group.mount_targets.id
}
