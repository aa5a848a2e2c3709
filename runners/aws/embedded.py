"""The embedded AWS: a ``moto[server]`` process on 127.0.0.1 at a free port.

boto3 and Terraform's S3 backend both reach it through ``AWS_ENDPOINT_URL``.
Moto honours S3 conditional writes (``If-None-Match``), so Terraform's
``use_lockfile`` locks and the runner's own stack locks really contend.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runners.errors import RunnersError

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's documented dummy value
    "AWS_SESSION_TOKEN": "testing",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedAWS:
    region: str = "eu-west-1"
    load_default_amis: bool = False
    log_path: Path | None = None
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        """What a process needs to use this AWS and nothing else."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def apply_to(self, environ: dict[str, str] | os._Environ[str]) -> None:
        environ.update(self.environ())
        for var in (
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ):
            environ.pop(var, None)

    def start(self, timeout: float = 30.0) -> EmbeddedAWS:
        for _attempt in range(3):
            self.port = free_port()
            env = {
                **os.environ,
                "MOTO_EC2_LOAD_DEFAULT_AMIS": "true" if self.load_default_amis else "false",
            }
            out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "runners.aws.motoserver",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                stdin=subprocess.DEVNULL,
            )
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RunnersError(
            "the embedded AWS (moto server) did not start; is moto[server] installed?"
        )

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):  # noqa: S310  # loopback http  # noqa: S310
                    return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        return False

    def reset(self) -> None:
        """Forget every resource (moto's reset API), keeping the server up."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310  # loopback http
        with urllib.request.urlopen(req, timeout=10):  # noqa: S310  # loopback http
            pass

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


@contextlib.contextmanager
def running(region: str = "eu-west-1", **kw: object) -> Iterator[EmbeddedAWS]:
    aws = EmbeddedAWS(region=region, **kw).start()  # type: ignore[arg-type]
    try:
        yield aws
    finally:
        aws.stop()
