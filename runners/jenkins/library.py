"""runners' own pipelines and job templates: where they are, and a pipeline as a job carries it.

Everything ``runners jobs sync`` puts into Jenkins comes from the runners
library that is installed, never from the client's repository: the job
templates (``pipelines/jobs/*.xml.j2``) and the production zone's pipelines
(``pipelines/*.Jenkinsfile``). A source checkout or an editable install finds
them beside the package; an installed wheel under ``share/runners`` (setup.cfg
``data_files``).

A production-zone job carries its pipeline inline, pinned to the library it
was synced from. Each such Jenkinsfile has one block, between the lines
``// <runners:client>`` and ``// </runners:client>``, defining ``client()``:
the client's repository, branch, checkout credential and environment. As it
stands in the library the block holds placeholders; :func:`pipeline_script`
writes the client's values into it (and the names of the variables the apply
reads its Jenkins and platform tokens from).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from runners import __version__
from runners.errors import UsageError
from runners.fsutil import sha256_bytes
from runners.jenkins.settings import DEFAULT_TOKEN_ENV

BLOCK_START = "// <runners:client>"
BLOCK_END = "// </runners:client>"


def pipelines_dir() -> Path:
    """The library's ``pipelines/`` folder (Jenkinsfiles, and the job templates in ``jobs/``)."""
    here = Path(__file__).resolve().parent.parent.parent / "pipelines"
    installed = Path(sys.prefix) / "share" / "runners" / "pipelines"
    for candidate in (here, installed):
        if (candidate / "jobs" / "folder.xml.j2").is_file():
            return candidate
    raise UsageError(
        f"the runners installation has no pipelines (looked in {here} and {installed}): "
        "reinstall runners"
    )


def templates_dir() -> Path:
    return pipelines_dir() / "jobs"


@dataclass(frozen=True)
class ClientValues:
    """What a production pipeline needs to know of the client, written into its script."""

    repository: str  # the clone URL
    branch: str  # the protected branch the production zone builds
    git_credentials: str  # Jenkins credential ID for the checkout, "" for none
    environment: str  # the runners.toml environment it works on
    # The variables `runners apply` reads its tokens from ([jenkins] token_env,
    # [jenkins.comments] token_env); "" for the platform's when no environment
    # needs merge-request approvals, so the apply binds no platform token.
    jenkins_token_env: str = DEFAULT_TOKEN_ENV
    mr_token_env: str = ""


def groovy_string(value: str) -> str:
    """A single-quoted Groovy literal: no interpolation, backslash and quote escaped."""
    if any(ch in value for ch in "\n\r"):
        raise UsageError(f"{value!r}: a line break cannot go into a pipeline")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def client_block(values: ClientValues) -> str:
    return "\n".join(
        [
            BLOCK_START,
            f"// Written by `runners jobs sync` (runners {__version__}) for this client.",
            "Map client() {",
            f"    return [repository: {groovy_string(values.repository)}, "
            f"branch: {groovy_string(values.branch)},",
            f"        gitCredentials: {groovy_string(values.git_credentials)}, "
            f"environment: {groovy_string(values.environment)},",
            f"        jenkinsTokenEnv: {groovy_string(values.jenkins_token_env)}, "
            f"mrTokenEnv: {groovy_string(values.mr_token_env)}]",
            "}",
            BLOCK_END,
        ]
    )


def library_pipeline(name: str) -> str:
    """The text of ``pipelines/<name>`` as the library has it."""
    path = pipelines_dir() / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such pipeline in the runners library") from None


def pipeline_script(name: str, values: ClientValues) -> str:
    """The library's pipeline with the client's values in its ``client()`` block."""
    text = library_pipeline(name)
    start, end = text.find(BLOCK_START), text.find(BLOCK_END)
    if start < 0 or end < start or text.count(BLOCK_START) != 1:
        raise UsageError(
            f"pipelines/{name}: expected one {BLOCK_START} ... {BLOCK_END} block to write the "
            "client's values into"
        )
    end += len(BLOCK_END)
    provenance = (
        f"// pipelines/{name} of runners {__version__} "
        f"(library file sha256 {sha256_bytes(text.encode('utf-8'))[:16]}), put here by "
        "`runners jobs sync`.\n// Change it in the library and sync; an edit made here is "
        "reported by `runners jobs sync --check`.\n"
    )
    return provenance + text[:start] + client_block(values) + text[end:]
