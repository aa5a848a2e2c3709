# Where the account's logs go: the log groups of the servers, the network's
# flow logs, the cache and the API, under one key; and the bucket the load
# balancers write their access logs to. The other stacks find these by name.

locals {
  # The region is in every name: a rebuild in the backup region must not
  # collide with what is left of the primary one.
  name = "${var.client}-${var.environment}-${var.region}"
}

module "logging" {
  source = "../../modules/logging"

  name                   = local.name
  default_retention_days = var.log_retention_days
  log_groups = {
    "servers/syslog"     = {}
    "servers/auth"       = {}
    "servers/cloud-init" = {}
    "network/flow-logs"  = {}
    "cache"              = {}
    "api"                = {}
  }
  access_log_bucket_name = "${local.name}-access-logs"
}
