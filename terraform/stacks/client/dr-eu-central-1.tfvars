# Disaster recovery in eu-central-1: the values of production.tfvars that name
# eu-west-1 and that runners dr prepare does not set itself (it sets the region,
# zones, images, snapshots and keys). Named by [dr.stacks.client] var_files =
# ["dr-{region}.tfvars"]; dr prepare lists every regional literal it does not
# find replaced here. Request the certificates in eu-central-1 ahead of time.

certificate_arn = "arn:aws:acm:eu-central-1:777788889999:certificate/0a1b2c3d-0000-4000-8000-0000000000c1"

api = {
  certificate_arn = "arn:aws:acm:eu-central-1:777788889999:certificate/0a1b2c3d-0000-4000-8000-0000000000c2"
  host_name       = "api.prod.acme.internal"
  jwt_issuer      = "https://sso.acme.example/realms/acme"
  jwt_audiences   = ["acme-api"]
}
