"""The local mailbox: every message the local SMTP server receives, one ``.eml`` file each.

File names are the message ids: ``<UTC time>-<random>``, so ``sorted()`` is arrival order. Each file is the
message as received, preceded by ``Return-Path`` and one ``Delivered-To`` per envelope recipient (what a
mail delivery agent adds), so Bcc recipients show too.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from chatbot.errors import MailNotFoundError

MAIL_ID_PATTERN = re.compile(r"^\d{8}T\d{12}-[0-9a-f]{6}$")


class MailSummary(BaseModel):
    """One line of ``chatbot mail list``."""

    model_config = ConfigDict(frozen=True)

    id: str
    date: datetime | None
    sender: str
    to: str
    delivered_to: list[str]
    subject: str


class MailContent(MailSummary):
    headers: list[tuple[str, str]]
    text: str
    html: str | None


def _header_line(name: str, value: str) -> bytes:
    # envelope addresses come from the SMTP session: no line break may reach the stored headers
    clean = " ".join(value.split())
    return f"{name}: {clean}\r\n".encode()


class Mailbox:
    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root

    def deliver(self, raw_message: bytes, *, envelope_from: str | None, envelope_to: list[str]) -> str:
        """Store one received message; returns its id. Readers never see a half-written file."""
        self._root.mkdir(parents=True, exist_ok=True)
        mail_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
        trace = _header_line("Return-Path", f"<{envelope_from or ''}>")
        trace += b"".join(_header_line("Delivered-To", recipient) for recipient in envelope_to)
        partial = self._root / f".{mail_id}.partial"
        partial.write_bytes(trace + raw_message)
        partial.replace(self._root / f"{mail_id}.eml")
        return mail_id

    def ids(self) -> list[str]:
        if not self._root.is_dir():
            return []
        return sorted(path.stem for path in self._root.glob("*.eml"))

    def _parse(self, mail_id: str) -> EmailMessage:
        if not MAIL_ID_PATTERN.match(mail_id):
            raise MailNotFoundError(f"not a mail id: {mail_id!r} (see `chatbot mail list`)")
        path = self._root / f"{mail_id}.eml"
        try:
            raw = path.read_bytes()
        except FileNotFoundError as error:
            raise MailNotFoundError(f"no mail {mail_id} in {self._root}") from error
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)  # policy.default builds EmailMessage
        return message

    @staticmethod
    def _summary_fields(mail_id: str, message: EmailMessage) -> dict[str, object]:
        date_header = message.get("Date")
        try:
            date = parsedate_to_datetime(str(date_header)) if date_header else None
        except (TypeError, ValueError):
            date = None
        return {
            "id": mail_id,
            "date": date,
            "sender": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "delivered_to": [str(value) for value in message.get_all("Delivered-To", [])],
            "subject": str(message.get("Subject", "")),
        }

    def summary(self, mail_id: str) -> MailSummary:
        return MailSummary.model_validate(self._summary_fields(mail_id, self._parse(mail_id)))

    def summaries(self) -> list[MailSummary]:
        return [self.summary(mail_id) for mail_id in self.ids()]

    def read(self, mail_id: str) -> MailContent:
        message = self._parse(mail_id)
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        return MailContent.model_validate(
            {
                **self._summary_fields(mail_id, message),
                "headers": [(name, str(value)) for name, value in message.items()],
                "text": text_part.get_content() if isinstance(text_part, EmailMessage) else "",
                "html": html_part.get_content() if isinstance(html_part, EmailMessage) else None,
            }
        )
