"""``runners plan``: plan a stack (or every stack a merge request touches) for review."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from runners import ci, log
from runners.commands import Command
from runners.commands.affected import find_affected
from runners.commands.common import load_config
from runners.config import Config, Environment
from runners.errors import ExitCode, RunnersError, UsageError
from runners.fsutil import atomic_write_text
from runners.gitrepo import GitRepo
from runners.planner import check_out_dir, drift_check, plan_stack
from runners.stacks import select, workspace


class PlanCommand(Command):
    name = "plan"
    help = "plan a stack into a directory of reviewable artifacts"
    description = (
        "Run terraform init, plan -out and show for one stack in one environment and write "
        "tfplan, plan.json, plan.txt, report.md and manifest.json into --out. Exit 0 whether "
        "or not there are changes (the manifest says which); with --detailed-exitcode, 2 when "
        "there are changes; 1 when Terraform fails; 2 for bad arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", metavar="NAME", help="the stack, as named in runners.toml")
        parser.add_argument(
            "--env",
            metavar="ENV",
            help="the environment (with --affected, defaults to the one whose branch is the MR target)",
        )
        parser.add_argument("--out", metavar="DIR", type=Path, help="where the artifacts go")
        parser.add_argument(
            "--detailed-exitcode", action="store_true", help="exit 2 when there are changes"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--affected", action="store_true", help="plan every stack the change touches"
        )
        mode.add_argument(
            "--drift",
            action="store_true",
            help="plan without keeping the plan; exit 2 when the environment no longer matches the code",
        )
        parser.add_argument(
            "--base", metavar="REF", help="with --affected: the merge request's target ref"
        )
        parser.add_argument(
            "--head", metavar="REF", default="HEAD", help="with --affected: its head (default HEAD)"
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=60.0,
            metavar="MINUTES",
            help="stop a Terraform step that runs longer (default 60)",
        )
        parser.add_argument("--no-color", action="store_true", help="plain Terraform output")
        ci.add_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        cfg = load_config(args)
        build = ci.from_args(args)
        if args.affected:
            return self._affected(cfg, args, build)
        if not args.stack or not args.env:
            raise UsageError("plan needs --stack and --env (or --affected --base REF)")
        target = select(cfg, args.stack, args.env)
        ws = workspace(target, args.timeout, color=not args.no_color)
        if args.drift:
            summary, drifted, _ = drift_check(target, ws, args.out)
            print(
                f"{target.stack.name} ({target.env.name}): {summary.plan_line()}"
                + (f" Drift: {summary.drift}." if summary.drift else "")
            )
            if drifted:
                print(
                    f"DRIFT: {target.env.name} no longer matches the code for stack {target.stack.name}"
                )
                return ExitCode.CHANGES
            print("no drift")
            return ExitCode.OK
        if args.out is None:
            raise UsageError("plan needs --out DIR")
        check_out_dir(args.out)
        repo = GitRepo(cfg.root)
        outcome = plan_stack(target, ws, args.out, build, repo)
        _print_outcome(
            target.stack.name,
            target.env.name,
            outcome.summary.plan_line(),
            outcome.has_changes,
            args.out,
            len(outcome.summary.protected),
        )
        if args.detailed_exitcode and outcome.has_changes:
            return ExitCode.CHANGES
        return ExitCode.OK

    def _affected(self, cfg: Config, args: argparse.Namespace, build: ci.BuildContext) -> int:
        if not args.base:
            raise UsageError("--affected needs --base REF (the merge request's target)")
        if args.out is None:
            raise UsageError("plan needs --out DIR")
        check_out_dir(args.out)
        env = _env_for(cfg, args.env, build.target_branch)
        repo = GitRepo(cfg.root)
        found = [
            a
            for a in find_affected(cfg, repo, args.base, args.head)
            if env.name in cfg.stacks[a.stack].environments
        ]
        if not found:
            log.step(
                f"no stack deployed to {env.name} is touched between {args.base} and {args.head}"
            )
        results = []
        failures = []
        any_changes = False
        for item in found:
            target = select(cfg, item.stack, env.name)
            out = args.out / item.stack
            try:
                outcome = plan_stack(
                    target, workspace(target, args.timeout, not args.no_color), out, build, repo
                )
            except RunnersError as exc:
                failures.append(f"{item.stack}: {exc}")
                log.warn(f"{item.stack}: {exc}")
                results.append({"stack": item.stack, "result": "failed", "error": str(exc)})
                continue
            any_changes |= outcome.has_changes
            results.append(
                {
                    "stack": item.stack,
                    "result": "planned",
                    "has_changes": outcome.has_changes,
                    "summary": outcome.summary.to_dict(),
                    "dir": item.stack,
                }
            )
            _print_outcome(
                item.stack,
                env.name,
                outcome.summary.plan_line(),
                outcome.has_changes,
                out,
                len(outcome.summary.protected),
            )
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            args.out / "affected.json",
            json.dumps(
                {"environment": env.name, "base": args.base, "head": args.head, "stacks": results},
                indent=2,
                sort_keys=True,
            )
            + "\n",
        )
        atomic_write_text(
            args.out / "report.md", _combined_report(args.out, results, cfg.report_max_chars)
        )
        if failures:
            print(f"{len(failures)} of {len(found)} stack plans failed:", file=sys.stderr)
            for line in failures:
                print(f"  {line}", file=sys.stderr)
            return ExitCode.FAILED
        if args.detailed_exitcode and any_changes:
            return ExitCode.CHANGES
        return ExitCode.OK


def _env_for(cfg: Config, name: str | None, target_branch: str | None) -> Environment:
    if name:
        return cfg.environment(name)
    if target_branch:
        env = cfg.environment_for_branch(target_branch)
        if env:
            return env
        raise UsageError(
            f"{cfg.path}: no environment has branch {target_branch!r} (the merge request target)"
        )
    raise UsageError("give --env, or --target / $CHANGE_TARGET so the environment can be found")


def _combined_report(out: Path, results: list[dict[str, object]], limit: int) -> str:
    """One comment for the whole merge request: each stack's report, cut to fit."""
    if not results:
        return "### Terraform plan\n\nNo stack is affected by this change.\n"
    parts = []
    for r in results:
        if r["result"] == "failed":
            parts.append(
                f"### Terraform plan: `{r['stack']}`\n\n**Planning failed:** {r['error']}\n"
            )
        else:
            parts.append((out / str(r["stack"]) / "report.md").read_text(encoding="utf-8"))
    text = "\n".join(parts)
    if len(text) <= limit:
        return text
    note = (
        "\n\n> **This comment is cut to fit:** each stack's full report is in its "
        "folder's `report.md`, the full plan in its `plan.txt`.\n"
    )
    return text[: limit - len(note)] + note


def _print_outcome(
    stack: str, env: str, line: str, changes: bool, out: Path, protected: int
) -> None:
    print(f"{stack} ({env}): {line}" + ("" if changes else " No changes."))
    if protected:
        print(
            f"  {protected} protected resource(s) destroyed or replaced; apply will need --confirm-destroy {protected}"
        )
    print(f"  report: {out / 'report.md'}")
    print(f"  manifest: {out / 'manifest.json'}")
