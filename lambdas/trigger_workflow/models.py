"""Shapes of the ``triggerWorkflow`` Lambda: its event, its result and its configuration."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatbot.conversation.escalation import EscalationRequest, MessageExcerpt
from chatbot.conversation.ids import CONVERSATION_ID_PATTERN
from chatbot.conversation.transcript import utc_now
from chatbot.models import EscalationReason, Sentiment
from workflows.escalation.execution import OfferTimeouts

UNSAFE_LINK_CHARACTERS = frozenset(" <>\"'`\\")
STATE_MACHINE_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$"
)


class TriggerWorkflowEvent(BaseModel):
    """What the chat app sends (``InvocationType=Event``) when it escalates a conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str = Field(pattern=CONVERSATION_ID_PATTERN.pattern)
    escalation_number: int = Field(
        ge=1, description="1 for the first escalation of the conversation, then 2..."
    )
    reason: EscalationReason
    detail: str = Field("", max_length=2000)
    sentiment: Sentiment | None = None
    summary: str = Field(min_length=1, max_length=20_000, description="Short case summary for the expert.")
    last_messages: list[MessageExcerpt] = Field(default_factory=list, max_length=200)
    console_link: str = Field(max_length=2000, description="Link to this case in the expert console.")
    requested_at: datetime = Field(default_factory=utc_now)

    @field_validator("reason")
    @classmethod
    def _escalating_reason(cls, reason: EscalationReason) -> EscalationReason:
        if reason is EscalationReason.NONE:
            raise ValueError("an escalation needs a reason other than `none`")
        return reason

    @field_validator("console_link")
    @classmethod
    def _web_link(cls, link: str) -> str:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        if not link.isprintable() or any(character in UNSAFE_LINK_CHARACTERS for character in link):
            # the link goes into the email as it is: nothing in it may read as markup
            raise ValueError("must not contain spaces, quotes or angle brackets")
        return link

    @classmethod
    def from_request(
        cls, request: EscalationRequest, escalation_number: int, console_link: str
    ) -> TriggerWorkflowEvent:
        """The event for an escalation the chat app decided on."""
        return cls(
            conversation_id=request.conversation_id,
            escalation_number=escalation_number,
            reason=request.reason,
            detail=request.detail,
            sentiment=request.sentiment,
            summary=request.summary,
            last_messages=list(request.last_messages),
            console_link=console_link,
            requested_at=request.requested_at,
        )


class TriggerWorkflowResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str
    escalation_number: int
    execution_name: str
    execution_arn: str
    duplicate: bool = Field(
        description="True when Step Functions said the execution already exists (a repeated trigger)."
    )


class TriggerWorkflowConfig(BaseSettings):
    """The function's environment (``CHATBOT_ESCALATION_*``), read once per container."""

    model_config = SettingsConfigDict(
        env_prefix="CHATBOT_ESCALATION_", env_file=".env", extra="ignore", frozen=True
    )

    state_machine_arn: str = Field(
        pattern=STATE_MACHINE_ARN_PATTERN.pattern, description="The escalation state machine to start."
    )
    offer_heartbeat_seconds: int = Field(
        300, ge=1, le=86_400, description="An offer nobody answers or heartbeats expires after this long."
    )
    offer_timeout_seconds: int = Field(
        600, ge=2, le=86_400, description="Longest an offer can be kept alive by an expert's heartbeats."
    )
    console_url: str | None = Field(
        None, description="Expert console URL; when set, an event's console link must start with it."
    )

    @model_validator(mode="after")
    def _valid_timeouts(self) -> TriggerWorkflowConfig:
        self.offer_timeouts()  # raises when the heartbeat is not shorter than the timeout
        return self

    def offer_timeouts(self) -> OfferTimeouts:
        return OfferTimeouts(
            offer_heartbeat_seconds=self.offer_heartbeat_seconds,
            offer_timeout_seconds=self.offer_timeout_seconds,
        )
