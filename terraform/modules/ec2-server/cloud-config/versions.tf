# Provider-free on purpose: the user data is rendered with templatefile()
# alone, so the embedded Terraform renders it offline and the tests read
# exactly what the server receives.
terraform {
  required_version = ">= 1.5.0, < 2.0.0"
}
