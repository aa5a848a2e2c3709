output "queue_urls" {
  description = "Queue URL by short name."
  value       = { for k, q in aws_sqs_queue.this : k => q.id }
}

output "queue_arns" {
  description = "Queue ARN by short name."
  value       = { for k, q in aws_sqs_queue.this : k => q.arn }
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARN by short name (alarm on their depth)."
  value       = { for k, q in aws_sqs_queue.dead_letter : k => q.arn }
}

output "topic_arns" {
  description = "Topic ARN by short name."
  value       = { for k, t in aws_sns_topic.this : k => t.arn }
}

output "kms_key_arn" {
  description = "The key messages are encrypted with (producers and consumers need kms:GenerateDataKey / kms:Decrypt on it)."
  value       = aws_kms_key.this.arn
}
