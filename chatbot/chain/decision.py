"""Whether a turn goes to a human expert: a pure function of the turn's signals and the policy.

Every signal that fires is named in the detail; the reason is the first of them in this order:
the customer asked for a person (their explicit wish), the chain timed out or failed (no trustworthy
answer exists), the customer is upset (P(negative) at or above the threshold), the bot failed too
often (complaints or repeated questions, counted over the conversation).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chatbot.chain.signals import TurnSignals
from chatbot.config import Settings
from chatbot.models import EscalationDecision, EscalationReason


class EscalationPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    negative_sentiment_threshold: float = Field(gt=0.0, le=1.0)
    repeated_failure_limit: int = Field(ge=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> EscalationPolicy:
        return cls(
            negative_sentiment_threshold=settings.negative_sentiment_threshold,
            repeated_failure_limit=settings.repeated_failure_limit,
        )


def _triggered(signals: TurnSignals, policy: EscalationPolicy) -> list[tuple[EscalationReason, str]]:
    triggered: list[tuple[EscalationReason, str]] = []
    if signals.human_request is not None:
        triggered.append(
            (EscalationReason.HUMAN_REQUESTED, f'the customer asked for a person: "{signals.human_request}"')
        )
    if signals.timed_out:
        triggered.append((EscalationReason.BOT_TIMEOUT, "the bot did not answer in time"))
    if signals.chain_error is not None:
        triggered.append((EscalationReason.BOT_ERROR, f"the bot failed: {signals.chain_error}"))
    sentiment = signals.sentiment
    if sentiment is not None and sentiment.negative >= policy.negative_sentiment_threshold:
        triggered.append(
            (
                EscalationReason.NEGATIVE_SENTIMENT,
                f"the customer seems upset: P(negative) {sentiment.negative:.2f} >= "
                f"{policy.negative_sentiment_threshold:.2f} (judged by {sentiment.judged_by})",
            )
        )
    if len(signals.failures) >= policy.repeated_failure_limit:
        evidence = "; ".join(f"turn {failure.turn}: {failure.evidence}" for failure in signals.failures)
        triggered.append(
            (
                EscalationReason.REPEATED_FAILURE,
                f"the bot did not help {len(signals.failures)} times "
                f"(limit {policy.repeated_failure_limit}): {evidence}",
            )
        )
    return triggered


def decide_escalation(signals: TurnSignals, policy: EscalationPolicy) -> EscalationDecision:
    triggered = _triggered(signals, policy)
    if not triggered:
        return EscalationDecision.stay_with_bot()
    (reason, detail), *others = triggered
    if others:
        detail += "; also " + "; ".join(other_detail for _, other_detail in others)
    return EscalationDecision(escalate=True, reason=reason, detail=detail)
