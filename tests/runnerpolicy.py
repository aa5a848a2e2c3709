"""The runner roles' policy documents as IAM receives them.

Shared by tests/test_runner_policy.py and ``make lint``: the embedded
Terraform evaluates terraform/modules/runner-role/policies with the sample
inputs in tests/fixtures/runner-policy/inputs.json.

``python -m tests.runnerpolicy DIR`` writes ``DIR/policies.json`` (for
lint/iam_reference.py) and ``DIR/main.tf``, the same documents as literal
``aws_iam_policy`` resources so checkov can read them: it cannot follow
them through the module's expressions.
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
DUTIES = ("plan", "apply", "backup", "caller")

# checkov findings on the rendered documents that are accepted, and why.
_EC2_READS = (
    "ec2:Describe* on * is how Terraform reads a VPC and its servers: most EC2 Describe calls "
    "take no resource, and those that do would need every resource ID in advance."
)
CHECKOV_SKIPS: dict[str, dict[str, str]] = {
    "plan": {"CKV_AWS_355": _EC2_READS},
}


def documents(workdir: Path) -> dict[str, dict[str, Any]]:
    outputs = module_outputs(MODULE, INPUTS, workdir)
    return {duty: json.loads(outputs[duty]) for duty in DUTIES}


def as_terraform(docs: dict[str, dict[str, Any]]) -> str:
    blocks = []
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
        docs = documents(Path(scratch))
    atomic_write_text(out / "policies.json", json.dumps(docs, indent=2) + "\n")
    atomic_write_text(out / "main.tf", as_terraform(docs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
