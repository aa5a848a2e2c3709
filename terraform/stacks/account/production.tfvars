client              = "acme"
environment         = "production"
region              = "eu-west-1"
trusted_account_ids = ["111122223333"]

custom_roles = {
  developers = {
    description         = "Acme's developers: read-only in production"
    managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    max_session_hours   = 4
  }
}
