"""The clients disaster recovery uses: the backup engines' (EC2, RDS, KMS), plus any by name.

``runners.aws.session.SessionFactory`` is one; tests hand in a factory whose
clients carry fault hooks or a botocore Stubber.
"""

from __future__ import annotations

from typing import Any, Protocol

import boto3

from runners.backup.engines import Clients


class DrClients(Clients, Protocol):
    def client(self, service: str, region: str, account: str | None = None) -> Any: ...

    def session(self, account: str | None) -> boto3.Session:
        """The account's session, for a client that needs a configuration of its own."""
        ...
