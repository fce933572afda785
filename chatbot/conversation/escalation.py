"""Escalation requests and the ``Escalator`` seam that delivers them.

The implementation is :class:`chatbot.conversation.lambda_escalator.LambdaEscalator`: it opens the
escalation in the shared state store and invokes ``triggerWorkflow`` (the real Lambda in AWS; locally the
same handler in-process, behind a durable outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from chatbot.conversation.transcript import Role, utc_now
from chatbot.models import EscalationReason, Sentiment


class MessageExcerpt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    text: str
    at: datetime
    withheld: bool = False


class EscalationRequest(BaseModel):
    """Everything an expert needs to pick up a conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str
    reason: EscalationReason
    detail: str = ""
    sentiment: Sentiment | None = None
    summary: str = Field(description="A short case summary for the expert's email and queue.")
    last_messages: list[MessageExcerpt] = Field(default_factory=list)
    requested_at: datetime = Field(default_factory=utc_now)


class EscalationReceipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str
    reference: str = Field(description="Where the request went: a record line, an execution name...")
    queued: bool = Field(False, description="True when kept for a retry rather than delivered now.")


class Escalator(Protocol):
    def escalate(self, request: EscalationRequest) -> EscalationReceipt: ...
