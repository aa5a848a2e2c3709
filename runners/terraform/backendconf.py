"""The ``-backend-config`` values runners.toml may set, checked when the file loads.

Terraform checks a backend's arguments only at ``init``, and runners reads some
of them itself before that (the state bucket and its region hold the locks and
the audit records). So a backend table is held to the arguments of the s3
backend (Terraform 1.15), plus the local backend's, which rehearsals and tests
use: a misspelt key, a wrong type, an empty string or an impossible region
fails at load, naming the key. Lists and blocks (``endpoints``,
``assume_role``, ``allowed_account_ids``...) are written as the HCL text
``-backend-config`` takes (``endpoints = '{ s3 = "https://..." }'``), and
credentials never belong in the file.
"""

from __future__ import annotations

import re

from runners.confread import Table

BackendConfig = dict[str, str | int | bool]

_STRINGS = (
    "bucket",
    "key",
    "region",
    "acl",
    "kms_key_id",
    "dynamodb_table",
    "dynamodb_endpoint",
    "ec2_metadata_service_endpoint",
    "ec2_metadata_service_endpoint_mode",
    "endpoint",
    "iam_endpoint",
    "sts_endpoint",
    "sts_region",
    "profile",
    "retry_mode",
    "shared_credentials_file",
    "workspace_key_prefix",
    "custom_ca_bundle",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    # lists and blocks, as HCL text
    "endpoints",
    "assume_role",
    "assume_role_with_web_identity",
    "allowed_account_ids",
    "forbidden_account_ids",
    "shared_config_files",
    "shared_credentials_files",
    # the local backend
    "path",
    "workspace_dir",
)
_BOOLEANS = (
    "encrypt",
    "use_lockfile",
    "skip_credentials_validation",
    "skip_requesting_account_id",
    "skip_metadata_api_check",
    "skip_region_validation",
    "skip_s3_checksum",
    "force_path_style",
    "use_path_style",
    "insecure",
    "use_fips_endpoint",
    "use_dualstack_endpoint",
)
_INTEGERS = ("max_retries",)
_SECRETS = ("access_key", "secret_key", "token", "sse_customer_key")
_REGIONS = ("region", "sts_region")
KEYS = (*_STRINGS, *_BOOLEANS, *_INTEGERS)

# S3's rules for a bucket name, after the {stack}, {env} and {region}
# placeholders are filled.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PLACEHOLDER = re.compile(r"\{(?:stack|env|region)\}")


def parse_backend(table: Table) -> BackendConfig:
    """A backend table's values, each checked against the argument it sets."""
    for key in _SECRETS:
        if key in table.data:
            raise table.fail(
                key,
                "never put credentials in runners.toml; the backend takes them from the "
                "environment Jenkins binds (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...)",
            )
    table.only(*KEYS)
    out: BackendConfig = {}
    for key in table.data:
        if key in _BOOLEANS:
            out[key] = table.bool(key, False)
        elif key in _INTEGERS:
            out[key] = table.int(key, 0, maximum=100)
        elif key in _REGIONS:
            out[key] = table.region(key) or ""
        else:
            out[key] = table.str(key) or ""
    bucket = out.get("bucket")
    if isinstance(bucket, str) and not _BUCKET.match(_PLACEHOLDER.sub("x" * 3, bucket)):
        raise table.fail(
            "bucket", f"expected an S3 bucket name such as acme-tfstate, got {bucket!r}"
        )
    return out
