"""The Bedrock sentiment judge: structured verdicts parsed and validated, the local judge on any failure."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import pytest

from chatbot.models import Sentiment, SentimentLabel
from chatbot.sentiment.llm_judge import BedrockSentimentJudge, SentimentVerdict, parse_verdict
from tests.llm.conftest import MakeSettings
from tests.support.fake_bedrock import ErrorReply, FakeBedrock, StallReply, TextReply, ToolUseReply

CLAUDE_ID = "anthropic.claude-3-haiku-20240307-v1:0"


class RecordingFallbackJudge:
    """Stands in for the local classifier: answers neutral and records that it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def judge(self, message: str, previous_customer_messages: Sequence[str]) -> Sentiment:
        self.calls.append((message, list(previous_customer_messages)))
        return Sentiment(label=SentimentLabel.NEUTRAL, score=0.7, negative=0.15, judged_by="local-test")


@pytest.fixture
def fallback() -> RecordingFallbackJudge:
    return RecordingFallbackJudge()


def test_titan_verdict_is_asked_as_json_and_validated(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock, fallback: RecordingFallbackJudge
) -> None:
    fake_bedrock.reply_with(TextReply('Here you go:\n```json\n{"label": "negative", "score": 0.92}\n```'))
    judge = BedrockSentimentJudge(make_aws_settings(), fallback)

    sentiment = judge.judge("This is the third time it fails!", ["It fails.", "Still failing."])

    assert sentiment.label is SentimentLabel.NEGATIVE
    assert sentiment.score == pytest.approx(0.92)
    assert sentiment.negative == pytest.approx(0.92)
    assert sentiment.judged_by == "bedrock:amazon.titan-text-express-v1"
    assert not fallback.calls
    (request,) = fake_bedrock.requests_for("converse")
    assert "system" not in request.body
    assert "toolConfig" not in request.body
    (turn,) = request.body["messages"]
    prompt = turn["content"][0]["text"]
    assert "JSON" in prompt
    assert "Still failing." in prompt
    assert prompt.endswith("This is the third time it fails!")
    assert request.body["inferenceConfig"]["temperature"] == 0.0


def test_sentiment_model_can_differ_from_the_answering_model(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock, fallback: RecordingFallbackJudge
) -> None:
    fake_bedrock.reply_with(ToolUseReply("SentimentVerdict", {"label": "positive", "score": 0.8}))
    settings = make_aws_settings(bedrock_sentiment_model_id=CLAUDE_ID)

    sentiment = BedrockSentimentJudge(settings, fallback).judge("Thanks, that worked!", [])

    assert sentiment.label is SentimentLabel.POSITIVE
    assert sentiment.negative == pytest.approx(0.1)
    assert sentiment.judged_by == f"bedrock:{CLAUDE_ID}"
    (request,) = fake_bedrock.requests_for("converse")
    assert request.model_id == CLAUDE_ID
    assert request.body["system"][0]["text"].startswith("You judge how a customer")
    tool_config = request.body["toolConfig"]
    (tool,) = tool_config["tools"]
    assert tool["toolSpec"]["name"] == "SentimentVerdict"
    assert set(tool["toolSpec"]["inputSchema"]["json"]["properties"]) == {"label", "score"}
    assert tool_config["toolChoice"] == {"tool": {"name": "SentimentVerdict"}}


@pytest.mark.parametrize(
    "reply",
    [
        TextReply("1"),
        TextReply("The customer seems negative."),
        TextReply('{"label": "furious", "score": 0.9}'),
        TextReply('{"label": "negative", "score": 7}'),
        ErrorReply(status=500),
        ErrorReply(status=400, error_type="ValidationException", message="bad request"),
    ],
    ids=["bare-digit", "prose", "unknown-label", "score-out-of-range", "http-500", "http-400"],
)
def test_the_local_judge_answers_when_the_model_fails(
    make_aws_settings: MakeSettings,
    fake_bedrock: FakeBedrock,
    fallback: RecordingFallbackJudge,
    reply: TextReply | ErrorReply,
) -> None:
    fake_bedrock.reply_with(reply)
    judge = BedrockSentimentJudge(make_aws_settings(), fallback)

    sentiment = judge.judge("Where is my model?", ["hello"])

    assert sentiment.judged_by == "local-test"
    assert fallback.calls == [("Where is my model?", ["hello"])]
    assert len(fake_bedrock.requests_for("converse")) == 1, "the fallback is the retry"


def test_a_tool_model_that_answers_in_prose_falls_back(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock, fallback: RecordingFallbackJudge
) -> None:
    fake_bedrock.reply_with(TextReply("I think they are upset."))
    judge = BedrockSentimentJudge(make_aws_settings(bedrock_sentiment_model_id=CLAUDE_ID), fallback)

    assert judge.judge("ugh", []).judged_by == "local-test"


def test_a_tool_call_with_invalid_arguments_falls_back(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock, fallback: RecordingFallbackJudge
) -> None:
    fake_bedrock.reply_with(ToolUseReply("SentimentVerdict", {"label": "negative"}))
    judge = BedrockSentimentJudge(make_aws_settings(bedrock_sentiment_model_id=CLAUDE_ID), fallback)

    assert judge.judge("ugh", []).judged_by == "local-test"


def test_a_slow_model_falls_back_within_the_timeout(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock, fallback: RecordingFallbackJudge
) -> None:
    fake_bedrock.reply_with(StallReply(seconds=5))
    judge = BedrockSentimentJudge(make_aws_settings(sentiment_timeout_s=0.5), fallback)

    started = time.monotonic()
    sentiment = judge.judge("hello?", [])

    assert sentiment.judged_by == "local-test"
    assert time.monotonic() - started < 3


def test_parse_verdict_reads_the_json_object_out_of_a_reply() -> None:
    verdict = parse_verdict('Sure. {"label": "neutral", "score": 0.55} Hope this helps.')
    assert verdict == SentimentVerdict(label=SentimentLabel.NEUTRAL, score=0.55)
    assert json.loads(verdict.model_dump_json()) == {"label": "neutral", "score": 0.55}
