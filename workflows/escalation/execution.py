"""What an escalation execution receives and returns, and the name that makes it unique.

The execution input carries everything the state machine publishes: the expert email (built once by the
trigger, already escaped) and the offer timeouts, read by ``HeartbeatSecondsPath``/``TimeoutSecondsPath``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chatbot.conversation.ids import CONVERSATION_ID_PATTERN
from chatbot.models import EscalationReason

# SNS: a subject is ASCII, starts with a letter, digit or punctuation, has no line breaks, < 100 characters
MAX_SUBJECT_CHARS = 99
# SNS messages and Step Functions inputs are both limited to 256 KiB; the email stays far below
MAX_MESSAGE_CHARS = 64_000


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExpertNotification(Frozen):
    """The expert email: SNS sends ``subject`` and ``message`` as they are to the email subscribers."""

    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_CHARS)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)

    @field_validator("subject")
    @classmethod
    def _sns_subject(cls, subject: str) -> str:
        if not subject.isascii() or not subject.isprintable() or not subject[0].isalnum():
            raise ValueError("an SNS subject is printable ASCII starting with a letter or digit")
        return subject


class OfferTimeouts(Frozen):
    """How long one offer to an expert tier waits.

    Without heartbeats an offer expires after ``offer_heartbeat_seconds``; an expert who has the case open
    keeps it alive with heartbeats, up to ``offer_timeout_seconds``. Step Functions requires the heartbeat
    to be shorter than the timeout.
    """

    offer_heartbeat_seconds: int = Field(300, ge=1, le=86_400)
    offer_timeout_seconds: int = Field(600, ge=2, le=86_400)

    @model_validator(mode="after")
    def _heartbeat_shorter(self) -> OfferTimeouts:
        if self.offer_heartbeat_seconds >= self.offer_timeout_seconds:
            raise ValueError("offer_heartbeat_seconds must be smaller than offer_timeout_seconds")
        return self


class EscalationExecutionInput(Frozen):
    conversation_id: str = Field(pattern=CONVERSATION_ID_PATTERN.pattern)
    escalation_number: int = Field(ge=1)
    reason: EscalationReason
    notification: ExpertNotification
    timeouts: OfferTimeouts


class EscalationOutcome(StrEnum):
    ASSIGNED = "assigned"
    NO_EXPERT_AVAILABLE = "no_expert_available"


class EscalationExecutionOutput(BaseModel):
    """Output of a succeeded execution (a failed one ends in ``EscalationWorkflowFailed``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    outcome: EscalationOutcome
    conversation_id: str
    escalation_number: int
    tier: int = Field(ge=1, description="Tier that accepted, or the last tier offered.")
    expert: str | None = None


class ExpertAcceptance(Frozen):
    """Output an expert's ``SendTaskSuccess`` sends; the state machine reads ``$.assignment.expert``."""

    expert: str = Field(min_length=1, max_length=200)


def execution_name(conversation_id: str, escalation_number: int) -> str:
    """One name per conversation and escalation: Step Functions starts a name at most once (90 days)."""
    if CONVERSATION_ID_PATTERN.match(conversation_id) is None or escalation_number < 1:
        raise ValueError(f"no execution name for {conversation_id!r} escalation {escalation_number}")
    return f"{conversation_id}-escalation-{escalation_number}"
