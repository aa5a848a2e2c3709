client        = "acme"
environment   = "development"
region        = "eu-west-1"
backup_region = "eu-central-1"
runner_principal_arns = {
  plan   = "arn:aws:iam::111122223333:user/acme-development-runners-plan"
  apply  = "arn:aws:iam::111122223333:user/acme-development-runners-apply"
  backup = "arn:aws:iam::111122223333:user/acme-development-runners-backup"
}
data_kms_key_arns = ["arn:aws:kms:eu-west-1:444455556666:key/1111aaaa-22bb-33cc-44dd-555555eeeeee"]
