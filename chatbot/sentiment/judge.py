"""The sentiment seam: every judge (the local classifier, the Bedrock LLM judge) implements this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chatbot.models import Sentiment


class SentimentJudge(Protocol):
    def judge(self, message: str, previous_customer_messages: Sequence[str]) -> Sentiment:
        """How the customer feels in ``message``, read in the light of their earlier messages.

        ``previous_customer_messages`` are the customer's earlier messages, oldest first.
        """
        ...
