"""Mail transports (the port and its adapters): SMTP, or .eml files in a folder."""

from __future__ import annotations

import os
import re
import smtplib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path


class DeliveryError(Exception):
    """The transport could not hand the message over; it may work later."""


class MailTransport(ABC):
    """Hands one message over for delivery, or raises DeliveryError."""

    name = "transport"

    @abstractmethod
    def send(self, message: EmailMessage) -> None: ...


class SmtpTransport(MailTransport):
    name = "smtp"

    def __init__(self, host: str, port: int = 25, user: str | None = None,
                 password: str | None = None, starttls: bool = False,
                 timeout: float = 30.0) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.timeout = starttls, timeout

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc


class DirectoryTransport(MailTransport):
    """Writes each message as an .eml file named after its Message-ID (no SMTP configured)."""

    name = "directory"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"]).strip("<>"))
        target = self.folder / f"{stem}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".eml.part")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, target)  # whole file or none
        except OSError as exc:
            raise DeliveryError(f"cannot write {target}: {exc.strerror or exc}") from exc


def transport_from_env(env: Mapping[str, str]) -> MailTransport:
    """SMTP when EXTRAMILE_SMTP_HOST is set, else .eml files in EXTRAMILE_MAIL_DIR."""
    host = env.get("EXTRAMILE_SMTP_HOST")
    if not host:
        return DirectoryTransport(Path(env.get("EXTRAMILE_MAIL_DIR") or "outbox"))
    return SmtpTransport(
        host=host,
        port=int(env.get("EXTRAMILE_SMTP_PORT") or 25),
        user=env.get("EXTRAMILE_SMTP_USER") or None,
        password=env.get("EXTRAMILE_SMTP_PASSWORD") or None,
        starttls=(env.get("EXTRAMILE_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes", "on"),
    )
