output "log_group_names" {
  description = "Log group names by short name (servers/syslog, network/flow-logs, cache, api, ...)."
  value       = module.logging.log_group_names
}

output "access_log_bucket" {
  description = "The bucket the load balancers write their access logs to."
  value       = module.logging.access_log_bucket
}
