"""The trained classifier: standardised features, then multinomial logistic regression.

Stored as plain arrays in an ``.npz`` file (never pickle) and applied with numpy alone, so judging a
message costs one matrix product on top of its embedding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from chatbot.errors import ModelBackendError
from chatbot.models import SentimentLabel
from chatbot.sentiment.features import Features

CLASS_ORDER = (SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE)
"""Column order of every probability array in this package."""

Probabilities = npt.NDArray[np.float64]


class LinearSentimentModel:
    def __init__(
        self,
        mean: Features,
        scale: Features,
        coefficients: Features,
        intercepts: Features,
    ) -> None:
        features = mean.shape[0]
        if scale.shape != (features,) or coefficients.shape != (features, len(CLASS_ORDER)):
            raise ModelBackendError(
                f"sentiment model arrays disagree: mean {mean.shape}, scale {scale.shape}, "
                f"coefficients {coefficients.shape}"
            )
        if intercepts.shape != (len(CLASS_ORDER),):
            raise ModelBackendError(f"sentiment model intercepts have shape {intercepts.shape}")
        self.mean = mean
        self.scale = scale
        self.coefficients = coefficients
        self.intercepts = intercepts

    @property
    def feature_count(self) -> int:
        return int(self.mean.shape[0])

    def probabilities(self, features: Features) -> Probabilities:
        """One row of ``P(negative), P(neutral), P(positive)`` per feature row."""
        if features.ndim != 2 or features.shape[1] != self.feature_count:
            raise ModelBackendError(
                f"expected feature rows of width {self.feature_count}, got shape {features.shape}"
            )
        logits = ((features - self.mean) / self.scale) @ self.coefficients + self.intercepts
        logits -= logits.max(axis=1, keepdims=True)
        exponentials = np.exp(logits)
        result: Probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
        return result

    def save(self, path: Path) -> None:
        # np.savez appends ".npz" to names without it; write to an exact temporary name, then rename.
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("wb") as handle:
            np.savez(
                handle,
                mean=self.mean,
                scale=self.scale,
                coefficients=self.coefficients,
                intercepts=self.intercepts,
            )
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinearSentimentModel:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                return cls(
                    mean=np.asarray(arrays["mean"], dtype=np.float64),
                    scale=np.asarray(arrays["scale"], dtype=np.float64),
                    coefficients=np.asarray(arrays["coefficients"], dtype=np.float64),
                    intercepts=np.asarray(arrays["intercepts"], dtype=np.float64),
                )
        except (OSError, KeyError, ValueError) as error:
            raise ModelBackendError(f"cannot read the sentiment model {path}: {error}") from error
