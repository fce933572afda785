"""Choosing what to label: a seeded random sample, or one that oversamples risky items.

Both strategies draw without replacement with the Efraimidis-Spirakis method (each unit gets the key
``u ** (1 / weight)`` with ``u`` uniform from a ``random.Random(seed)``; the ``n`` largest keys win), so a
sample depends only on the pool (in its given order), ``n``, the strategy and the seed.

``random``: every weight is 1.

``risk``: weight = 1 + the weights of the signals present (:data:`RISK_WEIGHTS`):

==================  ======  =====================================================================
signal              weight  present when
==================  ======  =====================================================================
escalated           4       the conversation was escalated to a human
thumbs_down         4       the customer gave the answer (any answer, for a conversation) a thumbs-down
negative_sentiment  2       a customer message was judged negative
low_retrieval       2       an answer cited nothing, or its best source scored in the pool's lowest
                            quarter (by rank: scale-free, and none when all scores are equal)
==================  ======  =====================================================================

An escalated, thumbs-down item thus weighs 9 against 1 for a quiet one. Every unit keeps a non-zero weight,
so ordinary conversations still appear.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

Unit = TypeVar("Unit")

LOW_RETRIEVAL_QUANTILE = 0.25


class SampleStrategy(StrEnum):
    RANDOM = "random"
    RISK = "risk"


@dataclass(frozen=True)
class RiskWeights:
    escalated: float = 4.0
    thumbs_down: float = 4.0
    negative_sentiment: float = 2.0
    low_retrieval: float = 2.0


RISK_WEIGHTS = RiskWeights()


@dataclass(frozen=True)
class RiskSignals:
    """What makes a labeling unit (a question/answer item, or a whole conversation) worth a look."""

    escalated: bool = False
    thumbs_down: bool = False
    negative_sentiment: bool = False
    uncited_answer: bool = False
    lowest_retrieval_score: float | None = None


def low_retrieval_flags(signals: Sequence[RiskSignals]) -> list[bool]:
    """Per unit: cited nothing, or its score is in the pool's lowest quarter (fewer than 25% of the scores
    are below it) and is not the pool's best (so a pool of equal scores has none low)."""
    scores = sorted(s.lowest_retrieval_score for s in signals if s.lowest_retrieval_score is not None)
    flags = []
    for unit in signals:
        score = unit.lowest_retrieval_score
        ranked_low = (
            score is not None
            and score < scores[-1]
            and bisect.bisect_left(scores, score) < LOW_RETRIEVAL_QUANTILE * len(scores)
        )
        flags.append(unit.uncited_answer or ranked_low)
    return flags


def risk_weight(signals: RiskSignals, low_retrieval: bool, weights: RiskWeights = RISK_WEIGHTS) -> float:
    return (
        1.0
        + weights.escalated * signals.escalated
        + weights.thumbs_down * signals.thumbs_down
        + weights.negative_sentiment * signals.negative_sentiment
        + weights.low_retrieval * low_retrieval
    )


def sample_indices(signals: Sequence[RiskSignals], n: int, strategy: SampleStrategy, seed: int) -> list[int]:
    """Positions of the chosen units, ascending; everything when ``n`` covers the pool."""
    if n < 1:
        raise ValueError(f"sample size must be at least 1, not {n}")
    if n >= len(signals):
        return list(range(len(signals)))
    if strategy is SampleStrategy.RISK:
        low = low_retrieval_flags(signals)
        weights = [risk_weight(unit, low_retrieval) for unit, low_retrieval in zip(signals, low, strict=True)]
    else:
        weights = [1.0] * len(signals)
    generator = random.Random(seed)  # noqa: S311 - reproducible sampling, not security
    # log(u) / w orders like u ** (1 / w) and does not underflow
    keys = [math.log(1.0 - generator.random()) / weight for weight in weights]
    chosen = sorted(range(len(signals)), key=lambda index: keys[index], reverse=True)[:n]
    return sorted(chosen)


def sample(
    units: Sequence[Unit],
    n: int | None,
    strategy: SampleStrategy,
    seed: int,
    signals_of: Callable[[Unit], RiskSignals],
) -> list[Unit]:
    """``units`` thinned to ``n`` (all of them when ``n`` is None), in their original order."""
    if n is None:
        return list(units)
    return [units[index] for index in sample_indices([signals_of(unit) for unit in units], n, strategy, seed)]
