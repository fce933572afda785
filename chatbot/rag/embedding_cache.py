"""Vectors already computed, keyed by embedding model and the SHA-256 of the exact text embedded.

Editing one document changes only its chunks' texts, so a rebuild embeds only those; identical texts (shared
boilerplate) are embedded once. One SQLite file under ``data_dir``; safe across threads and processes. After
each build only that build's vectors are kept (per model), so the file stays the size of one corpus.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from chatbot.rag.embedder import Vectors

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, text_sha256)
)
"""


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.execute(_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self._path, timeout=60.0)) as connection, connection:
            yield connection

    def get_many(self, model_id: str, keys: Iterable[str], dimension: int) -> dict[str, Vectors]:
        """Cached vectors among ``keys``; a vector of the wrong size (corrupt row) counts as missing."""
        wanted = set(keys)
        found: dict[str, Vectors] = {}
        with self._connection() as connection:
            # One scan of this model's rows beats thousands of lookups; the cache holds one model's corpus.
            rows = connection.execute(
                "SELECT text_sha256, vector FROM embeddings WHERE model_id = ?", (model_id,)
            )
            for key, blob in rows:
                if key in wanted:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (dimension,):
                        found[key] = vector
        return found

    def put_many(self, model_id: str, items: Iterable[tuple[str, Vectors]]) -> None:
        rows = [(model_id, key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in items]
        with self._connection() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO embeddings (model_id, text_sha256, vector) VALUES (?, ?, ?)", rows
            )

    def retain(self, model_id: str, keys: Iterable[str]) -> int:
        """Forget this model's vectors other than ``keys`` (those of the latest build); how many went.

        Keeps the cache the size of one corpus: edited documents leave their old chunks' vectors behind.
        """
        with self._connection() as connection:
            connection.execute("CREATE TEMP TABLE live (text_sha256 TEXT PRIMARY KEY)")
            connection.executemany("INSERT OR IGNORE INTO live VALUES (?)", ((key,) for key in keys))
            removed = connection.execute(
                "DELETE FROM embeddings WHERE model_id = ? "
                "AND text_sha256 NOT IN (SELECT text_sha256 FROM live)",
                (model_id,),
            ).rowcount
            connection.execute("DROP TABLE live")
        return int(removed)

    def count(self, model_id: str) -> int:
        with self._connection() as connection:
            (total,) = connection.execute(
                "SELECT COUNT(*) FROM embeddings WHERE model_id = ?", (model_id,)
            ).fetchone()
        return int(total)
