"""Sampling for labeling: seeded random samples repeat; risk samples over-represent risky units."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from workflows.labeling.sampling import (
    RISK_WEIGHTS,
    RiskSignals,
    SampleStrategy,
    low_retrieval_flags,
    risk_weight,
    sample,
    sample_indices,
)

QUIET = RiskSignals(lowest_retrieval_score=0.9)


def pool(size: int, risky_every: int, risky: RiskSignals) -> list[RiskSignals]:
    return [risky if index % risky_every == 0 else QUIET for index in range(size)]


def test_a_random_sample_repeats_with_its_seed_and_changes_with_another() -> None:
    units = [QUIET] * 200
    first = sample_indices(units, 20, SampleStrategy.RANDOM, seed=7)
    assert first == sample_indices(units, 20, SampleStrategy.RANDOM, seed=7)
    assert first != sample_indices(units, 20, SampleStrategy.RANDOM, seed=8)
    assert len(set(first)) == 20
    assert first == sorted(first)
    assert all(0 <= index < 200 for index in first)


def test_a_random_sample_is_uniform_over_many_seeds() -> None:
    units = [QUIET] * 50
    counts = [0] * 50
    for seed in range(400):
        for index in sample_indices(units, 10, SampleStrategy.RANDOM, seed):
            counts[index] += 1
    # each unit is expected 400 * 10 / 50 = 80 times
    assert min(counts) > 50 and max(counts) < 115
    assert abs(statistics.mean(counts) - 80) < 1e-9


def test_a_sample_as_large_as_the_pool_is_the_pool_in_order() -> None:
    units = ["c", "a", "b"]
    assert sample(units, 3, SampleStrategy.RISK, 1, lambda _: QUIET) == units
    assert sample(units, 10, SampleStrategy.RANDOM, 1, lambda _: QUIET) == units
    assert sample(units, None, SampleStrategy.RANDOM, 1, lambda _: QUIET) == units
    with pytest.raises(ValueError, match="at least 1"):
        sample_indices([QUIET], 0, SampleStrategy.RANDOM, 1)


@pytest.mark.parametrize(
    "risky",
    [
        replace(QUIET, escalated=True),
        replace(QUIET, thumbs_down=True),
        replace(QUIET, negative_sentiment=True),
        replace(QUIET, uncited_answer=True, lowest_retrieval_score=None),
        replace(QUIET, lowest_retrieval_score=0.1),
    ],
    ids=["escalated", "thumbs-down", "negative", "uncited", "low-score"],
)
def test_risk_sampling_over_represents_each_risk_signal(risky: RiskSignals) -> None:
    units = pool(400, risky_every=10, risky=risky)  # 10% risky
    risky_share: dict[SampleStrategy, list[float]] = {strategy: [] for strategy in SampleStrategy}
    for seed in range(60):
        for strategy in SampleStrategy:
            chosen = sample_indices(units, 40, strategy, seed)
            risky_share[strategy].append(sum(units[index] is risky for index in chosen) / len(chosen))

    random_share = statistics.mean(risky_share[SampleStrategy.RANDOM])
    risk_share = statistics.mean(risky_share[SampleStrategy.RISK])
    assert 0.07 < random_share < 0.13  # the base rate
    assert risk_share > 2 * random_share
    assert risk_share < 1.0  # quiet units still appear


def test_more_signals_weigh_more() -> None:
    everything = RiskSignals(escalated=True, thumbs_down=True, negative_sentiment=True, uncited_answer=True)
    expected = (
        1
        + RISK_WEIGHTS.escalated
        + RISK_WEIGHTS.thumbs_down
        + RISK_WEIGHTS.negative_sentiment
        + RISK_WEIGHTS.low_retrieval
    )
    assert risk_weight(everything, low_retrieval=True) == expected
    assert risk_weight(QUIET, low_retrieval=False) == 1.0
    escalated, negative = replace(QUIET, escalated=True), replace(QUIET, negative_sentiment=True)
    assert risk_weight(escalated, low_retrieval=False) > risk_weight(negative, low_retrieval=False)


def test_low_retrieval_is_the_pools_lowest_quarter_by_rank() -> None:
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    units = [RiskSignals(lowest_retrieval_score=score) for score in scores]
    units += [RiskSignals(), RiskSignals(uncited_answer=True)]
    assert low_retrieval_flags(units) == [True, True] + [False] * 6 + [False, True]
    assert low_retrieval_flags([QUIET] * 5) == [False] * 5  # equal scores: nothing stands out
    tied_low = [RiskSignals(lowest_retrieval_score=0.1)] * 2 + [QUIET] * 18
    assert low_retrieval_flags(tied_low) == [True] * 2 + [False] * 18
