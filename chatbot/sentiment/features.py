"""What the classifier sees: the sentence embedding of a message next to support-aware VADER scores.

VADER's lexicon reads "failed", "error", "denied" or "killed" as strongly negative; in a support chat
those words describe the customer's system, not their mood, so they are neutral here. Frustration
words ("useless", "furious", "ridiculous") keep their weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatbot.rag.embedder import Embedder

Features = npt.NDArray[np.float64]

VADER_FEATURES = ("vader_neg", "vader_neu", "vader_pos", "vader_compound")
NEUTRAL_IN_SUPPORT = frozenset(
    {
        "fail", "failed", "fails", "failing", "failure", "failures", "error", "errors", "crash",
        "crashed", "crashes", "denied", "deny", "stuck", "kill", "killed", "killing", "problem",
        "problems", "missing", "lost", "loss", "interrupted", "interrupt", "warning", "warnings", "stop",
        "stopped", "reject", "rejected", "isolation", "forbidden", "critical", "block", "blocked",
        "blocking", "no", "risk",
    }
)  # fmt: skip


class SupportVader:
    """VADER with :data:`NEUTRAL_IN_SUPPORT` taken out of its lexicon (a private copy)."""

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()
        self._analyzer.lexicon = {
            word: valence
            for word, valence in self._analyzer.lexicon.items()
            if word not in NEUTRAL_IN_SUPPORT
        }

    def scores(self, texts: Sequence[str]) -> Features:
        """One row ``(neg, neu, pos, compound)`` per text."""
        rows = [self._analyzer.polarity_scores(text) for text in texts]
        return np.array(
            [[row["neg"], row["neu"], row["pos"], row["compound"]] for row in rows], dtype=np.float64
        ).reshape(len(rows), len(VADER_FEATURES))


def standard_vader_label(compound: float) -> str:
    """VADER's own three-way reading at its documented thresholds (the baseline we compare against)."""
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


def standard_vader_labels(texts: Sequence[str]) -> list[str]:
    analyzer = SentimentIntensityAnalyzer()
    return [standard_vader_label(analyzer.polarity_scores(text)["compound"]) for text in texts]


class SentimentFeatures:
    """Turns texts into classifier input rows (embedding, then VADER scores)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vader = SupportVader()

    def of(self, texts: Sequence[str]) -> Features:
        vectors = self._embedder.embed_documents(texts)
        return np.hstack([np.asarray(vectors, dtype=np.float64), self._vader.scores(texts)])
