client             = "acme"
environment        = "production"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.20.0.0/16"
domain             = "prod.acme.internal"

vpn = {
  customer_gateway_ip = "203.0.113.10"
  static_routes       = ["192.168.0.0/16"]
}

servers = {
  web-1    = { role = "web", instance_type = "m7i.large", zone = 0 }
  web-2    = { role = "web", instance_type = "m7i.large", zone = 1 }
  api-1    = { role = "api", instance_type = "m7i.large", zone = 0 }
  api-2    = { role = "api", instance_type = "m7i.large", zone = 1 }
  worker-1 = { role = "worker", instance_type = "c7i.large", zone = 2, data_gb = 100 }
}

puppet = {
  server      = "puppet.acme.example"
  environment = "production"
}

certificate_arn = "arn:aws:acm:eu-west-1:777788889999:certificate/0a1b2c3d-0000-4000-8000-000000000001"
web_host_names  = ["www.acme.example"]

api = {
  certificate_arn = "arn:aws:acm:eu-west-1:777788889999:certificate/0a1b2c3d-0000-4000-8000-000000000002"
  host_name       = "api.prod.acme.internal"
  jwt_issuer      = "https://sso.acme.example/realms/acme"
  jwt_audiences   = ["acme-api"]
}

database = {
  instance_class       = "db.m7g.large"
  allocated_storage_gb = 100
  multi_az             = true
}

cache = {
  node_type = "cache.m7g.large"
  nodes     = 2
}
