variable "client" {
  description = "Short name of the client, the first part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.client))
    error_message = "client must be 2-12 lower-case letters and digits, starting with a letter."
  }
}

variable "environment" {
  description = "development or production."
  type        = string

  validation {
    condition     = contains(["development", "production"], var.environment)
    error_message = "environment must be development or production."
  }
}

variable "region" {
  description = "Region the stack is built in: the primary region, or the backup region when disaster recovery rebuilds it there."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "queues" {
  description = "SQS queues by short name (the messaging module's queues)."
  type = map(object({
    visibility_timeout_seconds = optional(number, 30)
    retention_days             = optional(number, 4)
    max_receive_count          = optional(number, 5)
    fifo                       = optional(bool, false)
  }))
  default = {}
}

variable "topics" {
  description = "SNS topics by short name, with the queues subscribed to them (the messaging module's topics)."
  type = map(object({
    queue_subscriptions = optional(list(string), [])
  }))
  default = {}
}

variable "server_names" {
  description = "Host names of the servers stack's servers, whose roles may publish to the topics and use the queues."
  type        = list(string)
  default     = []
}

variable "features" {
  description = "Parts of the stack that can be switched off; on by default. The embedded AWS (moto) profile turns off what moto does not implement."
  type = object({
    dead_letter_source_policy = optional(bool, true) # SQS RedriveAllowPolicy
  })
  default = {}
}
