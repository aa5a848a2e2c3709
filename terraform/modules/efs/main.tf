# A NAS drive: an encrypted EFS file system with a mount target in each zone,
# NFS open only to the servers' security groups, AWS Backup on, and the
# mount the servers' cloud-config uses (output "mount").

resource "aws_efs_file_system" "this" {
  creation_token   = var.name
  encrypted        = true
  kms_key_id       = var.kms_key_arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"

  lifecycle_policy {
    transition_to_ia = var.transition_to_ia
  }

  lifecycle_policy {
    transition_to_primary_storage_class = "AFTER_1_ACCESS"
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_efs_backup_policy" "this" {
  count = var.backup_policy ? 1 : 0

  file_system_id = aws_efs_file_system.this.id
  backup_policy {
    status = "ENABLED"
  }
}

resource "aws_security_group" "mount_targets" {
  name        = "${var.name}-efs"
  description = "NFS to the ${var.name} file system from its clients"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-efs" })
}

# Keyed by the caller's names, which are known at plan time: security group
# ids are not until the groups exist, and a for_each over them fails the
# first plan of a stack that creates them.
resource "aws_vpc_security_group_ingress_rule" "nfs" {
  for_each = var.client_security_groups

  security_group_id            = aws_security_group.mount_targets.id
  description                  = "NFS from ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = each.value
}

resource "aws_efs_mount_target" "this" {
  for_each = var.subnet_ids

  file_system_id  = aws_efs_file_system.this.id
  subnet_id       = each.value
  security_groups = [aws_security_group.mount_targets.id]
}
