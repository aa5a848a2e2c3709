"""``runners summarize PLAN_JSON``: the summary of any ``terraform show -json`` plan."""

from __future__ import annotations

import argparse
import json
import sys

from runners.commands import Command
from runners.commands.common import input_path, optional_config
from runners.terraform.planview import PlanView
from runners.terraform.protection import Protection
from runners.terraform.summary import summarize


class SummarizeCommand(Command):
    description = (
        "Print what a plan will do: Terraform's own counts plus replaces, imports, "
        "forgets and drift, destroyed and replaced addresses first, protected resources "
        "flagged, sensitive values redacted. Exit 2 when the file is not a plan JSON."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("plan_json", metavar="PLAN_JSON", type=input_path)
        parser.add_argument("--format", choices=("text", "md", "json"), default="text")
        parser.add_argument(
            "--protected-type",
            action="append",
            default=[],
            metavar="GLOB",
            help="also treat resource types matching GLOB as protected (repeatable)",
        )

    def run(self, args: argparse.Namespace) -> int:
        cfg = optional_config(args)
        base = cfg.protection if cfg else Protection()
        protection = Protection(types=(*base.types, *args.protected_type), addresses=base.addresses)
        plan = PlanView.load(args.plan_json)
        summary = summarize(plan, protection)
        if args.format == "json":
            json.dump(summary.to_dict(), sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
        elif args.format == "md":
            from runners.terraform.report import ReportContext, render_markdown

            limit = cfg.report_max_chars if cfg else 60_000
            sys.stdout.write(render_markdown(plan, summary, ReportContext(), protection, limit))
        else:
            from runners.terraform.report import render_text

            sys.stdout.write(render_text(plan, summary, protection))
        return 0
