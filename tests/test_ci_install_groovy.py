"""``.ci/install-groovy``, which ``.ci/run`` and ``make demo`` call so the rehearsal harness has groovy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / ".ci" / "install-groovy"


def run(path: Path) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash
    return subprocess.run(
        [bash, str(SCRIPT)], env={"PATH": str(path)}, capture_output=True, text=True, check=False
    )


def bin_with(tmp_path: Path, *tools: str) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in tools:
        real = shutil.which(tool)
        assert real, tool
        (folder / tool).symlink_to(real)
    return folder


def test_groovy_on_path_is_left_as_it_is(tmp_path: Path) -> None:
    folder = bin_with(tmp_path, "id")
    fake = folder / "groovy"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    done = run(folder)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_without_groovy_or_apt_get_it_says_so_in_one_line(tmp_path: Path) -> None:
    done = run(bin_with(tmp_path, "id"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "groovy is not installed" in done.stderr


def test_an_install_that_leaves_no_groovy_is_not_success(tmp_path: Path) -> None:
    folder = bin_with(tmp_path, "id")
    apt = folder / "apt-get"
    apt.write_text("#!/bin/sh\nexit 0\n")  # succeeds and installs nothing
    apt.chmod(0o755)
    done = run(folder)
    if done.stderr.startswith("groovy is not installed"):
        pytest.skip("not root here: the script refuses before trying apt-get")
    assert done.returncode == 1 and "no groovy on PATH" in done.stderr
