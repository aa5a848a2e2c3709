"""E-mail over SMTP, with optional STARTTLS and login; the password comes from the environment.

A login is only allowed over STARTTLS: otherwise the password would cross the
network in clear, and that is a config error rather than a surprise. The
certificate is checked against the system trust store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

from runners.confread import Table
from runners.notify import render
from runners.notify.channels.base import Channel, DeliveryError, env_name, secret
from runners.notify.event import Event

if TYPE_CHECKING:
    import smtplib
    from email.message import EmailMessage

_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")
SUBMISSION_PORT = 587
SMTP_PORT = 25


@dataclass(frozen=True)
class EmailChannel(Channel):
    name: ClassVar[str] = "email"
    keys: ClassVar[tuple[str, ...]] = (
        "email_to",
        "email_from",
        "smtp_host",
        "smtp_port",
        "smtp_starttls",
        "smtp_user",
        "smtp_password_env",
    )

    to: tuple[str, ...]
    sender: str
    host: str
    port: int
    starttls: bool = False
    user: str | None = None
    password_env: str | None = None

    @classmethod
    def from_table(cls, table: Table) -> Self | None:
        present = [k for k in cls.keys if k in table.data]
        if not present:
            return None
        because = f"{table.key(present[0])} is set"
        if not table.has("email_to"):
            raise table.fail("email_to", f"is required when {because} (a list of addresses)")
        to = table.str_list("email_to")
        if not to:
            raise table.fail("email_to", "expected at least one address")
        for addr in to:
            if not _ADDRESS.match(addr):
                raise table.fail(
                    "email_to", f"expected plain addresses such as ops@example.com, got {addr!r}"
                )
        sender = table.str("email_from")
        if sender is None:
            raise table.fail("email_from", f"is required when {because} (the From address)")
        if not _ADDRESS.match(sender):
            raise table.fail(
                "email_from",
                f"expected a plain address such as runners@example.com, got {sender!r}",
            )
        host = table.str("smtp_host")
        if host is None:
            raise table.fail("smtp_host", f"is required when {because} (the SMTP server's name)")
        starttls = table.bool("smtp_starttls", False)
        port = table.int("smtp_port", SUBMISSION_PORT if starttls else SMTP_PORT, minimum=1)
        if port > 65535:
            raise table.fail("smtp_port", f"expected a TCP port (1-65535), got {port}")
        user = table.str("smtp_user")
        password_env = env_name(table, "smtp_password_env", "the SMTP password")
        if user and not password_env:
            raise table.fail("smtp_password_env", "is required when smtp_user is set")
        if password_env and not user:
            raise table.fail("smtp_user", "is required when smtp_password_env is set")
        if user and not starttls:
            raise table.fail(
                "smtp_starttls",
                "must be true when smtp_user is set, or the password crosses the network in clear",
            )
        return cls(tuple(to), sender, host, port, starttls, user, password_env)

    def message(self, event: Event) -> EmailMessage:
        # The mail modules load when a mail is sent, not with every runners.toml.
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        subject, body = render.email(event)
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(usegmt=True)
        # The sender's domain, not the FQDN lookup make_msgid would do on its own.
        msg["Message-ID"] = make_msgid("runners", domain=self.sender.rpartition("@")[2])
        msg.set_content(body)
        return msg

    def send(self, event: Event, environ: Mapping[str, str], timeout: float) -> None:
        import smtplib
        import ssl

        password = (
            secret(environ, self.password_env, "SMTP password") if self.password_env else None
        )
        msg = self.message(event)
        where = f"{self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user and password is not None:
                    smtp.login(self.user, password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"{where} refused every recipient: {_refusals(exc.recipients)}"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{where} refused the login of {self.user}: {_reply(exc)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"{where}: {exc}"
            ) from None  # "STARTTLS extension not supported ..."
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{where} answered {_reply(exc)}") from None
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"TLS with {where} failed: {exc.reason or type(exc).__name__}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            # smtplib turns a timeout waiting for a reply into SMTPServerDisconnected.
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                raise DeliveryError(f"no answer from {where} within {timeout:g}s") from None
            text = (
                exc.strerror
                if isinstance(exc, OSError) and exc.strerror
                else str(exc) or type(exc).__name__
            )
            raise DeliveryError(f"cannot send through {where}: {text}") from None
        if refused:
            raise DeliveryError(f"{where} refused some recipients: {_refusals(refused)}")

    def secrets(self, environ: Mapping[str, str]) -> tuple[str, ...]:
        if not self.password_env:
            return ()
        value = environ.get(self.password_env, "").strip()
        return (value,) if value else ()


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {' '.join(text.split())}"


def _refusals(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{addr}: {code} {' '.join(msg.decode('utf-8', 'replace').split())}"
        for addr, (code, msg) in sorted(recipients.items())
    )
