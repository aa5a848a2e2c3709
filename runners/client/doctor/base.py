"""What every doctor check shares: its findings, and the context it reads from."""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from runners.errors import RunnersError, one_line

if TYPE_CHECKING:
    from runners.aws.session import SessionFactory
    from runners.config import Config
    from runners.jenkins.client import JenkinsClient


class Status(Enum):
    OK = "ok"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    status: Status
    detail: str = ""  # what was found; for a failure, what is wrong
    fix: str = ""  # for a failure: what to do

    def line(self) -> str:
        text = f"{self.status.value:<4}  {self.check}: {self.subject}"
        if self.detail:
            text += f": {self.detail}"
        if self.fix:
            text += f"; fix: {self.fix}"
        return one_line(text)


class Unavailable(RunnersError):
    """What a check needs is missing (no credentials, no token): the check cannot look."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass
class Context:
    """What the checks read: the config, the environment, and clients made on first use."""

    config_path: Path
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    environments: tuple[str, ...] = ()  # empty: every environment
    config_error: str | None = None
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            if self.config_error is None:
                from runners import config as config_mod

                try:
                    self._config = config_mod.load(self.config_path)
                except RunnersError as exc:
                    self.config_error = str(exc)
            if self._config is None:
                raise Unavailable("runners.toml is not valid", "see the config line")
        return self._config

    def env_names(self) -> list[str]:
        names = list(self.config.environments)
        return [n for n in names if not self.environments or n in self.environments]

    @cached_property
    def aws(self) -> SessionFactory:
        from runners.aws import identity
        from runners.aws.session import SessionFactory

        factory = SessionFactory(
            session_name="runners-doctor", identity=identity.from_environment(self.environ)
        )
        try:
            factory.require_credentials()
        except RunnersError as exc:
            raise Unavailable(
                str(exc), "run doctor with credentials that may read the account"
            ) from None
        return factory

    @cached_property
    def jenkins(self) -> JenkinsClient:
        from runners.jenkins.client import connect

        try:
            return connect(self.config.jenkins, self.config.path, self.environ)
        except RunnersError as exc:
            raise Unavailable(
                str(exc), "set [jenkins] url and user, and export the API token"
            ) from None


class Check(abc.ABC):
    """One area of readiness; each finding is one line of the report."""

    name: ClassVar[str]

    def run(self, ctx: Context) -> list[Finding]:
        try:
            return self.findings(ctx)
        except Unavailable as exc:
            # Not looked at is not healthy: the line fails, saying what is missing.
            return [Finding(self.name, "not checked", Status.FAIL, str(exc), exc.fix)]
        except RunnersError as exc:
            return [Finding(self.name, "could not be checked", Status.FAIL, str(exc))]
        except Exception as exc:
            from runners.aws.failures import as_runners_error

            translated = as_runners_error(exc)
            if translated is None:
                raise
            return [Finding(self.name, "could not be checked", Status.FAIL, str(translated))]

    @abc.abstractmethod
    def findings(self, ctx: Context) -> list[Finding]:
        """Look, and say what was found."""

    def ok(self, subject: str, detail: str = "") -> Finding:
        return Finding(self.name, subject, Status.OK, detail)

    def fail(self, subject: str, detail: str, fix: str) -> Finding:
        return Finding(self.name, subject, Status.FAIL, detail, fix)

    def skip(self, subject: str, why: str) -> Finding:
        return Finding(self.name, subject, Status.SKIP, why)
