# The cloud-config a server boots with, from cloud-config.yaml.tftpl.
# Values go into the template through jsonencode(), which YAML reads as
# quoted scalars and flow sequences, so no value can break the document.

locals {
  fqdn = "${var.hostname}.${var.domain}"

  packages = distinct(concat(
    # Orchestration: Puppet, and what its modules and the team's scripts use.
    ["puppet-agent", "git", "ca-certificates", "curl", "gnupg", "jq", "python3"],
    # AWS command line tools, from Debian.
    ["awscli"],
    # Debian logs to the journal only; rsyslog writes the files the
    # CloudWatch agent ships.
    ["rsyslog"],
    length(var.nfs_mounts) > 0 ? ["nfs-common"] : [],
    var.extra_packages,
  ))

  cloudwatch_agent_config = {
    agent = {
      region      = var.region
      run_as_user = "root"
      logfile     = "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log"
    }
    logs = {
      force_flush_interval = 15
      logs_collected = {
        files = {
          collect_list = [
            for f in var.log_files : {
              file_path         = f.path
              log_group_name    = f.log_group_name
              log_stream_name   = local.fqdn
              retention_in_days = -1 # the log group's own retention (logging module) applies
            }
          ]
        }
      }
    }
  }

  rendered = templatefile("${path.module}/cloud-config.yaml.tftpl", {
    hostname               = var.hostname
    fqdn                   = local.fqdn
    timezone               = var.timezone
    region                 = var.region
    debian_mirror          = var.debian_mirror
    debian_security_mirror = var.debian_security_mirror
    packages               = local.packages
    puppet_server          = var.puppet_server
    puppet_environment     = var.puppet_environment
    cloudwatch_config      = jsonencode(local.cloudwatch_agent_config)
    cloudwatch_agent_url   = var.cloudwatch_agent_url
    cloudwatch_fingerprint = var.cloudwatch_agent_key_fingerprint
    # HCL evaluates both branches of a template's %{if}: pass plain values.
    has_data_volume  = var.data_volume != null
    data_device      = var.data_volume == null ? "" : "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${replace(var.data_volume.volume_id, "-", "")}"
    data_mount_point = var.data_volume == null ? "" : var.data_volume.mount_point
    nfs_mounts       = var.nfs_mounts
  })
}
