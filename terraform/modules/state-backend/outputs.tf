output "bucket_name" {
  description = "The state bucket's name, for each stack's backend configuration."
  value       = aws_s3_bucket.state.id
}

output "bucket_arn" {
  description = "The state bucket's ARN, for the runner roles and replication."
  value       = aws_s3_bucket.state.arn
}

output "kms_key_arn" {
  description = "The key that encrypts the state."
  value       = aws_kms_key.state.arn
}

output "backend_config" {
  description = "What runners.toml's [environments.<env>.backend] table needs."
  value = {
    bucket       = aws_s3_bucket.state.id
    encrypt      = true
    kms_key_id   = aws_kms_key.state.arn
    use_lockfile = true
  }
}
