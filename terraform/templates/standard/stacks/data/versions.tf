terraform {
  # use_lockfile (S3 lock files) needs Terraform 1.10.
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 6.0.0"
    }
  }

  # Partial configuration: runners.toml's [environments.<env>.backend]
  # (bucket, key, region, use_lockfile) completes it.
  backend "s3" {}
}
