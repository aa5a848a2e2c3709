client             = "acme"
environment        = "development"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b"]
vpc_cidr           = "10.10.0.0/16"
domain             = "dev.acme.internal"
single_nat_gateway = true

servers = {
  web-1    = { role = "web", instance_type = "t3.medium", zone = 0 }
  web-2    = { role = "web", instance_type = "t3.medium", zone = 1 }
  api-1    = { role = "api", instance_type = "t3.medium", zone = 0 }
  api-2    = { role = "api", instance_type = "t3.medium", zone = 1 }
  worker-1 = { role = "worker", instance_type = "t3.medium", zone = 0, data_gb = 50 }
}

puppet = {
  server      = "puppet.acme.example"
  environment = "development"
}

certificate_arn = "arn:aws:acm:eu-west-1:444455556666:certificate/0a1b2c3d-0000-4000-8000-000000000011"
web_host_names  = ["www.dev.acme.example"]

api = {
  certificate_arn = "arn:aws:acm:eu-west-1:444455556666:certificate/0a1b2c3d-0000-4000-8000-000000000012"
  host_name       = "api.dev.acme.internal"
  jwt_issuer      = "https://sso.acme.example/realms/acme-dev"
  jwt_audiences   = ["acme-api"]
}

database = {
  instance_class       = "db.t4g.medium"
  allocated_storage_gb = 20
  multi_az             = false
}

cache = {
  node_type = "cache.t4g.small"
  nodes     = 1
}
