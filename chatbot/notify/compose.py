"""The expert email as a MIME message: the notification text as plain text, and the same text as HTML.

The HTML part escapes every value it inserts (subject, text, links), so whatever a customer typed, a
``<script>`` tag included, shows as text and never runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from chatbot.errors import MailError

DEFAULT_SUBJECT = "AWS Notification Message"  # what SNS uses when a publish has no subject
LINK_PATTERN = re.compile(r"https?://[^\s<>\"']+")


def one_line(text: str) -> str:
    """Header-safe: line breaks and runs of spaces become one space."""
    return " ".join(text.split())


def html_text(text: str) -> str:
    """``text`` escaped for HTML, with its http(s) links made clickable (the link escaped as well)."""
    pieces: list[str] = []
    position = 0
    for match in LINK_PATTERN.finditer(text):
        pieces.append(html.escape(text[position : match.start()]))
        link = match.group(0)
        pieces.append(f'<a href="{html.escape(link, quote=True)}">{html.escape(link)}</a>')
        position = match.end()
    pieces.append(html.escape(text[position:]))
    return "".join(pieces)


def html_document(subject: str, text: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n"
        f"<body><h2>{html.escape(subject)}</h2>\n"
        f'<pre style="white-space: pre-wrap; font-family: sans-serif">{html_text(text)}</pre>\n'
        "</body></html>\n"
    )


def expert_email(subject: str | None, text: str, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    if not recipients:
        raise MailError("an email needs at least one recipient")
    title = one_line(subject or "") or DEFAULT_SUBJECT
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html_document(title, text), subtype="html")
    return message
