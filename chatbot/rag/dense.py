"""Exact inner-product search (FAISS ``IndexFlatIP``) over L2-normalised vectors: cosine similarity."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from chatbot.rag.embedder import Vectors


class DenseIndex:
    """``search`` gives ``(position, cosine)`` of the nearest vectors, best first; safe from many threads."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: Vectors) -> DenseIndex:
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(matrix.shape[1])
        index.add(matrix)
        return cls(index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))

    def search(self, query: Vectors, limit: int) -> list[tuple[int, float]]:
        limit = min(limit, len(self))
        if limit == 0:
            return []
        scores, positions = self._index.search(
            np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), limit
        )
        return [(int(p), float(s)) for p, s in zip(positions[0], scores[0], strict=True) if p >= 0]
