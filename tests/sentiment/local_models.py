"""The real local models, built once per test session and shared by tests/sentiment and tests/chain.

Training the classifier on the full human-rated set takes about a minute on two cores (one embedding
pass over ~8,500 texts); every test that needs it reuses this one, trained into a session folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from chatbot.chain.embedding_cache import CachedEmbedder
from chatbot.config import Settings, load_settings
from chatbot.rag.embeddings import make_embedder
from chatbot.sentiment.local_judge import LocalSentimentJudge
from chatbot.sentiment.store import load_or_train
from chatbot.sentiment.training import TrainedSentimentModel


@dataclass(frozen=True)
class LocalModels:
    settings: Settings
    embedder: CachedEmbedder
    trained: TrainedSentimentModel
    judge: LocalSentimentJudge


_embedders: dict[Path, tuple[Settings, CachedEmbedder]] = {}
_models: dict[Path, LocalModels] = {}


def shared_embedder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, CachedEmbedder]:
    """Settings for the session's model folder, and the real embedder (its ONNX graph made once)."""
    data_dir = tmp_path_factory.getbasetemp() / "local-models"
    if data_dir not in _embedders:
        # Explicit values: session fixtures are set up before the per-test environment isolation.
        settings = load_settings(backend="local", data_dir=data_dir)
        _embedders[data_dir] = (settings, CachedEmbedder(make_embedder(settings)))
    return _embedders[data_dir]


def local_models(tmp_path_factory: pytest.TempPathFactory) -> LocalModels:
    settings, embedder = shared_embedder(tmp_path_factory)
    if settings.data_dir not in _models:
        trained = load_or_train(settings, embedder)
        judge = LocalSentimentJudge(trained.model, embedder)
        _models[settings.data_dir] = LocalModels(settings, embedder, trained, judge)
    return _models[settings.data_dir]
