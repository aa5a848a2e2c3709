"""plan.txt comes from the plan step's own output; it must be what ``show -no-color`` prints.

Plus any warnings Terraform printed after the plan, which ``show`` does not
repeat and reviewers should read.

Each scenario is applied at v1 and planned at v2 with the embedded Terraform,
so the plan output carries refresh lines before the rendering; then the same
saved plan is shown by a second, real ``terraform show -no-color``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runners.terraform import plantext
from tests.conftest import scenario_workspace


@pytest.mark.parametrize("color", [False, True], ids=["no-color", "color"])
@pytest.mark.parametrize("name", ["mixed", "destroy_all", "empty", "sensitive"])
def test_plan_text_is_what_show_prints(tmp_path: Path, name: str, color: bool) -> None:
    ws = scenario_workspace(tmp_path / name, name, color=color, capture=True)
    ws.plan(tmp_path / "tfplan", tmp_path / "plan.txt")
    ws.show_text(tmp_path / "tfplan", tmp_path / "shown.txt")
    shown = (tmp_path / "shown.txt").read_text()
    assert shown.strip(), "show printed nothing: the comparison would prove nothing"
    text = (tmp_path / "plan.txt").read_text()
    assert text.startswith(shown)
    # Past show's text, only the warnings Terraform printed after the plan.
    rest = text[len(shown) :]
    assert rest == "" or rest.startswith(("\nWarning: ", "\u2577\n\u2502 Warning: ")), rest[:200]


def test_the_console_never_sees_the_rendered_plan(tmp_path: Path) -> None:
    ws = scenario_workspace(tmp_path / "sensitive", "sensitive", color=False, capture=True)
    ws.plan(tmp_path / "tfplan", tmp_path / "plan.txt")
    console = ws.tf.console_out.getvalue().decode()  # type: ignore[union-attr]
    assert "Refreshing state" in console  # progress is live
    assert "planned changes are printed below" in console
    assert "will perform the following actions" not in console
    assert "will perform the following actions" in (tmp_path / "plan.txt").read_text()


def test_an_unrecognised_rendering_falls_back_to_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = scenario_workspace(tmp_path / "mixed", "mixed", color=False, capture=True)
    monkeypatch.setattr(plantext, "STARTS", (b"a line no Terraform prints",))
    ws.plan(tmp_path / "tfplan", tmp_path / "plan.txt")
    ws.show_text(tmp_path / "tfplan", tmp_path / "shown.txt")
    text = (tmp_path / "plan.txt").read_text()
    assert "Plan:" in text
    assert text == (tmp_path / "shown.txt").read_text()


def test_colour_and_the_interactive_footer_are_removed() -> None:
    held = (
        "\x1b[1mTerraform will perform the following actions:\x1b[0m\n"
        "  \x1b[32m+\x1b[0m resource\n"
        "\n"
        "\x1b[1mPlan:\x1b[0m 1 to add, 0 to change, 0 to destroy.\n"
        "\n" + "\u2500" * 20 + "\n\n"
        "Saved the plan to: tfplan\n\n"
        "To perform exactly these actions, run the following command to apply:\n"
        '    terraform apply "tfplan"\n'
    ).encode()
    assert plantext.from_plan_output(held).decode() == (
        "\nTerraform will perform the following actions:\n"
        "  + resource\n"
        "\n"
        "Plan: 1 to add, 0 to change, 0 to destroy.\n"
    )


def test_nothing_held_means_no_text() -> None:
    assert plantext.from_plan_output(b"") == b""
    assert plantext.from_plan_output(b"\x1b[0m\n\n") == b""
