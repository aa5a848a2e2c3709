"""Who and what started this run: Jenkins' environment, overridable by flags."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class BuildContext:
    merge_request: str | None = None
    source_branch: str | None = None
    target_branch: str | None = None
    merge_request_url: str | None = None
    merge_request_author: str | None = None
    build_url: str | None = None
    build_tag: str | None = None
    triggered_by: str | None = None
    build_cause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags that stand in for Jenkins' variables when run by hand."""
    g = parser.add_argument_group("merge request and build (default: Jenkins' environment)")
    g.add_argument("--mr", dest="mr_id", metavar="ID", help="merge request id ($CHANGE_ID)")
    g.add_argument(
        "--source", dest="mr_source", metavar="BRANCH", help="source branch ($CHANGE_BRANCH)"
    )
    g.add_argument(
        "--target", dest="mr_target", metavar="BRANCH", help="target branch ($CHANGE_TARGET)"
    )
    g.add_argument("--build-url", metavar="URL", help="this build's URL ($BUILD_URL)")
    g.add_argument("--triggered-by", metavar="USER", help="who started the build ($BUILD_USER_ID)")
    g.add_argument(
        "--build-cause",
        metavar="CAUSE",
        help="the build cause as the pipeline saw it, e.g. UserIdCause or BranchIndexingCause",
    )


def from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> BuildContext:
    env = os.environ if environ is None else environ

    def pick(flag: str, *names: str) -> str | None:
        value = getattr(args, flag, None)
        if value:
            return str(value)
        for name in names:
            if env.get(name):
                return env[name]
        return None

    return BuildContext(
        merge_request=pick("mr_id", "CHANGE_ID"),
        source_branch=pick("mr_source", "CHANGE_BRANCH"),
        target_branch=pick("mr_target", "CHANGE_TARGET"),
        merge_request_url=pick("_none", "CHANGE_URL"),
        merge_request_author=pick("_none", "CHANGE_AUTHOR"),
        build_url=pick("build_url", "BUILD_URL"),
        build_tag=pick("_none", "BUILD_TAG"),
        triggered_by=pick("triggered_by", "BUILD_USER_ID", "RUNNERS_TRIGGERED_BY"),
        build_cause=pick("build_cause", "RUNNERS_BUILD_CAUSE"),
    )
