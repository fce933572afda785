"""The local stand-in for SNS email subscriptions: each expert notification goes by SMTP to its tier.

In AWS the experts topics have email subscriptions and SNS sends the ``Subject`` and ``Message``. Locally the
topics also feed an ``email-relay`` queue, and :class:`ExpertEmailRelay` sends the same two texts to the
addresses configured for the tier (``expert_emails_tier1``, ``expert_emails_tier2``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog

from chatbot.config import Settings
from chatbot.errors import MailDeliveryError
from chatbot.notify.compose import expert_email
from chatbot.notify.mailer import Mailer

log = structlog.get_logger(__name__)


class ExpertEmailRelay:
    def __init__(self, mailer: Mailer, sender: str, recipients_by_tier: Mapping[int, Sequence[str]]) -> None:
        self._mailer = mailer
        self._sender = sender
        self._recipients_by_tier = {tier: list(addresses) for tier, addresses in recipients_by_tier.items()}

    @classmethod
    def from_settings(cls, settings: Settings, mailer: Mailer) -> ExpertEmailRelay:
        return cls(
            mailer,
            settings.smtp_sender,
            {1: settings.expert_emails_tier1, 2: settings.expert_emails_tier2},
        )

    def recipients(self, tier: int) -> list[str]:
        addresses = self._recipients_by_tier.get(tier, [])
        if not addresses:
            raise MailDeliveryError(
                f"no expert addresses for tier {tier} (set CHATBOT_EXPERT_EMAILS_TIER{tier})"
            )
        return addresses

    def relay(self, subject: str | None, text: str, *, tier: int, conversation_id: str) -> list[str]:
        """Send one notification; returns the recipients. Raises :class:`MailDeliveryError`."""
        recipients = self.recipients(tier)
        self._mailer.send(expert_email(subject, text, sender=self._sender, recipients=recipients))
        log.info("mail.relayed", conversation_id=conversation_id, tier=tier, recipients=len(recipients))
        return recipients
