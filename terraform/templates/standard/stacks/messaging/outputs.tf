output "queue_urls" {
  description = "Queue URLs by short name."
  value       = module.messaging.queue_urls
}

output "topic_arns" {
  description = "Topic ARNs by short name."
  value       = module.messaging.topic_arns
}
