"""``runners init DIR``: a new client's infrastructure repository, from a template set."""

from __future__ import annotations

import argparse
from pathlib import Path

from runners.commands import Command
from runners.commands.common import new_folder_path
from runners.errors import ExitCode, UsageError


def _servers(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


class InitCommand(Command):
    description = (
        "Make a new client's infrastructure repository in DIR: runners.toml (environments "
        "development and production, approvers, backups, disaster recovery, Jenkins), the "
        "template set's stacks with the modules they call vendored beside them, lock files, "
        "the merge-request Jenkinsfile, CODEOWNERS, .gitignore and a README; one commit on "
        "production, and development beside it; with --remote, pushed. A DIR that is already "
        "a runners repository is left as it is. Exit 0 made (or already there), 1 made but "
        "the push failed, 2 bad input or a DIR holding something else."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "dir", metavar="DIR", type=new_folder_path, help="where the repository goes"
        )
        parser.add_argument(
            "--client", required=True, metavar="NAME", help="short name, 2-12 a-z0-9"
        )
        parser.add_argument(
            "--account", required=True, metavar="ID", help="the 12-digit AWS account"
        )
        parser.add_argument("--region", required=True, metavar="R", help="the primary region")
        parser.add_argument(
            "--backup-region",
            required=True,
            metavar="R2",
            help="where backups and state are copied",
        )
        parser.add_argument(
            "--template", default="standard", metavar="SET", help="template set name or folder"
        )
        parser.add_argument(
            "--servers", type=_servers, default=2, metavar="N", help="servers per environment (2)"
        )
        parser.add_argument("--remote", metavar="URL", help="push both branches there")
        parser.add_argument(
            "--approver",
            action="append",
            default=[],
            metavar="USER",
            help="a Jenkins user id who may approve production applies (repeat)",
        )
        parser.add_argument("--jenkins-url", metavar="URL", help="[jenkins] url")
        parser.add_argument(
            "--code-owner",
            action="append",
            default=[],
            metavar="OWNER",
            help="@user or @group for CODEOWNERS (repeat; default @<client>-operators)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from runners import log
        from runners.client import repository, templateset
        from runners.client.inputs import InitRequest
        from runners.client.render import render

        dest: Path = args.dir.expanduser().absolute()
        state = repository.existing(dest)
        if state is repository.Existing.RUNNERS:
            print(
                f"init: {dest} is already a runners repository; nothing changed "
                "(runners init never overwrites, and has no --force)"
            )
            return ExitCode.OK
        if state is repository.Existing.OTHER:
            raise UsageError(
                f"{dest}: not empty and not a runners repository (no runners.toml and .git); "
                "give an empty or new folder"
            )
        req = InitRequest(
            client=args.client,
            account=args.account,
            region=args.region,
            backup_region=args.backup_region,
            template=args.template,
            servers=args.servers,
            remote=args.remote,
            approvers=tuple(args.approver),
            jenkins_url=args.jenkins_url,
            code_owners=tuple(args.code_owner),
        )
        tset = templateset.find(req.template)
        rendered = render(req, tset)
        log.step(f"init {req.client} in {dest} from template set {tset.name}")
        stacks = [s.name for s in tset.stacks]
        created = repository.create(dest, rendered, stacks)
        print(f"init: {dest}")
        print("  runners.toml, README.md, CODEOWNERS, .gitignore, Jenkinsfile")
        print(
            "  stacks: "
            + ", ".join(
                f"{s.name}{' (administrator)' if s.administrator else ''}" for s in tset.stacks
            )
        )
        print(f"  modules vendored into terraform/modules: {', '.join(rendered.modules)}")
        if created.locks.problem:
            log.warn(
                f"no .terraform.lock.hcl: {created.locks.problem}; run terraform init -backend=false "
                "in each stack where the providers can be installed and commit the lock files"
            )
        else:
            print(f"  lock files: {len(created.locks.written)} stacks")
        print(f"  commit {created.commit[:12]} on production; branch development")
        if req.remote:
            repository.push(dest, req.remote)
            print(f"  pushed production and development to {req.remote}")
        print("next: runners bootstrap --env production, then runners doctor")
        return ExitCode.OK
