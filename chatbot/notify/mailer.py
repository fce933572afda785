"""Sending email over SMTP (the local aiosmtpd server, or any SMTP relay configured in settings)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Protocol

import structlog

from chatbot.config import Settings
from chatbot.errors import MailDeliveryError

log = structlog.get_logger(__name__)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, host: str, port: int, *, timeout_s: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer:
        return cls(settings.smtp_host, settings.smtp_port)

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
                refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailDeliveryError(f"SMTP server {self.address} did not take the mail: {error}") from error
        if refused:
            log.warning("mail.recipients_refused", server=self.address, refused=sorted(refused))
        log.info("mail.sent", server=self.address, to=message["To"], subject=message["Subject"])
