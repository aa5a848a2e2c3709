# Messages: SQS queues with their dead-letter queues and SNS topics fanning
# out to them, under one key; and what each server's role may do with them.

locals {
  name = "${var.client}-${var.environment}-${var.region}"
}

module "messaging" {
  source = "../../modules/messaging"

  name   = local.name
  queues = var.queues
  topics = var.topics

  dead_letter_source_policy = var.features.dead_letter_source_policy
}

data "aws_iam_policy_document" "servers" {
  dynamic "statement" {
    for_each = length(var.topics) > 0 ? [1] : []
    content {
      sid       = "PublishToTopics"
      actions   = ["sns:Publish"]
      resources = values(module.messaging.topic_arns)
    }
  }
  dynamic "statement" {
    for_each = length(var.queues) > 0 ? [1] : []
    content {
      sid       = "ConsumeQueues"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:SendMessage"]
      resources = values(module.messaging.queue_arns)
    }
  }
  statement {
    sid       = "UseTheMessagingKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [module.messaging.kms_key_arn]
  }
}

# The servers stack's instance roles (ec2-server names each <prefix>-<host>).
resource "aws_iam_role_policy" "servers" {
  for_each = toset(var.server_names)

  name   = "messaging"
  role   = "${local.name}-${each.key}"
  policy = data.aws_iam_policy_document.servers.json
}
