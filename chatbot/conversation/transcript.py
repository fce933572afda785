"""The transcript of one conversation: every customer, bot, expert and system turn, versioned."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chatbot.conversation.ids import conversation_day
from chatbot.models import EscalationDecision, Sentiment, Source

TRANSCRIPT_SCHEMA_VERSION: Final = 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Role(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    EXPERT = "expert"
    SYSTEM = "system"


class Rating(StrEnum):
    THUMBS_UP = "up"
    THUMBS_DOWN = "down"


class Feedback(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rating: Rating
    given_at: datetime = Field(default_factory=utc_now)


class Turn(BaseModel):
    """One message. Bot answers that were not shown to the customer are kept, marked ``withheld``."""

    model_config = ConfigDict(extra="forbid")

    turn_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    role: Role
    text: str
    created_at: datetime = Field(default_factory=utc_now)
    author: str | None = Field(None, description="Who wrote it: the expert's name, or the bot's model id.")
    sentiment: Sentiment | None = None
    escalation: EscalationDecision | None = None
    sources: list[Source] = Field(default_factory=list)
    withheld: bool = False
    feedback: Feedback | None = None

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Transcript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = TRANSCRIPT_SCHEMA_VERSION
    conversation_id: str
    started_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    turns: list[Turn] = Field(default_factory=list)

    @field_validator("conversation_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        conversation_day(value)
        return value

    def append(self, turn: Turn) -> Turn:
        self.turns.append(turn)
        self.updated_at = max(self.updated_at, turn.created_at)
        return turn

    def has_turn(self, turn_id: str) -> bool:
        return any(turn.turn_id == turn_id for turn in self.turns)

    def turn(self, turn_id: str) -> Turn:
        for turn in self.turns:
            if turn.turn_id == turn_id:
                return turn
        raise KeyError(turn_id)

    def customer_texts(self) -> list[str]:
        return [turn.text for turn in self.turns if turn.role is Role.CUSTOMER]

    @property
    def escalated(self) -> bool:
        return any(turn.escalation is not None and turn.escalation.escalate for turn in self.turns)
