client             = "acme"
environment        = "production"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
domain             = "prod.acme.internal"

servers = {
  app-1 = { instance_type = "m7i.large", zone = 0 }
  app-2 = { instance_type = "m7i.large", zone = 1 }
  app-3 = { instance_type = "m7i.large", zone = 2 }
}

puppet = {
  server      = "puppet.prod.acme.internal"
  environment = "production"
}
