"""The embedding seam: every embedding backend (local MiniLM, Bedrock Titan) implements this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """Names the model and everything that changes its vectors (used in index manifests and caches)."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """L2-normalised float32 vectors, one row per text, in order."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """One L2-normalised float32 vector (shape ``(dimension,)``)."""
        ...
