"""Reciprocal-rank fusion (Cormack et al., 2009): ``score(x) = sum_r weight_r / (k + rank_r(x))``, ranks from
1.

Ranks, not scores, are fused, so BM25 scores (unbounded) and cosines (-1..1) need no calibration; ``k``
damps the weight of the very top ranks (60 in the paper).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)

RRF_K = 60.0


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Key]], weights: Sequence[float] | None = None, k: float = RRF_K
) -> dict[Key, float]:
    """Fused score of every key ranked anywhere; a key absent from a ranking gets nothing from it."""
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    fused: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused


def ranked(scores: dict[Key, float]) -> list[Key]:
    """Keys by descending score; ties keep insertion order."""
    return sorted(scores, key=lambda key: -scores[key])


def first_occurrences(keys: Iterable[Key]) -> list[Key]:
    """Each key once, at its first position (document ranking from a ranking of its chunks)."""
    return list(dict.fromkeys(keys))
