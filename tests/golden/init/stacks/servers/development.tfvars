client             = "acme"
environment        = "development"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
domain             = "dev.acme.internal"

servers = {
  app-1 = { instance_type = "t3.medium", zone = 0 }
  app-2 = { instance_type = "t3.medium", zone = 1 }
  app-3 = { instance_type = "t3.medium", zone = 2 }
}

puppet = {
  server      = "puppet.dev.acme.internal"
  environment = "development"
}

# Not backed up: the daily policy selects runners:backup = "daily". Name a
# policy of runners.toml here to have this environment backed up too.
backup_policy = "none"
