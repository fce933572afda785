"""Sentiment judged by a Bedrock model (aws backend), with the local classifier as fallback.

The model answers with a structured verdict ``{label, score}`` validated by Pydantic: through forced tool
use where the family supports it (Claude, Nova, Mistral Large), through a JSON-only reply otherwise
(Titan). A failed, slow or malformed answer never breaks a turn: the fallback judge answers instead and a
warning says why. ``Sentiment.judged_by`` tells which judge answered.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field

from chatbot.config import Settings
from chatbot.errors import ModelBackendError
from chatbot.llm.bedrock import BedrockChatModel, make_bedrock_chat_model
from chatbot.llm.messages import build_chat_messages
from chatbot.models import Sentiment, SentimentLabel
from chatbot.sentiment.judge import SentimentJudge

log = structlog.get_logger(__name__)

CONTEXT_MESSAGES = 3
"""Earlier customer messages shown to the judge: enough to read sarcasm or mounting frustration."""

INSTRUCTIONS = (
    "You judge how a customer of a support chat feels, so that upset customers reach a human expert. "
    "Judge the customer's latest message, reading their earlier messages as context. "
    "label: negative (frustrated, angry, disappointed, or asking for a human), neutral, or positive. "
    "score: your confidence in the label, from 0 to 1."
)
JSON_ONLY = 'Reply with only a JSON object and nothing else, for example {"label": "neutral", "score": 0.8}.'


class SentimentVerdict(BaseModel):
    """The sentiment of the customer's latest message."""

    label: SentimentLabel = Field(description="negative, neutral or positive")
    score: float = Field(ge=0.0, le=1.0, description="confidence in the label, from 0 to 1")

    def to_sentiment(self, judged_by: str) -> Sentiment:
        # The verdict names one label; the other two share what confidence is left.
        negative = self.score if self.label is SentimentLabel.NEGATIVE else (1.0 - self.score) / 2
        return Sentiment(label=self.label, score=self.score, negative=negative, judged_by=judged_by)


def parse_verdict(reply_text: str) -> SentimentVerdict:
    """The JSON object in a model's reply (models wrap it in prose or code fences), validated."""
    start, end = reply_text.find("{"), reply_text.rfind("}")
    if start == -1 or end < start:
        raise ModelBackendError(f"the reply holds no JSON object: {reply_text[:200]!r}")
    return SentimentVerdict.model_validate_json(reply_text[start : end + 1])


def judge_prompt(message: str, previous_customer_messages: Sequence[str]) -> str:
    earlier = previous_customer_messages[-CONTEXT_MESSAGES:]
    lines = ["Earlier customer messages:", *(f"- {text}" for text in earlier)] if earlier else []
    return "\n".join([*lines, "Latest customer message:", message])


class BedrockSentimentJudge:
    """A :class:`SentimentJudge` that asks ``settings.sentiment_model_id`` and falls back to ``fallback``."""

    def __init__(self, settings: Settings, fallback: SentimentJudge) -> None:
        self._model_id = settings.sentiment_model_id
        self._fallback = fallback
        # One attempt within the timeout: the fallback is the retry.
        self._model: BedrockChatModel = make_bedrock_chat_model(
            settings,
            self._model_id,
            max_tokens=100,
            temperature=0.0,
            read_timeout_s=settings.sentiment_timeout_s,
            max_attempts=1,
        )
        self._structured: Runnable[list[BaseMessage], object] | None = (
            self._model.with_structured_output(SentimentVerdict)
            if self._model.family.forced_tool_use
            else None
        )

    @property
    def judged_by(self) -> str:
        return f"bedrock:{self._model_id}"

    def judge(self, message: str, previous_customer_messages: Sequence[str]) -> Sentiment:
        try:
            verdict = self._ask(judge_prompt(message, previous_customer_messages))
        except (BotoCoreError, ClientError, ValueError, ModelBackendError) as error:
            # ValueError covers Pydantic's ValidationError and LangChain's OutputParserException.
            log.warning(
                "sentiment.llm_judge_failed",
                model_id=self._model_id,
                reason=f"{type(error).__name__}: {error}"[:500],
                fallback="local",
            )
            return self._fallback.judge(message, previous_customer_messages)
        return verdict.to_sentiment(self.judged_by)

    def _ask(self, prompt: str) -> SentimentVerdict:
        if self._structured is not None:
            messages = build_chat_messages(INSTRUCTIONS, [], prompt)
            verdict = self._structured.invoke(messages)
            if not isinstance(verdict, SentimentVerdict):
                raise ModelBackendError(f"the model did not call the verdict tool (got {verdict!r})")
            return verdict
        messages = build_chat_messages(f"{INSTRUCTIONS}\n{JSON_ONLY}", [], prompt)
        return parse_verdict(self._model.invoke(messages).text)
