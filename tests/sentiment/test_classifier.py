"""The stored classifier: plain arrays, no pickle, probabilities that add up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatbot.errors import ModelBackendError
from chatbot.sentiment.classifier import LinearSentimentModel


def _model(features: int = 5, seed: int = 0) -> LinearSentimentModel:
    generator = np.random.default_rng(seed)
    return LinearSentimentModel(
        mean=generator.normal(size=features),
        scale=generator.uniform(0.5, 2.0, size=features),
        coefficients=generator.normal(size=(features, 3)),
        intercepts=generator.normal(size=3),
    )


def test_probabilities_are_distributions(tmp_path: Path) -> None:
    rows = np.random.default_rng(1).normal(size=(20, 5)) * 50  # large logits must not overflow
    probabilities = _model().probabilities(rows)
    assert probabilities.shape == (20, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.isfinite(probabilities).all()


def test_save_and_load_round_trip_without_pickle(tmp_path: Path) -> None:
    model = _model()
    path = tmp_path / "model.npz"
    model.save(path)
    assert path.exists() and not path.with_name("model.npz.tmp").exists()
    with np.load(path, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    rows = np.ones((2, 5))
    assert np.allclose(LinearSentimentModel.load(path).probabilities(rows), model.probabilities(rows))


def test_wrong_width_and_unreadable_files_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelBackendError, match="width 5"):
        _model().probabilities(np.ones((1, 4)))
    broken = tmp_path / "model.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ModelBackendError, match="cannot read"):
        LinearSentimentModel.load(broken)
    with pytest.raises(ModelBackendError, match="disagree"):
        LinearSentimentModel(np.zeros(3), np.ones(4), np.zeros((3, 3)), np.zeros(3))
