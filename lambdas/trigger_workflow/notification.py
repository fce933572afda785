"""The expert email, built once here and published unchanged by the state machine to every tier.

Everything that came from the customer or the bot is HTML-escaped, so a message holding markup or a
``<script>`` tag arrives as inert text whether the mail client shows plain text or renders HTML.
"""

from __future__ import annotations

import html
import unicodedata

from chatbot.conversation.escalation import MessageExcerpt
from chatbot.conversation.transcript import Role, as_utc
from chatbot.models import EscalationReason
from lambdas.trigger_workflow.models import TriggerWorkflowEvent
from workflows.escalation.execution import MAX_SUBJECT_CHARS, ExpertNotification

CUSTOMER_MESSAGES_SHOWN = 5
MESSAGE_EXCERPT_CHARS = 600
SUMMARY_CHARS = 2000
DETAIL_CHARS = 300

REASON_TITLES = {
    EscalationReason.NEGATIVE_SENTIMENT: "Unhappy customer",
    EscalationReason.HUMAN_REQUESTED: "Customer asked for a person",
    EscalationReason.REPEATED_FAILURE: "Bot could not help",
    EscalationReason.BOT_ERROR: "Bot error",
    EscalationReason.BOT_TIMEOUT: "Bot too slow",
    EscalationReason.NONE: "Escalation",
}


def inert(text: str, limit: int) -> str:
    """One line or paragraph of untrusted text: control characters dropped, shortened, HTML-escaped."""
    kept = "".join(
        character
        for character in text
        if character in "\n\t" or not unicodedata.category(character).startswith("C")
    ).strip()
    if len(kept) > limit:
        kept = kept[: limit - 1].rstrip() + "…"
    return html.escape(kept, quote=True)


def subject_for(event: TriggerWorkflowEvent) -> str:
    subject = f"Escalation: {REASON_TITLES[event.reason]} (conversation {event.conversation_id})"
    return subject[:MAX_SUBJECT_CHARS]


def _customer_lines(messages: list[MessageExcerpt]) -> list[str]:
    customer_messages = [message for message in messages if message.role is Role.CUSTOMER]
    lines = []
    for message in customer_messages[-CUSTOMER_MESSAGES_SHOWN:]:
        text = inert(message.text, MESSAGE_EXCERPT_CHARS).replace("\n", "\n    ")
        at = as_utc(message.at)
        lines.append(f"  [{at:%Y-%m-%d %H:%M} UTC] {text}")
    return lines or ["  (no customer message)"]


def build_expert_notification(event: TriggerWorkflowEvent) -> ExpertNotification:
    """Subject with the reason; body with the case summary, the last customer messages and the case link."""
    reason = REASON_TITLES[event.reason]
    if event.detail:
        reason += f" ({inert(event.detail, DETAIL_CHARS)})"
    lines = [
        f"A customer conversation needs an expert (escalation {event.escalation_number}).",
        "",
        f"Reason: {reason}",
    ]
    if event.sentiment is not None:
        lines.append(
            f"Customer sentiment: {event.sentiment.label.value} (P(negative) {event.sentiment.negative:.0%})"
        )
    lines += [
        f"Conversation: {event.conversation_id}",
        "",
        "Summary:",
        inert(event.summary, SUMMARY_CHARS),
        "",
        "Last customer messages:",
        *_customer_lines(event.last_messages),
        "",
        "Open the case in the expert console to accept or decline it:",
        event.console_link,  # validated: no character in it that HTML would read as markup
        "",
        "If nobody accepts in time, the case is offered to the next tier of experts.",
    ]
    return ExpertNotification(subject=subject_for(event), message="\n".join(lines))
