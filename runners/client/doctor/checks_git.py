"""The environments' branches: on the remote Jenkins clones, and protected where the platform says."""

from __future__ import annotations

import os
import subprocess

from runners.client import platform
from runners.client.doctor.base import Check, Context, Finding


class BranchesCheck(Check):
    """Each environment's branch exists on ``[jenkins.repository] url`` (``git ls-remote``) and
    is protected, as GitLab's or GitHub's API says (the token ``runners comment`` uses)."""

    name = "branches"

    def findings(self, ctx: Context) -> list[Finding]:
        cfg = ctx.config
        repo = cfg.jenkins.repository
        if repo is None:
            return [
                self.fail(
                    "not checked",
                    "runners.toml has no [jenkins.repository] url",
                    "set it to the repository Jenkins clones",
                )
            ]
        heads, git_said = _remote_heads(repo.url)
        out = []
        for env_name in ctx.env_names():
            branch = cfg.environment(env_name).branch
            subject = f"{branch} ({env_name})"
            if heads is not None and branch not in heads:
                out.append(self.fail(subject, f"not on {repo.url}", f"git push origin {branch}"))
                continue
            try:
                state = platform.branch_state(repo, cfg.jenkins.comments, branch, ctx.environ)
            except platform.PlatformUnavailable as why:
                if heads is None:
                    out.append(
                        self.fail(
                            subject,
                            f"cannot be seen: git ls-remote {repo.url}: {git_said}; and {why}",
                            "run doctor where git can read the repository, or give the "
                            "platform token",
                        )
                    )
                else:
                    out.append(self.skip(subject, f"on the remote; protection not checked: {why}"))
                continue
            if not state.exists:
                out.append(
                    self.fail(
                        subject, f"{repo.platform} has no such branch", f"git push origin {branch}"
                    )
                )
            elif state.protected is False:
                out.append(
                    self.fail(
                        subject,
                        "not protected: anyone who can push can change what is applied",
                        f"protect {branch} on {repo.platform}: no direct or force pushes, "
                        "merges through approved merge requests only",
                    )
                )
            elif state.protected is None:
                out.append(self.skip(subject, f"exists; {repo.platform} did not say if protected"))
            else:
                out.append(self.ok(subject, f"exists and protected on {repo.platform}"))
        return out


def _remote_heads(url: str) -> tuple[set[str] | None, str]:
    """The branches on the remote, or None and git's last line when it cannot read it."""
    try:
        done = subprocess.run(
            ["git", "ls-remote", "--heads", url],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=60,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except subprocess.TimeoutExpired:
        return None, "no answer in 60 s"
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        return None, said[-1] if said else f"exit {done.returncode}"
    heads = {
        line.split("refs/heads/", 1)[1]
        for line in done.stdout.splitlines()
        if "refs/heads/" in line
    }
    return heads, ""
