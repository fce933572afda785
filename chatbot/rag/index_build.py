"""Building the index: read and clean the corpus, chunk it, embed what the cache lacks, index, persist."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import structlog
from pydantic import BaseModel, ConfigDict
from tqdm import tqdm

from chatbot.config import Settings
from chatbot.errors import KnowledgeBaseError, ModelBackendError
from chatbot.rag.chunking import Chunk, ChunkingParams, chunk_document
from chatbot.rag.dense import DenseIndex
from chatbot.rag.documents import (
    SourceDocument,
    content_hashes,
    corpus_files,
    corpus_fingerprint,
    read_document,
)
from chatbot.rag.embedder import Embedder, Vectors
from chatbot.rag.embedding_cache import EmbeddingCache, text_key
from chatbot.rag.index_files import DocumentEntry, IndexParts, write_index
from chatbot.rag.lexical import LexicalIndex
from chatbot.rag.manifest import INDEX_FORMAT_VERSION, IndexExpectation, IndexManifest

log = structlog.get_logger(__name__)

EMBED_BATCH = 1024  # texts per embedder call: the progress bar's step and the cache's write unit


class BuildReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    index_dir: Path
    reason: str
    documents: int
    chunks: int
    embedded: int
    reused: int
    embedding_model_id: str
    seconds: float


def chunking_params(settings: Settings) -> ChunkingParams:
    return ChunkingParams(max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars)


def embedding_cache(settings: Settings) -> EmbeddingCache:
    return EmbeddingCache(settings.data_dir / "cache" / "embeddings.sqlite3")


def expectation(settings: Settings, embedder: Embedder) -> IndexExpectation:
    hashes = content_hashes(corpus_files(settings.corpus_dir))
    return IndexExpectation(
        corpus_fingerprint=corpus_fingerprint(hashes),
        document_hashes=hashes,
        embedding_model_id=embedder.model_id,
        embedding_dimension=embedder.dimension,
        embedding_text_max_chars=settings.embedding_text_max_chars,
        chunking=chunking_params(settings),
    )


def _heading(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.section}" if chunk.section else chunk.title


def embedding_text(chunk: Chunk, max_chars: int = 0) -> str:
    """What a chunk's vector encodes: its title and section path, then its text cut after ``max_chars`` at a
    word boundary (0 keeps all). Where a chunk sits says most of what it is about; BM25 covers the rest.
    """
    text = chunk.text
    if 0 < max_chars < len(text):
        cut = text[:max_chars]
        if not text[max_chars].isspace():  # the cut falls inside a word: leave that word out
            boundary = max(cut.rfind(" "), cut.rfind("\n"))
            cut = cut[:boundary] if boundary > 0 else cut
        text = cut.rstrip()
    return f"{_heading(chunk)}\n{text}"


def lexical_text(chunk: Chunk) -> str:
    return f"{_heading(chunk)}\n{chunk.text}"


def document_vectors(
    chunks: Sequence[Chunk], chunk_vectors: Vectors, documents: Sequence[DocumentEntry]
) -> Vectors:
    """Each document's direction in embedding space: the normalised mean of its chunks' vectors."""
    row_of = {entry.doc: row for row, entry in enumerate(documents)}
    sums = np.zeros((len(documents), chunk_vectors.shape[1]), dtype=np.float32)
    for chunk, vector in zip(chunks, chunk_vectors, strict=True):
        sums[row_of[chunk.doc]] += vector
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids: Vectors = sums / np.maximum(norms, 1e-12)
    return centroids


@dataclass(frozen=True)
class _Embedded:
    vectors: Vectors
    embedded: int  # distinct texts sent to the embedder
    reused: int  # texts whose vector came from the cache


def _embed_with_cache(
    embedder: Embedder, cache: EmbeddingCache, texts: Sequence[str], *, progress: bool
) -> _Embedded:
    """One vector per text; only texts the cache lacks are embedded (each distinct text once)."""
    keys = [text_key(text) for text in texts]
    unique = dict(zip(keys, texts, strict=True))
    found = cache.get_many(embedder.model_id, unique, embedder.dimension)
    missing = sorted((key for key in unique if key not in found), key=lambda key: len(unique[key]))
    reused = sum(1 for key in keys if key in found)
    with tqdm(
        total=len(missing), desc="embedding chunks", unit="text", disable=not (progress and missing)
    ) as bar:
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors = np.asarray(embedder.embed_documents([unique[key] for key in batch]), dtype=np.float32)
            if vectors.shape != (len(batch), embedder.dimension) or not np.isfinite(vectors).all():
                raise ModelBackendError(
                    f"{embedder.model_id} returned vectors of shape {vectors.shape} for {len(batch)} texts"
                )
            cache.put_many(embedder.model_id, zip(batch, vectors, strict=True))
            found.update(zip(batch, vectors, strict=True))
            bar.update(len(batch))
    matrix = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = found[key]
    forgotten = cache.retain(embedder.model_id, unique)
    if forgotten:
        log.info("embedding_cache.pruned", model_id=embedder.model_id, vectors=forgotten)
    return _Embedded(vectors=matrix, embedded=len(missing), reused=reused)


def _read_corpus(corpus_dir: Path, hashes: dict[str, str]) -> list[SourceDocument]:
    files = corpus_files(corpus_dir)
    return [read_document(doc, path, hashes.get(doc)) for doc, path in files.items()]


def build_index(
    settings: Settings, embedder: Embedder, *, progress: bool = False, reason: str = "requested"
) -> BuildReport:
    """Build the index of ``settings.corpus_dir`` into ``settings.index_dir`` (callers hold the lock)."""
    started = time.perf_counter()
    expected = expectation(settings, embedder)
    documents = _read_corpus(settings.corpus_dir, expected.document_hashes)
    chunks = [chunk for document in documents for chunk in chunk_document(document, expected.chunking)]
    if not chunks:
        raise KnowledgeBaseError(f"the documents in {settings.corpus_dir} hold no text to index")
    chunked_docs = set(chunk.doc for chunk in chunks)
    entries = [DocumentEntry(doc=d.doc, title=d.title) for d in documents if d.doc in chunked_docs]
    log.info(
        "index.chunked",
        documents=len(documents),
        chunks=len(chunks),
        seconds=round(time.perf_counter() - started, 2),
    )

    texts = [embedding_text(chunk, expected.embedding_text_max_chars) for chunk in chunks]
    embedded = _embed_with_cache(embedder, embedding_cache(settings), texts, progress=progress)
    parts = IndexParts(
        chunks=chunks,
        documents=entries,
        chunk_vectors=DenseIndex.build(embedded.vectors),
        document_vectors=DenseIndex.build(document_vectors(chunks, embedded.vectors, entries)),
        chunk_terms=LexicalIndex.build([lexical_text(c) for c in chunks]),
    )
    seconds = time.perf_counter() - started
    manifest = IndexManifest(
        **expected.model_dump(),  # what was built for: corpus, embedder, chunking
        format_version=INDEX_FORMAT_VERSION,
        corpus_dir=str(settings.corpus_dir),
        documents=len(entries),
        chunks=len(chunks),
        built_at=datetime.now(UTC),
        build_seconds=round(seconds, 2),
    )
    write_index(settings.index_dir, parts, manifest)
    report = BuildReport(
        index_dir=settings.index_dir,
        reason=reason,
        documents=len(entries),
        chunks=len(chunks),
        embedded=embedded.embedded,
        reused=embedded.reused,
        embedding_model_id=embedder.model_id,
        seconds=round(time.perf_counter() - started, 2),
    )
    log.info("index.built", **report.model_dump(mode="json"))
    return report
