"""Fixtures of the sentiment tests."""

from __future__ import annotations

import pytest

from chatbot.chain.embedding_cache import CachedEmbedder
from tests.sentiment.local_models import LocalModels, local_models, shared_embedder


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> LocalModels:
    """The real embedder and the sentiment classifier trained on the full data (once per session)."""
    return local_models(tmp_path_factory)


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> CachedEmbedder:
    """The real local embedder, without training anything."""
    return shared_embedder(tmp_path_factory)[1]
