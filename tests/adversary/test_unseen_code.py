"""Class 2: what a check of commits and git trees could not see.

Each of these applied before even with the signing key set, because the
plan run that holds the key planned whatever was on disk: a file git ignores,
a var file only the working copy's runners.toml names, a runners.toml on
another branch. Here each plan is made in the production zone, with the key,
from a workspace someone tampered with first; the apply compares the plan's
own configuration snapshot and var files with the branch head, and takes the
rules from the head's runners.toml.
"""

from __future__ import annotations

from pathlib import Path

from tests.adversary.conftest import refused
from tests.adversary.world import KEY, Attempt, read_manifest, write_manifest

CONFIRM = ("--confirm-destroy", "1")


def test_an_ignored_override_file_in_the_stack_folder(attempt: Attempt, tmp_path: Path) -> None:
    attempt.write(
        "terraform/stacks/app/zz_override.tf",
        'resource "terraform_data" "web" {\n  input = "pwned"\n}\n',
    )
    assert attempt.git("status", "--porcelain") == ""  # git sees nothing
    out = attempt.plan_into(tmp_path / "p")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "terraform/stacks/app/zz_override.tf is in the plan but not in the reviewed code",
    )


def test_an_uncommitted_runners_toml_naming_an_extra_var_file(
    attempt: Attempt, tmp_path: Path
) -> None:
    outside = tmp_path / "evil.tfvars"
    outside.write_text('web_input = "pwned"\n')
    cfg = attempt.repo / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'production = ["production.tfvars"]',
            f'production = ["production.tfvars", "{outside}"]',
        )
    )
    out = attempt.plan_into(tmp_path / "p")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        f"the plan read var file {outside}, which is outside the repository",
    )


def test_an_untracked_auto_tfvars_file(attempt: Attempt, tmp_path: Path) -> None:
    attempt.write("terraform/stacks/app/zz.auto.tfvars", 'web_input = "pwned"\n')
    out = attempt.plan_into(tmp_path / "p")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "the plan read var file terraform/stacks/app/zz.auto.tfvars, which neither runners.toml "
        "nor the stack's folder at production gives it",
    )


def test_a_var_file_edited_in_the_workspace(attempt: Attempt, tmp_path: Path) -> None:
    attempt.write("terraform/stacks/app/production.tfvars", 'web_input = "pwned"\n')
    out = attempt.plan_into(tmp_path / "p")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "var file terraform/stacks/app/production.tfvars differs from production's head",
    )


def test_a_local_module_edited_in_the_workspace(attempt: Attempt, tmp_path: Path) -> None:
    module = attempt.repo / "terraform/modules/naming/main.tf"
    module.write_text(module.read_text().replace("acme-", "pwned-"))
    out = attempt.plan_into(tmp_path / "p")
    refused(
        attempt, attempt.apply(*CONFIRM, plan=out), "the plan was made from uncommitted changes"
    )
    # Even with the flag cleared by someone holding the key, the code itself is compared.
    data = read_manifest(out)
    data["git"]["dirty"] = False
    write_manifest(out, data, sign_with=KEY)
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "terraform/modules/naming/main.tf differs from the reviewed code",
    )


def test_a_branch_whose_runners_toml_drops_a_protected_type(attempt: Attempt) -> None:
    """Applied from a checkout of that branch, with BRANCH_NAME saying production."""
    attempt.git("checkout", "-q", "-b", "relax")
    cfg = attempt.repo / "runners.toml"
    cfg.write_text(cfg.read_text().replace('extra_types = ["terraform_data"]', "extra_types = []"))
    attempt.git("commit", "-q", "-am", "relax")
    attempt.git("push", "-q", "origin", "relax")
    refused(
        attempt,
        attempt.apply(env=attempt.world.env(BRANCH_NAME="production")),
        "--confirm-destroy 1 is required, got none",
    )


def test_a_working_copy_whose_runners_toml_names_another_branch(attempt: Attempt) -> None:
    """The signed plan names production's branch; a working copy cannot move the anchor."""
    cfg = attempt.repo / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace('branch = "production"\naccount', 'branch = "relax"\naccount')
    )
    refused(
        attempt,
        attempt.apply(*CONFIRM),
        "runners.toml here says production's branch is 'relax'; the signed plan was made for "
        "branch 'production'",
    )
