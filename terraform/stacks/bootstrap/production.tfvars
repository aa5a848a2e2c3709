client        = "acme"
environment   = "production"
region        = "eu-west-1"
backup_region = "eu-central-1"
runner_principal_arns = {
  plan   = "arn:aws:iam::111122223333:user/acme-production-runners-plan"
  apply  = "arn:aws:iam::111122223333:user/acme-production-runners-apply"
  backup = "arn:aws:iam::111122223333:user/acme-production-runners-backup"
}
data_kms_key_arns = ["arn:aws:kms:eu-west-1:777788889999:key/6666ffff-77aa-88bb-99cc-000000dddddd"]
