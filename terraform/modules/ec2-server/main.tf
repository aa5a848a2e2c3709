# One Debian server: the instance (IMDSv2 only, encrypted gp3 root, no public
# address, detailed monitoring), an optional encrypted data volume that the
# runners back up and disaster recovery restores from a snapshot, its own
# instance role (CloudWatch agent, optionally SSM), and the cloud-config it
# boots with (./cloud-config).

data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_subnet" "this" {
  id = var.subnet_id
}

# Debian's own images (account 136693071363 publishes the official ones).
data "aws_ami" "debian" {
  count = var.ami_id == null ? 1 : 0

  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-${var.debian_release}-${var.architecture}-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

locals {
  p    = data.aws_partition.current.partition
  name = "${var.name_prefix}-${var.hostname}"
  ami  = coalesce(var.ami_id, one(data.aws_ami.debian[*].id))
  volume_tags = merge(
    var.tags,
    { Name = "${var.hostname}-data" },
    var.backup_tag == null ? {} : { (var.backup_tag.key) = var.backup_tag.value },
  )
}

resource "aws_ebs_volume" "data" {
  count = var.data_volume == null ? 0 : 1

  availability_zone = data.aws_subnet.this.availability_zone
  size              = var.data_volume.size_gb
  type              = var.data_volume.type
  encrypted         = true
  kms_key_id        = var.kms_key_arn
  snapshot_id       = var.snapshot_id
  final_snapshot    = var.final_snapshot
  tags              = local.volume_tags

  lifecycle {
    # A restore sets snapshot_id once; clearing it afterwards must not
    # replace (and so empty) the restored volume.
    ignore_changes = [snapshot_id]
  }
}

module "cloud_config" {
  source = "./cloud-config"

  hostname           = var.hostname
  domain             = var.domain
  region             = data.aws_region.current.name
  puppet_server      = var.cloud_config.puppet_server
  puppet_environment = var.cloud_config.puppet_environment
  log_files          = var.cloud_config.log_files
  nfs_mounts         = var.cloud_config.nfs_mounts
  extra_packages     = var.cloud_config.extra_packages
  data_volume = var.data_volume == null ? null : {
    volume_id   = aws_ebs_volume.data[0].id
    mount_point = var.data_volume.mount_point
  }
}

# --- The server's own role -------------------------------------------------

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.name
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "ShipLogs"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = concat(var.log_group_arns, [for arn in var.log_group_arns : "${arn}:*"])
  }
}

resource "aws_iam_role_policy" "logs" {
  name   = "ship-logs"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.logs.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count = var.enable_ssm ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.p}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name = local.name
  role = aws_iam_role.this.name
  tags = var.tags
}

# --- The instance ----------------------------------------------------------

resource "aws_instance" "this" {
  #checkov:skip=CKV_AWS_126:Detailed monitoring is on by default (detailed_monitoring = true); only the embedded AWS profile turns it off, because moto lacks MonitorInstances. checkov cannot evaluate the variable.
  ami                         = local.ami
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = var.security_group_ids
  iam_instance_profile        = aws_iam_instance_profile.this.name
  associate_public_ip_address = false
  ebs_optimized               = true
  monitoring                  = var.detailed_monitoring
  disable_api_termination     = var.termination_protection
  user_data                   = module.cloud_config.rendered

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gb
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    delete_on_termination = true
    tags                  = merge(var.tags, { Name = "${var.hostname}-root" })
  }

  # The root volume is tagged in root_block_device, never with volume_tags:
  # volume_tags applies to every volume attached to the instance, so it and
  # the data volume's own tags would overwrite each other on every apply.
  tags = merge(var.tags, { Name = var.hostname, FQDN = module.cloud_config.fqdn })

  lifecycle {
    # A newer Debian image or an edited cloud-config applies to servers
    # built from now on; a running server is never rebuilt for it. Puppet
    # manages it after the first boot.
    ignore_changes = [ami, user_data]
  }
}

resource "aws_volume_attachment" "data" {
  count = var.data_volume == null ? 0 : 1

  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data[0].id
  instance_id = aws_instance.this.id
}
