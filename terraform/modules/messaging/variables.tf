variable "name" {
  description = "Prefix of the queue and topic names."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1-40 letters, digits, '_' and '-'."
  }
}

variable "queues" {
  description = "SQS queues by short name: visibility timeout, retention, and how many receives before a message goes to the queue's dead-letter queue."
  type = map(object({
    visibility_timeout_seconds = optional(number, 30)
    retention_days             = optional(number, 4)
    max_receive_count          = optional(number, 5)
    fifo                       = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.queues) : can(regex("^[A-Za-z0-9_-]{1,30}$", k))])
    error_message = "queues keys must be 1-30 letters, digits, '_' and '-'."
  }

  validation {
    condition     = alltrue([for q in values(var.queues) : q.retention_days >= 1 && q.retention_days <= 14 && q.visibility_timeout_seconds <= 43200 && q.max_receive_count >= 1])
    error_message = "retention_days must be 1-14, visibility_timeout_seconds at most 43200, max_receive_count at least 1."
  }
}

variable "topics" {
  description = "SNS topics by short name, with the queues (short names) subscribed to them."
  type = map(object({
    queue_subscriptions = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for t in values(var.topics) : alltrue([for q in t.queue_subscriptions : contains(keys(var.queues), q)])])
    error_message = "topics[*].queue_subscriptions may only name queues defined in queues."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
}

variable "dead_letter_source_policy" {
  description = "Allow only its own queue to use each dead-letter queue (SQS redrive allow policy). Off only where the API is missing (the embedded AWS)."
  type        = bool
  default     = true
}
