"""The sentiment judge the configuration asks for."""

from __future__ import annotations

from chatbot.config import Settings
from chatbot.rag.embedder import Embedder
from chatbot.sentiment.judge import SentimentJudge
from chatbot.sentiment.local_judge import load_local_sentiment_judge


def make_sentiment_judge(settings: Settings, embedder: Embedder) -> SentimentJudge:
    """Local: the trained classifier. AWS: the Bedrock judge, with the classifier answering when it cannot."""
    local = load_local_sentiment_judge(settings, embedder)
    if settings.backend == "aws":
        from chatbot.sentiment.llm_judge import BedrockSentimentJudge

        return BedrockSentimentJudge(settings, fallback=local)
    return local
