"""The local judge trained on the full data: its figures, support chats, context, batch use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatbot.models import SentimentLabel
from chatbot.rag.embeddings import make_embedder
from chatbot.sentiment.judge import SentimentJudge
from chatbot.sentiment.local_judge import LocalSentimentJudge
from tests.sentiment.local_models import LocalModels

pytestmark = pytest.mark.models

SUPPORT_MESSAGES = Path(__file__).parents[2] / "benchmarks" / "data" / "support_messages.jsonl"
THRESHOLD = 0.6  # settings.negative_sentiment_threshold's default


def test_it_implements_the_judge_protocol(models: LocalModels) -> None:
    judge: SentimentJudge = models.judge
    sentiment = judge.judge("How do I create a notebook instance?", [])
    assert sentiment.label in set(SentimentLabel)
    assert 1 / 3 <= sentiment.score <= 1.0
    assert 0.0 <= sentiment.negative <= 1.0
    assert sentiment.judged_by == "local-lr"
    if sentiment.label is SentimentLabel.NEGATIVE:
        assert sentiment.score == pytest.approx(sentiment.negative)


def test_it_beats_vader_on_the_held_out_test_part(models: LocalModels) -> None:
    manifest = models.trained.manifest
    assert manifest.split_sizes["test"] > 1000
    assert manifest.test.accuracy > manifest.test_vader.accuracy
    assert manifest.test.macro_f1 > manifest.test_vader.macro_f1
    assert manifest.test.negative_precision > manifest.test_vader.negative_precision


@pytest.mark.parametrize(
    "question",
    [
        "My training job failed with ResourceLimitExceeded, how do I fix it?",
        "The endpoint deployment failed: the container did not pass the ping health check. Why?",
        "I get AccessDeniedException when I call CreateTrainingJob. Which permission is missing?",
        "My processing job was killed with exit code 137. Is it out of memory?",
    ],
)
def test_technical_questions_about_failures_do_not_look_angry(models: LocalModels, question: str) -> None:
    assert models.judge.judge(question, []).negative < THRESHOLD


@pytest.mark.parametrize(
    "complaint",
    [
        "This is ridiculous, your answers are useless and I am furious.",
        "I'm sick of this, the endpoint has been broken for days and nobody helps.",
        "Worst support experience ever. I'm really angry.",
    ],
)
def test_angry_messages_cross_the_threshold(models: LocalModels, complaint: str) -> None:
    sentiment = models.judge.judge(complaint, [])
    assert sentiment.negative >= THRESHOLD
    assert sentiment.label is SentimentLabel.NEGATIVE


def test_support_check_set_rarely_escalates_calm_questions_and_catches_most_anger(
    models: LocalModels,
) -> None:
    rows = [json.loads(line) for line in SUPPORT_MESSAGES.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 60
    assert all(row["written_by"] == "team" for row in rows)
    sentiments = models.judge.judge_first_messages([row["text"] for row in rows])
    escalated: dict[str, list[bool]] = {kind: [] for kind in ("technical_question", "frustrated", "happy")}
    for row, sentiment in zip(rows, sentiments, strict=True):
        escalated[row["kind"]].append(sentiment.negative >= THRESHOLD)
    assert sum(escalated["technical_question"]) / len(escalated["technical_question"]) <= 0.1
    assert sum(escalated["happy"]) / len(escalated["happy"]) <= 0.1
    assert sum(escalated["frustrated"]) / len(escalated["frustrated"]) >= 0.8


def test_earlier_frustration_raises_a_mild_follow_up(models: LocalModels) -> None:
    angry = "This is ridiculous, nothing you say works and I'm fed up."
    follow_up = "Still the same error after restarting the job."
    alone = models.judge.judge(follow_up, [])
    after_anger = models.judge.judge(follow_up, [angry])
    assert after_anger.negative > alone.negative
    after_calm = models.judge.judge(follow_up, ["How do I start a training job?"])
    assert after_calm.negative == pytest.approx(alone.negative)


def test_a_customer_who_calms_down_is_not_held_to_their_past(models: LocalModels) -> None:
    angry = "This is ridiculous, nothing you say works and I'm fed up."
    thanks = models.judge.judge("Thanks, that worked! The job is running now.", [angry])
    assert thanks.negative < THRESHOLD
    assert thanks.label is SentimentLabel.POSITIVE


def test_happy_history_cannot_lower_an_angry_message(models: LocalModels) -> None:
    furious = "I am furious, this is the worst service I have ever used."
    alone = models.judge.judge(furious, [])
    after_praise = models.judge.judge(furious, ["Great, thanks so much!", "You are wonderful, I love this!"])
    assert after_praise.negative >= alone.negative


def test_a_judgement_does_not_depend_on_what_was_judged_before(models: LocalModels) -> None:
    """A fresh judge (no remembered messages or vectors) reads each message exactly as the shared one."""
    fresh = LocalSentimentJudge(models.trained.model, make_embedder(models.settings))
    texts = ["How do I tag an endpoint?", "Terrible, it broke again!", "Thanks, that helps a lot."]
    in_one_go = fresh.judge_first_messages(texts)
    for text, sentiment in zip(texts, in_one_go, strict=True):
        single = models.judge.judge(text, [])
        assert single.label is sentiment.label
        assert single.negative == pytest.approx(sentiment.negative, abs=1e-6)
