"""How earlier customer messages colour the reading of the latest one.

Rule: frustration carries over, calm does not cancel it.

* Only earlier messages that were themselves judged negative (P(negative) >= :data:`FRUSTRATED`) count,
  the last :data:`WINDOW` of them, each weighted by :data:`DECAY` per step back: the most recent one
  fully, the one before at half weight, and so on. The strongest of these is the *carried* frustration.
* The latest message's P(negative) ``p`` becomes ``p + (1 - p) * carried * p``: a noisy-OR of the new
  evidence with the old, scaled by ``p`` itself. A mildly negative follow-up after an angry message
  (p = 0.45, carried = 0.95) rises to 0.68; a neutral or happy follow-up ("thanks, that worked",
  p = 0.02) barely moves (0.04), so a customer who calms down is not escalated for their past.
* Context only ever raises P(negative); neutral and positive keep their ratio and share the rest.
  No earlier message can lower the reading of the latest one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chatbot.sentiment.classifier import Probabilities

WINDOW = 3
DECAY = 0.5
FRUSTRATED = 0.5


def carried_frustration(previous_negative: Sequence[float]) -> float:
    """How much earlier frustration weighs on the latest message, from earlier P(negative)s, oldest first."""
    recent = list(previous_negative)[-WINDOW:]
    carried = 0.0
    for steps_back, negative in enumerate(reversed(recent)):
        if negative >= FRUSTRATED:
            carried = max(carried, negative * DECAY**steps_back)
    return carried


def in_context(probabilities: Probabilities, carried: float) -> Probabilities:
    """The latest message's ``(negative, neutral, positive)`` after earlier frustration is carried over."""
    negative = float(probabilities[0])
    raised = negative + (1.0 - negative) * carried * negative
    rest = float(probabilities[1] + probabilities[2])
    if rest <= 0.0:
        return np.asarray(probabilities, dtype=np.float64)
    shrink = (1.0 - raised) / rest
    return np.array([raised, probabilities[1] * shrink, probabilities[2] * shrink], dtype=np.float64)
