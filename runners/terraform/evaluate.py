"""The outputs of a provider-free module, and a stack's variables, as Terraform computes them.

Templates and policy documents live in small modules that need no provider
(``templatefile``, ``jsonencode``, locals), so the embedded Terraform can
evaluate them offline: a throwaway root calls the module with the given
inputs, plans, and the planned output values are read from ``show -json``.
Tests and lint checks read exactly what ``terraform apply`` would hand to AWS.
A stack's tfvars are read the same way, against its ``variables.tf`` alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runners.errors import InputError
from runners.fsutil import atomic_write_text
from runners.terraform.binary import TerraformBinary, resolve
from runners.terraform.engine import Option, Terraform, base_environment, build_args
from runners.terraform.modules import load_module


def _literal(value: Any) -> Any:
    """A JSON value Terraform's JSON syntax reads literally (no ``${`` templates)."""
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, Mapping):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_literal(item) for item in value]
    return value


def _planned_outputs(
    root: Path,
    workdir: Path,
    binary: TerraformBinary | None,
    environ: Mapping[str, str] | None = None,
    var_files: Sequence[Path] = (),
) -> dict[str, Any]:
    """init, plan and ``show -json`` a provider-free root; its planned output values."""
    env = base_environment(None, quiet=True)
    env.update(environ or {})
    env["TF_DATA_DIR"] = str(workdir / "data")
    tf = Terraform(binary or resolve(), env, timeout=300)
    tf.run(build_args(["init"], {"input": "false", "no_color": True}), root, stream=False)
    planfile = workdir / "tfplan"
    options: dict[str, Option] = {
        "input": "false",
        "no_color": True,
        "state": str(workdir / "state"),
        "var_file": [str(f.resolve()) for f in var_files] or None,
        "out": str(planfile),
    }
    tf.run(build_args(["plan"], options), root, stream=False)
    shown = workdir / "plan.json"
    tf.run(
        build_args(["show"], {"json": True}, [str(planfile)]), root, stdout_file=shown, stream=False
    )
    planned = json.loads(shown.read_text()).get("planned_values", {}).get("outputs", {})
    return {name: out.get("value") for name, out in planned.items()}


def module_outputs(
    module_dir: Path,
    inputs: Mapping[str, Any],
    workdir: Path,
    binary: TerraformBinary | None = None,
) -> dict[str, Any]:
    """Every output of ``module_dir`` called with ``inputs``; ``workdir`` holds the scratch root."""
    load_module(module_dir)  # a broken module fails here, naming its file and line
    root = workdir / "root"
    root.mkdir(parents=True, exist_ok=True)
    config = {
        "module": {"subject": {"source": str(module_dir.resolve()), **_literal(dict(inputs))}},
        # The module object holds every output of the module.
        "output": {"subject": {"value": "${module.subject}"}},
    }
    atomic_write_text(root / "main.tf.json", json.dumps(config, indent=2) + "\n")
    planned = _planned_outputs(root, workdir, binary)
    if "subject" not in planned:
        raise InputError(f"{module_dir}: Terraform planned no outputs for the module")
    return dict(planned["subject"])


def variable_values(
    stack_dir: Path,
    var_files: list[Path],
    workdir: Path,
    environ: Mapping[str, str] | None = None,
    binary: TerraformBinary | None = None,
) -> dict[str, Any]:
    """A stack's variables as Terraform reads them from ``var_files``, validations applied.

    Only the stack's ``variables.tf`` is used, so no provider is needed: a
    value that breaks a validation, a missing required variable or an
    unknown one fails here exactly as it would fail ``terraform plan``.
    ``environ`` supplies ``TF_VAR_*`` values (secrets kept out of tfvars).
    """
    source = stack_dir / "variables.tf"
    if not source.is_file():
        raise InputError(f"{stack_dir}: no variables.tf")
    root = workdir / "root"
    root.mkdir(parents=True, exist_ok=True)
    text = source.read_text()
    names = re.findall(r'^variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"', text, flags=re.MULTILINE)
    echo = {name: f"${{var.{name}}}" for name in names}
    atomic_write_text(root / "variables.tf", text)
    atomic_write_text(
        root / "echo.tf.json",
        json.dumps({"output": {"variables": {"value": echo, "sensitive": True}}}, indent=2) + "\n",
    )
    planned = _planned_outputs(root, workdir, binary, environ, var_files)
    return dict(planned["variables"])
