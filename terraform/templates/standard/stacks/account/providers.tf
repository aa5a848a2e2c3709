provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Client      = var.client
      Environment = var.environment
      ManagedBy   = "terraform"
      Stack       = "account"
    }
  }
}
