output "bucket_name" {
  description = "The replica bucket in the backup region."
  value       = aws_s3_bucket.replica.id
}

output "bucket_arn" {
  description = "The replica bucket's ARN."
  value       = aws_s3_bucket.replica.arn
}

output "kms_key_arn" {
  description = "The backup region's key: snapshot copies and replicas are encrypted with it."
  value       = aws_kms_key.backup.arn
}

output "region" {
  description = "The backup region."
  value       = data.aws_region.backup.name
}

output "replication_role_arn" {
  description = "The role S3 replication runs as."
  value       = aws_iam_role.replication.arn
}
