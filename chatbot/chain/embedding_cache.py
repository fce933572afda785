"""An embedder that remembers recent vectors, so one turn embeds the customer's message once.

The sentiment judge, repeat detection and retrieval all embed the same message; wrapped in one
:class:`CachedEmbedder`, only the first of them pays for it, and earlier messages are not embedded
again on later turns. Queries and documents share one memory: every embedder embeds a query as a
one-text document batch, so a message retrieval looks up is not embedded again after the sentiment
judge or repeat detection embedded it (and the other way round).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from chatbot.rag.embedder import Embedder, Vectors

DEFAULT_CAPACITY = 4096


class CachedEmbedder:
    """An :class:`Embedder` in front of another, with a bounded least-recently-used memory of vectors."""

    def __init__(self, embedder: Embedder, capacity: int = DEFAULT_CAPACITY) -> None:
        self._embedder = embedder
        self._capacity = capacity
        self._vectors: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    def _recall(self, key: str) -> Vectors | None:
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
            return vector

    def _remember(self, fresh: dict[str, Vectors]) -> None:
        with self._lock:
            self._vectors.update(fresh)
            while len(self._vectors) > self._capacity:
                self._vectors.popitem(last=False)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        vectors: dict[str, Vectors] = {}
        unknown: list[str] = []
        for text in dict.fromkeys(texts):
            vector = self._recall(text)
            if vector is None:
                unknown.append(text)
            else:
                vectors[text] = vector
        if unknown:
            computed = self._embedder.embed_documents(unknown)
            fresh: dict[str, Vectors] = {}
            for row, text in enumerate(unknown):
                vectors[text] = fresh[text] = computed[row]
            self._remember(fresh)
        result = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            result[row] = vectors[text]
        return result

    def embed_query(self, text: str) -> Vectors:
        # The embedders' own embed_query is embed_documents([text])[0]; going through the document
        # memory lets a query reuse the vector of the same text embedded as a document.
        vector: Vectors = self.embed_documents([text])[0]
        return vector
