"""The local sentiment judge: the trained classifier, read in the context of the conversation.

Per message: one embedding (of that message alone), support-aware VADER (tens of microseconds) and a
388x3 matrix product.
Earlier customer messages were judged on earlier turns; their probabilities are remembered by text,
so context costs nothing extra.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from chatbot.config import Settings
from chatbot.models import Sentiment
from chatbot.rag.embedder import Embedder
from chatbot.sentiment.classifier import CLASS_ORDER, LinearSentimentModel, Probabilities
from chatbot.sentiment.context import WINDOW, carried_frustration, in_context
from chatbot.sentiment.features import SentimentFeatures
from chatbot.sentiment.store import load_or_train
from chatbot.sentiment.training import JUDGED_BY

REMEMBERED_MESSAGES = 2048


class LocalSentimentJudge:
    """A :class:`~chatbot.sentiment.judge.SentimentJudge` backed by :class:`LinearSentimentModel`."""

    def __init__(self, model: LinearSentimentModel, embedder: Embedder) -> None:
        self._model = model
        self._features = SentimentFeatures(embedder)
        self._remembered: OrderedDict[str, Probabilities] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def judged_by(self) -> str:
        return JUDGED_BY

    def judge(self, message: str, previous_customer_messages: Sequence[str]) -> Sentiment:
        earlier = [self._probabilities([text])[0][0] for text in previous_customer_messages[-WINDOW:]]
        current = self._probabilities([message])[0]
        return self._sentiment(in_context(current, carried_frustration(earlier)))

    def judge_first_messages(self, messages: Sequence[str]) -> list[Sentiment]:
        """Many opening messages, each without context, exactly as :meth:`judge` would read them."""
        return [self._sentiment(row) for row in self._probabilities(messages)]

    def _probabilities(self, texts: Sequence[str]) -> Probabilities:
        with self._lock:
            known = {text: self._remembered[text] for text in texts if text in self._remembered}
        unknown = list(dict.fromkeys(text for text in texts if text not in known))
        fresh: dict[str, Probabilities] = {}
        if unknown:
            # One embedding call per text: the int8 embedder's vectors shift with the batch they are in
            # (cosine down to 0.96), and a chat turn always embeds its message alone.
            features = np.vstack([self._features.of([text]) for text in unknown])
            fresh = dict(zip(unknown, self._model.probabilities(features), strict=True))
        with self._lock:
            self._remembered.update(known)
            for text in known:
                self._remembered.move_to_end(text)
            self._remembered.update(fresh)
            while len(self._remembered) > REMEMBERED_MESSAGES:
                self._remembered.popitem(last=False)
        rows = [known[text] if text in known else fresh[text] for text in texts]
        return np.vstack(rows) if rows else np.empty((0, len(CLASS_ORDER)))

    def _sentiment(self, probabilities: Probabilities) -> Sentiment:
        winner = int(np.argmax(probabilities))
        return Sentiment(
            label=CLASS_ORDER[winner],
            score=_unit(probabilities[winner]),
            negative=_unit(probabilities[0]),
            judged_by=self.judged_by,
        )


def _unit(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def load_local_sentiment_judge(settings: Settings, embedder: Embedder) -> LocalSentimentJudge:
    """The judge for ``embedder``, training its classifier first when there is none that fits."""
    return LocalSentimentJudge(load_or_train(settings, embedder).model, embedder)
