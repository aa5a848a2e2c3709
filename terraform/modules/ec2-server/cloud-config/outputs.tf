output "rendered" {
  description = "The cloud-config document (user data)."
  value       = local.rendered
}

output "fqdn" {
  description = "The server's fully qualified domain name."
  value       = local.fqdn
}

output "packages" {
  description = "The Debian packages the server installs at first boot."
  value       = local.packages
}
