"""Amazon Titan Text Embeddings v2 on Bedrock (aws backend), behind the ``Embedder`` protocol.

Titan v2 embeds one text per ``InvokeModel`` call, so a batch is sent as concurrent calls (boto3 clients
are thread-safe) and reassembled in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError

from chatbot import aws
from chatbot.config import Settings
from chatbot.errors import ModelBackendError
from chatbot.rag.embedder import Vectors

CONCURRENT_CALLS = 8
"""InvokeModel calls in flight per batch: well under Bedrock's default per-account request rate."""


class BedrockTitanEmbedder:
    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self._bedrock_model_id = settings.bedrock_embedding_model_id
        self._dimension = int(settings.bedrock_embedding_dimensions)
        self._client = client or aws.client(
            "bedrock-runtime", settings, endpoint_url=settings.bedrock_endpoint_url
        )

    @property
    def model_id(self) -> str:
        return f"{self._bedrock_model_id}/{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=min(CONCURRENT_CALLS, len(texts))) as pool:
            rows = list(pool.map(self._embed_one, texts))
        return _normalised(np.vstack(rows))

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = _normalised(self._embed_one(text)[np.newaxis, :])[0]
        return vector

    def _embed_one(self, text: str) -> Vectors:
        if not text.strip():
            raise ModelBackendError("Titan cannot embed an empty text")
        request = {"inputText": text, "dimensions": self._dimension, "normalize": True}
        try:
            response = self._client.invoke_model(
                modelId=self._bedrock_model_id,
                body=json.dumps(request),
                contentType="application/json",
                accept="application/json",
            )
            body = json.loads(response["body"].read())
        except (BotoCoreError, ClientError, ValueError) as error:
            raise ModelBackendError(f"Bedrock embedding call failed: {error}") from error
        vector = np.asarray(body.get("embedding", []), dtype=np.float32)
        if vector.shape != (self._dimension,):
            expected = (self._dimension,)
            raise ModelBackendError(f"{self._bedrock_model_id} returned shape {vector.shape}, not {expected}")
        return vector


def _normalised(vectors: Vectors) -> Vectors:
    # Titan normalises when asked; normalising again costs nothing and makes the protocol's promise ours.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
