"""Conversation state shared across sessions and processes: who owns a conversation, and its live messages.

The customer's page, the expert console and the escalation workflow's event handler all read and write it.
Implementations: SQLite (WAL) locally by default, DynamoDB in AWS, behind :class:`ConversationStateStore`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from chatbot.conversation.transcript import Role, utc_now
from chatbot.errors import ChatbotError
from chatbot.models import EscalationReason, Sentiment


class ConversationStatus(StrEnum):
    BOT = "bot"  # the bot answers
    WAITING_FOR_EXPERT = "waiting_for_expert"  # escalated; the bot stays silent
    EXPERT = "expert"  # an expert owns the conversation
    RESOLVED = "resolved"


OPEN_STATUSES = frozenset({ConversationStatus.WAITING_FOR_EXPERT, ConversationStatus.EXPERT})
"""An open case: an expert is asked for or owns the conversation, and the bot stays silent."""


class WorkflowStage(StrEnum):
    """Where the escalation workflow is, as recorded from its events."""

    NONE = "none"
    REQUESTED = "requested"  # the trigger was sent (or queued for retry)
    NOTIFIED = "notified"  # experts of `tier` were emailed; a task token waits
    ASSIGNED = "assigned"  # an expert accepted
    NO_EXPERT_AVAILABLE = "no_expert_available"  # nobody accepted at any tier
    FAILED = "failed"  # the workflow itself failed


class ConversationState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    status: ConversationStatus = ConversationStatus.BOT
    owner: str | None = Field(None, description="Name of the expert who owns the conversation.")
    escalation_number: int = Field(0, ge=0, description="How many times this conversation was escalated.")
    reason: EscalationReason | None = None
    sentiment: Sentiment | None = None
    summary: str = ""
    workflow_stage: WorkflowStage = WorkflowStage.NONE
    tier: int | None = Field(None, description="Expert tier last notified (1, 2).")
    task_token: str | None = Field(
        None, description="Step Functions token the expert's accept/decline answers."
    )
    escalated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    version: int = Field(0, ge=0, description="Bumped by every write; used for optimistic concurrency.")


class LiveMessage(BaseModel):
    """A message delivered live between the customer's page and the expert console."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str
    seq: int = Field(ge=1, description="Position in the conversation, gapless, assigned by the store.")
    role: Role
    author: str | None = None
    text: str
    turn_id: str
    withheld: bool = False
    created_at: datetime = Field(default_factory=utc_now)


class StateStoreError(ChatbotError):
    """The state store could not be read or written."""


class CaseAlreadyClaimedError(StateStoreError):
    def __init__(self, conversation_id: str, owner: str) -> None:
        super().__init__(f"already taken by {owner}")
        self.conversation_id = conversation_id
        self.owner = owner


class InvalidTransitionError(StateStoreError):
    """The requested change does not apply to the conversation's current status."""


class ConversationNotFoundError(StateStoreError):
    """The store holds no state for the conversation id."""


class ConversationStateStore(Protocol):
    def get(self, conversation_id: str) -> ConversationState | None: ...

    def open_escalation(
        self,
        conversation_id: str,
        reason: EscalationReason,
        summary: str,
        sentiment: Sentiment | None,
        *,
        requested_at: datetime | None = None,
    ) -> ConversationState:
        """bot (or resolved) -> waiting_for_expert, escalation_number + 1, workflow_stage requested.

        A conversation already waiting or owned by an expert is returned unchanged (no second escalation).
        ``escalated_at`` is set to ``requested_at`` (now by default), so a caller can tell whether its own
        call opened the escalation: ``state.escalated_at == requested_at``.
        """
        ...

    def record_workflow_stage(
        self,
        conversation_id: str,
        escalation_number: int,
        stage: WorkflowStage,
        *,
        tier: int | None = None,
        task_token: str | None = None,
        expert: str | None = None,
    ) -> ConversationState:
        """Apply an event of the escalation workflow; events of another escalation number are ignored.

        ``no_expert_available`` or ``failed`` moves a waiting conversation back to ``bot``; ``assigned`` with
        ``expert`` gives a still-waiting conversation to that expert. Raises
        :class:`ConversationNotFoundError` for an unknown conversation.
        """
        ...

    def claim(self, conversation_id: str, expert: str) -> ConversationState:
        """waiting_for_expert -> expert with ``owner=expert``; atomic: of two claims exactly one wins.

        Raises :class:`CaseAlreadyClaimedError` naming the owner when someone else has it.
        """
        ...

    def hand_back(self, conversation_id: str, expert: str) -> ConversationState:
        """expert -> bot (only by the owner)."""
        ...

    def resolve(self, conversation_id: str, expert: str) -> ConversationState:
        """expert -> resolved (only by the owner)."""
        ...

    def open_cases(self) -> list[ConversationState]:
        """Conversations waiting for an expert or owned by one, oldest escalation first."""
        ...

    def append_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        turn_id: str,
        author: str | None = None,
        withheld: bool = False,
    ) -> LiveMessage:
        """Append with the next gapless ``seq``; idempotent on ``turn_id`` (a retry gets the same message)."""
        ...

    def messages_after(self, conversation_id: str, seq: int) -> list[LiveMessage]:
        """Messages with ``seq`` greater than the given one, in order."""
        ...
