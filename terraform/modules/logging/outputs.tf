output "log_group_names" {
  description = "Log group name by short name (/<name>/<short name>)."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "log_group_arns" {
  description = "Log group ARN by short name."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.arn }
}

output "kms_key_arn" {
  description = "The key the log groups are encrypted with (null without log groups)."
  value       = one(aws_kms_key.logs[*].arn)
}

output "access_log_bucket" {
  description = "The access-log bucket's name, or null when none was asked for."
  value       = one(aws_s3_bucket.access_logs[*].id)
  # S3 checks, when a bucket's logging is set, that the target lets the logging
  # service write: hand the name on only once the policy that does is in place.
  depends_on = [aws_s3_bucket_policy.access_logs]
}
