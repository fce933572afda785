"""The escalation decision as a pure function of the turn's signals."""

from __future__ import annotations

import itertools

import pytest

from chatbot.chain.decision import EscalationPolicy, decide_escalation
from chatbot.chain.signals import BotFailure, FailureKind, TurnSignals
from chatbot.config import load_settings
from chatbot.models import EscalationReason, Sentiment, SentimentLabel

POLICY = EscalationPolicy(negative_sentiment_threshold=0.6, repeated_failure_limit=2)


def _sentiment(negative: float) -> Sentiment:
    label = SentimentLabel.NEGATIVE if negative >= 0.5 else SentimentLabel.NEUTRAL
    return Sentiment(label=label, score=max(negative, 1 - negative), negative=negative, judged_by="test")


def _failures(count: int) -> tuple[BotFailure, ...]:
    return tuple(
        BotFailure(turn=turn, kind=FailureKind.COMPLAINT, evidence="that didn't help")
        for turn in range(1, count + 1)
    )


def test_a_calm_turn_stays_with_the_bot() -> None:
    decision = decide_escalation(TurnSignals(sentiment=_sentiment(0.1)), POLICY)
    assert not decision.escalate
    assert decision.reason is EscalationReason.NONE


def test_no_signals_at_all_stays_with_the_bot() -> None:
    assert not decide_escalation(TurnSignals(), POLICY).escalate


@pytest.mark.parametrize(("negative", "escalates"), [(0.59, False), (0.6, True), (0.95, True)])
def test_negative_sentiment_escalates_from_the_threshold_on(negative: float, escalates: bool) -> None:
    decision = decide_escalation(TurnSignals(sentiment=_sentiment(negative)), POLICY)
    assert decision.escalate is escalates
    if escalates:
        assert decision.reason is EscalationReason.NEGATIVE_SENTIMENT
        assert f"{negative:.2f}" in decision.detail


def test_asking_for_a_person_escalates_and_quotes_the_words() -> None:
    decision = decide_escalation(
        TurnSignals(sentiment=_sentiment(0.1), human_request="talk to a human"), POLICY
    )
    assert decision.escalate
    assert decision.reason is EscalationReason.HUMAN_REQUESTED
    assert "talk to a human" in decision.detail


@pytest.mark.parametrize(("count", "escalates"), [(0, False), (1, False), (2, True), (5, True)])
def test_failures_escalate_at_the_limit(count: int, escalates: bool) -> None:
    decision = decide_escalation(TurnSignals(failures=_failures(count)), POLICY)
    assert decision.escalate is escalates
    if escalates:
        assert decision.reason is EscalationReason.REPEATED_FAILURE
        assert f"{count} times" in decision.detail


def test_chain_errors_and_timeouts_escalate() -> None:
    error = decide_escalation(TurnSignals(chain_error="LLM crashed"), POLICY)
    assert (error.escalate, error.reason) == (True, EscalationReason.BOT_ERROR)
    assert "LLM crashed" in error.detail
    timeout = decide_escalation(TurnSignals(timed_out=True), POLICY)
    assert (timeout.escalate, timeout.reason) == (True, EscalationReason.BOT_TIMEOUT)


def test_the_reason_follows_the_documented_order_and_the_detail_names_every_trigger() -> None:
    everything = TurnSignals(
        sentiment=_sentiment(0.9),
        human_request="real person",
        failures=_failures(3),
        chain_error="boom",
        timed_out=True,
    )
    decision = decide_escalation(everything, POLICY)
    assert decision.reason is EscalationReason.HUMAN_REQUESTED
    for words in ("real person", "in time", "boom", "0.90", "3 times"):
        assert words in decision.detail
    without_request = everything.model_copy(update={"human_request": None})
    assert decide_escalation(without_request, POLICY).reason is EscalationReason.BOT_TIMEOUT
    only_mood_and_failures = TurnSignals(sentiment=_sentiment(0.9), failures=_failures(3))
    assert decide_escalation(only_mood_and_failures, POLICY).reason is EscalationReason.NEGATIVE_SENTIMENT


def test_adding_a_signal_never_turns_escalation_off() -> None:
    """Every combination: escalate exactly when at least one trigger fires (monotone in the signals)."""
    for negative, request, failures, error, timed_out in itertools.product(
        (None, 0.2, 0.8), (None, "escalate"), (0, 1, 2), (None, "boom"), (False, True)
    ):
        signals = TurnSignals(
            sentiment=None if negative is None else _sentiment(negative),
            human_request=request,
            failures=_failures(failures),
            chain_error=error,
            timed_out=timed_out,
        )
        fires = (
            (negative or 0) >= 0.6 or request is not None or failures >= 2 or error is not None or timed_out
        )
        assert decide_escalation(signals, POLICY).escalate is fires


def test_the_policy_comes_from_settings() -> None:
    settings = load_settings(negative_sentiment_threshold=0.8, repeated_failure_limit=4)
    policy = EscalationPolicy.from_settings(settings)
    assert policy == EscalationPolicy(negative_sentiment_threshold=0.8, repeated_failure_limit=4)
    assert not decide_escalation(
        TurnSignals(sentiment=_sentiment(0.7), failures=_failures(3)), policy
    ).escalate
