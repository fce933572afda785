"""Value types shared by the chain, the transcripts and the escalation workflow."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SentimentLabel(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Sentiment(Frozen):
    """How the customer feels, judged on their message in the context of the conversation."""

    label: SentimentLabel
    score: float = Field(ge=0.0, le=1.0, description="Confidence in `label`.")
    negative: float = Field(ge=0.0, le=1.0, description="Probability that the message is negative.")
    judged_by: str = Field(description="Which classifier produced this, e.g. `local-lr` or a model id.")


class Source(Frozen):
    """A documentation page an answer drew on."""

    doc: str = Field(description="File name of the document, e.g. `whatis.md`.")
    title: str
    section: str = Field("", description="Heading path inside the document, ` > ` separated.")
    score: float
    snippet: str = ""


class EscalationReason(StrEnum):
    NONE = "none"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    HUMAN_REQUESTED = "human_requested"
    REPEATED_FAILURE = "repeated_failure"
    BOT_ERROR = "bot_error"
    BOT_TIMEOUT = "bot_timeout"


class EscalationDecision(Frozen):
    escalate: bool
    reason: EscalationReason
    detail: str = ""

    @classmethod
    def stay_with_bot(cls) -> EscalationDecision:
        return cls(escalate=False, reason=EscalationReason.NONE)
