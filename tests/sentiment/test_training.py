"""Training, the artifact on disk, and retraining when the artifact no longer fits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from chatbot.chain.embedding_cache import CachedEmbedder
from chatbot.config import Settings, load_settings
from chatbot.rag.embedder import Vectors
from chatbot.sentiment import store
from chatbot.sentiment.dataset import SplitPart, assign_split, load_rated_texts
from chatbot.sentiment.store import MANIFEST_FILE, MODEL_FILE, load_or_train, sentiment_dir

pytestmark = pytest.mark.models


class RenamedEmbedder:
    """The same vectors under another model id: stands for an embedder whose internals changed."""

    def __init__(self, embedder: CachedEmbedder, model_id: str) -> None:
        self._embedder = embedder
        self._model_id = model_id

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._embedder.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._embedder.embed_query(text)


@pytest.fixture
def small_data(tmp_path: Path) -> Path:
    """Every 25th human-rated text (about 320), so a training run takes seconds."""
    full = load_settings().sentiment_training_data
    lines = full.read_text(encoding="utf-8").splitlines()[::25]
    path = tmp_path / "rated-small.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def small_settings(tmp_path: Path, small_data: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", sentiment_training_data=small_data)


def _count_trainings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = store.train_sentiment_model

    def counting(embedder, data_path):  # type: ignore[no-untyped-def]
        calls.append(embedder.model_id)
        return real(embedder, data_path)

    monkeypatch.setattr(store, "train_sentiment_model", counting)
    return calls


def test_training_writes_weights_and_a_manifest_that_keeps_test_out(
    small_settings: Settings, embedder: CachedEmbedder
) -> None:
    trained = load_or_train(small_settings, embedder)
    directory = sentiment_dir(small_settings)
    assert (directory / MODEL_FILE).exists() and (directory / MANIFEST_FILE).exists()
    manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["embedder_model_id"] == embedder.model_id
    assert manifest["data_fingerprint"].startswith("sha256:")
    assert manifest["trained_on"].startswith("train + dev")
    assert "test" not in manifest["trained_on"]
    rated = load_rated_texts(small_settings.sentiment_training_data)
    parts = assign_split(rated)
    assert manifest["split_sizes"] == {part.value: list(parts.values()).count(part) for part in SplitPart}
    # Even from ~220 training texts the classifier beats chance (three classes) on the held-out part.
    assert trained.manifest.test.accuracy > 0.4
    assert trained.manifest.training_seconds > 0
    assert str(trained.manifest.regularisation_c) in trained.manifest.dev_macro_f1_by_c


def test_a_current_model_is_loaded_not_retrained(
    small_settings: Settings, embedder: CachedEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_or_train(small_settings, embedder)
    calls = _count_trainings(monkeypatch)
    again = load_or_train(small_settings, embedder)
    assert calls == []
    assert again.manifest == first.manifest


def test_another_embedder_or_changed_data_or_a_broken_file_retrains(
    small_settings: Settings, small_data: Path, embedder: CachedEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_or_train(small_settings, embedder)
    calls = _count_trainings(monkeypatch)

    renamed = RenamedEmbedder(embedder, "another-embedder-v2")
    assert load_or_train(small_settings, renamed).manifest.embedder_model_id == "another-embedder-v2"
    assert calls == ["another-embedder-v2"]

    with small_data.open("a", encoding="utf-8") as data:
        data.write('{"id": "extra_1", "text": "brand new line", "mean_rating": 0.0, "label": "neutral"}\n')
    load_or_train(small_settings, renamed)
    assert len(calls) == 2

    (sentiment_dir(small_settings) / MODEL_FILE).write_bytes(b"garbage")
    load_or_train(small_settings, renamed)
    assert len(calls) == 3

    (sentiment_dir(small_settings) / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    load_or_train(small_settings, renamed)
    assert len(calls) == 4
