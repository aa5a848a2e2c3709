output "servers" {
  description = "Each server's instance, private address, name and data volume, by host name."
  value = {
    for host, server in module.server : host => {
      instance_id    = server.instance_id
      private_ip     = server.private_ip
      fqdn           = server.fqdn
      data_volume_id = server.data_volume_id
      role_name      = server.role_name
    }
  }
}
