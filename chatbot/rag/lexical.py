"""BM25 (``bm25s``) with English stop words and Snowball stemming: exact terms, API names, error codes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

# bm25s sets its own logger to DEBUG on import, which prints a line on every index build
logging.getLogger("bm25s").setLevel(logging.WARNING)

_local = threading.local()
STOPWORDS = "en"


def _stemmer() -> Any:
    """One stemmer per thread: PyStemmer objects are not safe to share between threads."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = Stemmer.Stemmer("english")
        _local.stemmer = stemmer
    return stemmer


def _tokens(texts: Sequence[str]) -> list[list[str]]:
    tokenized: list[list[str]] = bm25s.tokenize(
        list(texts), stopwords=STOPWORDS, stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return tokenized


class LexicalIndex:
    """BM25 over a list of texts; ``search`` returns ``(position, score)`` of matching texts, best first."""

    def __init__(self, retriever: bm25s.BM25) -> None:
        self._retriever = retriever
        self._size = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        tokenized = bm25s.tokenize(
            list(texts), stopwords=STOPWORDS, stemmer=_stemmer(), return_ids=True, show_progress=False
        )
        retriever.index(tokenized, show_progress=False)
        return cls(retriever)

    def __len__(self) -> int:
        return self._size

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(folder), mmap=False))

    def scores(self, query: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        """BM25 score of every text for ``query`` (all zeros when no query term is in the vocabulary)."""
        known = self._retriever.get_tokens_ids(_tokens([query])[0])
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores_from_ids(known), dtype=np.float32)

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        limit = min(limit, self._size)
        top = np.argpartition(-scores, limit - 1)[:limit] if limit < self._size else np.arange(self._size)
        ranked = top[np.argsort(-scores[top], kind="stable")]
        return [(int(position), float(scores[position])) for position in ranked if scores[position] > 0]
