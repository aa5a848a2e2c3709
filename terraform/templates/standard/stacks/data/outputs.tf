output "data_kms_key_arn" {
  description = "The data key: put it into the bootstrap stack's data_kms_key_arns so backups can be copied."
  value       = aws_kms_key.data.arn
}

output "database" {
  description = "The database's identifier, address and port."
  value = {
    identifier = module.database.identifier
    address    = module.database.address
    port       = module.database.port
  }
}

output "cache_endpoint" {
  description = "The cache's primary endpoint, or null when the cache is switched off."
  value       = var.features.cache ? module.cache[0].primary_endpoint : null
}
