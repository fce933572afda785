"""The context rule: earlier frustration raises a later reading, and nothing lowers it."""

from __future__ import annotations

import numpy as np
import pytest

from chatbot.sentiment.classifier import Probabilities
from chatbot.sentiment.context import DECAY, WINDOW, carried_frustration, in_context


def _row(negative: float, neutral: float) -> Probabilities:
    return np.array([negative, neutral, 1.0 - negative - neutral])


def test_no_earlier_frustration_carries_nothing() -> None:
    assert carried_frustration([]) == 0.0
    assert carried_frustration([0.1, 0.3, 0.45]) == 0.0


def test_the_latest_frustrated_message_carries_fully_older_ones_decay() -> None:
    assert carried_frustration([0.9]) == pytest.approx(0.9)
    assert carried_frustration([0.9, 0.1]) == pytest.approx(0.9 * DECAY)
    assert carried_frustration([0.9] + [0.1] * WINDOW) == 0.0  # out of the window


def test_a_mild_follow_up_to_an_angry_message_crosses_the_threshold() -> None:
    follow_up = _row(0.45, 0.45)
    raised = in_context(follow_up, carried_frustration([0.95]))
    assert follow_up[0] < 0.6 <= raised[0]
    assert raised.sum() == pytest.approx(1.0)


def test_a_calm_follow_up_stays_calm() -> None:
    thanks = _row(0.02, 0.18)
    after_anger = in_context(thanks, carried_frustration([0.99]))
    assert after_anger[0] < 0.05
    assert int(np.argmax(after_anger)) == 2


def test_context_never_lowers_negative_and_keeps_a_distribution() -> None:
    generator = np.random.default_rng(3)
    for _ in range(500):
        probabilities = generator.dirichlet([1.0, 1.0, 1.0])
        earlier = list(generator.uniform(0, 1, size=int(generator.integers(0, 5))))
        adjusted = in_context(probabilities, carried_frustration(earlier))
        assert adjusted[0] >= probabilities[0] - 1e-12
        assert adjusted.sum() == pytest.approx(1.0)
        assert (adjusted >= 0).all()
        # neutral and positive keep their ratio
        assert adjusted[1] * probabilities[2] == pytest.approx(adjusted[2] * probabilities[1])
