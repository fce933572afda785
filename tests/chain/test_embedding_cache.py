"""The cached embedder: each text is embedded once, documents and queries alike, memory bounded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chatbot.chain.embedding_cache import CachedEmbedder
from chatbot.rag.embedder import Vectors


class CountingEmbedder:
    """Deterministic vectors from text length; records what it was asked to embed."""

    def __init__(self) -> None:
        self.documents: list[str] = []
        self.queries: list[str] = []

    @property
    def model_id(self) -> str:
        return "counting"

    @property
    def dimension(self) -> int:
        return 2

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.documents.extend(texts)
        return np.array([[len(text), 1.0] for text in texts], dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        self.queries.append(text)
        return np.array([len(text), -1.0], dtype=np.float32)


def test_each_text_is_embedded_once_in_order() -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner)
    first = cached.embed_documents(["a", "bb", "a"])
    second = cached.embed_documents(["bb", "ccc"])
    assert inner.documents == ["a", "bb", "ccc"]
    assert first[:, 0].tolist() == [1, 2, 1]
    assert second[:, 0].tolist() == [2, 3]
    assert cached.model_id == "counting" and cached.dimension == 2
    assert cached.embed_documents([]).shape == (0, 2)


def test_a_query_for_an_embedded_text_costs_no_embedder_call() -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner)
    document = cached.embed_documents(["q"])[0]
    assert cached.embed_query("q").tolist() == document.tolist()
    cached.embed_query("q")
    cached.embed_query("new")
    cached.embed_documents(["new"])
    assert inner.documents == ["q", "new"]
    assert inner.queries == []


def test_memory_is_bounded_least_recently_used_first() -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, capacity=2)
    cached.embed_documents(["a"])
    cached.embed_documents(["b"])
    cached.embed_documents(["a"])  # a is now the most recent
    cached.embed_documents(["c"])  # evicts b
    cached.embed_documents(["a", "b"])
    assert inner.documents == ["a", "b", "c", "b"]
