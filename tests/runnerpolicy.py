"""The runner roles' policy documents as IAM receives them.

Shared by tests/test_runner_policy.py and ``make lint``: the embedded
Terraform evaluates terraform/modules/runner-role/policies with the sample
inputs in tests/fixtures/runner-policy/inputs.json.

``python -m tests.runnerpolicy DIR`` writes ``DIR/policies.json`` (for
lint/iam_reference.py) and ``DIR/main.tf``, the same documents as literal
``aws_iam_policy`` resources, and the trust policies as ``aws_iam_role``
resources, so checkov can read them: it cannot follow them through the
module's expressions.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from runners.fsutil import atomic_write_text
from runners.terraform.evaluate import module_outputs

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "terraform/modules/runner-role/policies"
INPUTS = json.loads((ROOT / "tests/fixtures/runner-policy/inputs.json").read_text())
DUTIES = ("plan", "apply", "backup")

# checkov findings on the rendered documents that are accepted, and why.
_EC2_READS = (
    "ec2:Describe* on * is how Terraform reads a VPC and its servers: most EC2 Describe calls "
    "take no resource, and those that do would need every resource ID in advance."
)
CHECKOV_SKIPS: dict[str, dict[str, str]] = {
    "plan": {"CKV_AWS_355": _EC2_READS},
}


def evaluate(workdir: Path, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return module_outputs(MODULE, INPUTS if inputs is None else inputs, workdir)


def documents(workdir: Path, outputs: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The roles' permission policies by duty, and each duty's caller policy (caller_<duty>)."""
    outputs = outputs or evaluate(workdir)
    docs = {duty: json.loads(outputs[duty]) for duty in DUTIES}
    docs.update({f"caller_{d}": json.loads(outputs["callers"][d]) for d in DUTIES})
    return docs


def trust_documents(
    workdir: Path, outputs: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The roles' trust policies by duty."""
    outputs = outputs or evaluate(workdir)
    return {duty: json.loads(outputs["trust"][duty]) for duty in DUTIES}


def as_terraform(docs: dict[str, dict[str, Any]], trust: dict[str, dict[str, Any]]) -> str:
    blocks = []
    for duty, doc in trust.items():
        body = json.dumps(doc, indent=2).replace("${", "$${").replace("%{", "%%{")
        blocks.append(
            f'resource "aws_iam_role" "{duty}" {{\n'
            f'  name               = "runners-{duty}"\n'
            f"  assume_role_policy = <<-EOT\n{body}\nEOT\n}}\n"
        )
    for duty, doc in docs.items():
        body = json.dumps(doc, indent=2).replace("${", "$${").replace("%{", "%%{")
        skips = "".join(
            f"  #checkov:skip={check}:{why}\n" for check, why in CHECKOV_SKIPS.get(duty, {}).items()
        )
        blocks.append(
            f'resource "aws_iam_policy" "{duty}" {{\n{skips}'
            f'  name   = "runners-{duty}"\n  policy = <<-EOT\n{body}\nEOT\n}}\n'
        )
    return "\n".join(blocks)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tests.runnerpolicy OUTPUT_DIR\n")
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="runner-policy-") as scratch:
        outputs = evaluate(Path(scratch))
    docs, trust = documents(Path(), outputs), trust_documents(Path(), outputs)
    every = {**docs, **{f"trust_{duty}": doc for duty, doc in trust.items()}}
    atomic_write_text(out / "policies.json", json.dumps(every, indent=2) + "\n")
    atomic_write_text(out / "main.tf", as_terraform(docs, trust))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
