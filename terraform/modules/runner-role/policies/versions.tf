# Provider-free on purpose: the policy documents are plain Terraform values,
# so the embedded Terraform evaluates them offline and the runners' tests
# read exactly what IAM receives.
terraform {
  required_version = ">= 1.9.0, < 2.0.0"
}
