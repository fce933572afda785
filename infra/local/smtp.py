"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives in the local mailbox.

The expert emails of the local stack arrive here; ``chatbot mail list`` and ``chatbot mail show ID`` read
them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from chatbot.notify.mailbox import Mailbox
from infra.local.ports import free_port, wait_for_port

log = structlog.get_logger(__name__)


class MailboxHandler:
    """aiosmtpd handler: the DATA of each mail goes into the mailbox."""

    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        try:
            mail_id = self._mailbox.deliver(
                raw, envelope_from=envelope.mail_from, envelope_to=list(envelope.rcpt_tos)
            )
        except OSError:
            log.exception("smtp.store_failed", mailbox=str(self._mailbox.root))
            return "451 Requested action aborted: cannot store the message"
        log.info("smtp.received", mail_id=mail_id, to=list(envelope.rcpt_tos), size=len(raw))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox
    _controller: Controller
    _stopped: bool = False

    def stop(self) -> None:
        """Stop accepting mail; a second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self._controller.stop()
        log.info("smtp.stopped", host=self.host, port=self.port)


def start_smtp_server(mailbox_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> SmtpServer:
    """Start the server in a background thread; ``port=None`` picks a free one."""
    chosen_port = port or free_port(host)
    mailbox = Mailbox(mailbox_dir)
    # a fixed server name: aiosmtpd would otherwise ask DNS for this machine's FQDN
    controller = Controller(
        MailboxHandler(mailbox), hostname=host, port=chosen_port, server_hostname="localhost"
    )
    controller.start()
    wait_for_port(host, chosen_port)
    log.info("smtp.started", host=host, port=chosen_port, mailbox=str(mailbox_dir))
    return SmtpServer(host=host, port=chosen_port, mailbox=mailbox, _controller=controller)
