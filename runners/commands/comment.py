"""``runners comment --file REPORT.md``: the plan report on the merge request."""

from __future__ import annotations

import argparse
import os

from runners.commands import Command
from runners.commands.common import input_path, optional_config
from runners.errors import InputError
from runners.jenkins.settings import Comments


class CommentCommand(Command):
    description = (
        "Post FILE on the merge request in $CHANGE_URL (or --url) through the platform's API, "
        "with the token in the variable [jenkins.comments] token_env names (default "
        "RUNNERS_MR_TOKEN). Exit 0 when posted, skipped (no token, not a merge request) or "
        "when the post failed (a warning says why): a comment never fails a build. "
        "Exit 2 when FILE cannot be read. Each push updates runners' own comment for --key "
        "in place, the earlier plans collapsed below the new one."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--file", required=True, type=input_path, metavar="REPORT.md")
        parser.add_argument(
            "--url", metavar="MR_URL", help="the merge request (default: $CHANGE_URL)"
        )
        parser.add_argument(
            "--key",
            default="plans",
            help="which of runners' comments on the merge request to update: one per stack "
            "set (default: plans)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from runners.jenkins import comment

        if not comment.KEY.match(args.key):
            raise InputError(
                f"--key: expected letters, digits, '.', '_', '-' or '/' (up to 100), "
                f"got {args.key!r}"
            )
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise InputError(f"{args.file}: cannot read the report: {reason}") from None
        cfg = optional_config(args)
        settings = cfg.jenkins.comments if cfg else Comments()
        repo = cfg.jenkins.repository if cfg else None
        timeout = cfg.jenkins.request_timeout if cfg else 30.0
        print(
            comment.post(
                text,
                args.url or os.environ.get("CHANGE_URL"),
                settings,
                repo.platform if repo else None,
                os.environ,
                timeout,
                key=args.key,
            )
        )
        return 0
