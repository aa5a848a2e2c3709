"""The files of a new client's repository, rendered from a template set. Pure: nothing is
written here, and the same request always gives the same files (golden-tested).

The repository holds what docs/jenkins.md says a client's repository holds and
nothing more: ``runners.toml``, the Terraform (the set's stacks and the modules
they call, vendored), and ``Jenkinsfile`` (a copy of runners' merge-request
pipeline); and beside them ``.gitignore``, ``CODEOWNERS`` and a short
``README.md``. No job templates, no production pipelines, no ``.terraformrc``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners import templating
from runners.client.inputs import InitRequest
from runners.client.names import AccountNames
from runners.client.templateset import TemplateSet, terraform_dir
from runners.errors import UsageError

ENVIRONMENTS = ("development", "production")  # development first: where changes land first
TFVARS_TEMPLATE = "tfvars.j2"
_SKIP = (".terraform", "__pycache__", ".terraform.lock.hcl")
_ENV_SHORT = {"production": "prod", "development": "dev"}
_VPC_CIDR = {"production": "10.20.0.0/16", "development": "10.30.0.0/16"}
_INSTANCE = {"production": "m7i.large", "development": "t3.medium"}
_ZONES = 3


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]  # repository-relative path -> text
    modules: list[str]  # the vendored modules


def environment_context(req: InitRequest, env: str) -> dict[str, Any]:
    names = AccountNames(req.client, env, req.backup_region)
    short = _ENV_SHORT[env]
    servers = [
        {
            "name": f"app-{i}",
            "instance_type": _INSTANCE[env],
            "zone": (i - 1) % _ZONES,
        }
        for i in range(1, req.servers + 1)
    ]
    width = max(len(str(s["name"])) for s in servers)
    for server in servers:
        server["label"] = str(server["name"]).ljust(width)
    return {
        "name": env,
        "region": req.region,
        "backup_region": req.backup_region,
        "zones": [f"{req.region}{letter}" for letter in "abc"[:_ZONES]],
        "vpc_cidr": _VPC_CIDR[env],
        "domain": f"{short}.{req.client}.internal",
        "web_host": f"www.{req.client}.example"
        if env == "production"
        else f"www.{short}.{req.client}.example",
        "state_bucket": names.state_bucket(),
        "replica_bucket": names.replica_bucket,
        "servers": servers,
    }


def context(req: InitRequest, tset: TemplateSet) -> dict[str, Any]:
    production = AccountNames(req.client, "production", req.backup_region)
    envs = [environment_context(req, e) for e in ENVIRONMENTS]
    dr_stacks = []
    for stack in tset.runner_stacks():
        if stack.dr is None:
            continue
        dr_stacks.append(
            {
                "name": stack.name,
                "zones": bool(stack.dr.get("zones")),
                "kms_key_variable": stack.dr.get("kms_key_variable"),
                "image_parameter": stack.dr.get("image_parameter"),
                "manual_steps": list(stack.dr.get("manual_steps") or []),  # type: ignore[call-overload]
                "snapshots": dict(stack.dr.get("snapshots") or {}),  # type: ignore[call-overload]
                "images": dict(stack.dr.get("images") or {}),  # type: ignore[call-overload]
            }
        )
    return {
        "client": req.client,
        "account": req.account,
        "region": req.region,
        "backup_region": req.backup_region,
        "template": tset.name,
        "environments": envs,
        "stacks": [{"name": s.name, "purpose": s.purpose} for s in tset.runner_stacks()],
        "all_stacks": [
            {"name": s.name, "purpose": s.purpose, "administrator": s.administrator}
            for s in tset.stacks
        ],
        "dr_stacks": dr_stacks,
        "replica_bucket": production.replica_bucket,
        "approvers": list(req.approvers),
        "jenkins_url": req.jenkins_url,
        "remote": req.remote,
        "code_owners": list(req.code_owners) or [f"@{req.client}-operators"],
    }


def render(req: InitRequest, tset: TemplateSet, library: Path | None = None) -> Rendered:
    """Every file of the new repository, by its path, as text."""
    lib = library or terraform_dir()
    ctx = context(req, tset)
    env = templating.environment("templates", keep_trailing_newline=True, autoescape=False)
    env.filters["literal"] = literal
    files: dict[str, str] = {}
    for name, target in (
        ("client/runners.toml.j2", "runners.toml"),
        ("client/README.md.j2", "README.md"),
        ("client/CODEOWNERS.j2", "CODEOWNERS"),
        ("client/gitignore.j2", ".gitignore"),
    ):
        files[target] = env.get_template(name).render(**ctx)
    files["Jenkinsfile"] = _jenkinsfile()
    for stack in tset.stacks:
        files.update(_stack_files(stack.name, stack.dir, ctx))
    modules = tset.modules()
    hashes: dict[str, str] = {}
    for module in modules:
        source = lib / "modules" / module
        if not source.is_dir():
            raise UsageError(
                f"template set {tset.name}: stack code calls ../../modules/{module}, "
                f"which {lib / 'modules'} does not hold"
            )
        tree = dict(_tree(source, f"terraform/modules/{module}"))
        files.update(tree)
        hashes[module] = _tree_hash(tree)
    files["terraform/modules/README.md"] = env.get_template("client/modules-README.md.j2").render(
        **ctx, modules=[{"name": m, "sha256": hashes[m]} for m in modules], version=_version()
    )
    return Rendered(files, modules)


def literal(value: object) -> str:
    """A string or a list of them as TOML and HCL both read it (JSON's escapes are theirs)."""
    return json.dumps(value, ensure_ascii=False)


def _stack_files(name: str, folder: Path, ctx: dict[str, Any]) -> Iterator[tuple[str, str]]:
    import jinja2

    base = f"terraform/stacks/{name}"
    for rel, text in _tree(folder, base):
        if rel.endswith("/" + TFVARS_TEMPLATE):
            tfvars = jinja2.Environment(  # renders HCL, not HTML
                undefined=jinja2.StrictUndefined,
                keep_trailing_newline=True,
                autoescape=False,  # noqa: S701
            )
            tfvars.filters["literal"] = literal
            template = tfvars.from_string(text)
            for env in ctx["environments"]:
                yield f"{base}/{env['name']}.tfvars", template.render(**ctx, env=env)
        else:
            yield rel, text


def _tree(folder: Path, prefix: str) -> Iterator[tuple[str, str]]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_dir() or any(part.startswith(_SKIP) for part in rel.parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path}: template sets and modules hold text files only") from None
        yield f"{prefix}/{rel.as_posix()}", text


def _tree_hash(files: dict[str, str]) -> str:
    """One sha256 over a module's files and their paths: what was vendored, to compare later."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    return digest.hexdigest()


def _jenkinsfile() -> str:
    from runners.jenkins.library import pipelines_dir

    return (pipelines_dir().parent / "Jenkinsfile").read_text(encoding="utf-8")


def _version() -> str:
    from runners import __version__

    return __version__
