client              = "acme"
environment         = "development"
region              = "eu-west-1"
trusted_account_ids = ["111122223333"]

custom_roles = {
  developers = {
    description         = "Acme's developers: full access to the development account"
    managed_policy_arns = ["arn:aws:iam::aws:policy/PowerUserAccess"]
    max_session_hours   = 8
  }
}
