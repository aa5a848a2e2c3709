output "vpc_id" {
  description = "The VPC."
  value       = module.network.vpc_id
}

output "subnet_ids" {
  description = "Subnet IDs by tier (public, private, data) and zone."
  value = {
    public  = module.network.public_subnet_ids
    private = module.network.private_subnet_ids
    data    = module.network.data_subnet_ids
  }
}

output "security_group_ids" {
  description = "Security group IDs by tier."
  value       = { for tier, sg in aws_security_group.tier : tier => sg.id }
}
