"""The files of a built index and how they are written and read.

    manifest.json      what the index was built from (written last: its presence marks a complete index)
    chunks.json        every chunk: document, title, section path, text
    documents.json     every document with at least one chunk: name and title
    chunks.faiss       one vector per chunk (title, section path and the start of its text)
    documents.faiss    one vector per document: the normalised mean of its chunks' vectors
    chunks.bm25/       BM25 over each chunk's title, section path and full text

A build writes a staging folder next to the index folder and swaps it in, so readers never see half an index.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from chatbot.errors import StaleIndexError
from chatbot.rag.chunking import Chunk
from chatbot.rag.dense import DenseIndex
from chatbot.rag.lexical import LexicalIndex
from chatbot.rag.manifest import IndexManifest, write_manifest


class DocumentEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    doc: str
    title: str


@dataclass(frozen=True)
class IndexParts:
    chunks: list[Chunk]
    documents: list[DocumentEntry]
    chunk_vectors: DenseIndex
    document_vectors: DenseIndex
    chunk_terms: LexicalIndex


def write_index(index_dir: Path, parts: IndexParts, manifest: IndexManifest) -> None:
    """Write ``parts`` to a staging folder, then replace ``index_dir`` with it."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = index_dir.with_name(f".{index_dir.name}-staging-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        chunks = [chunk.model_dump() for chunk in parts.chunks]
        (staging / "chunks.json").write_text(json.dumps(chunks, ensure_ascii=False), encoding="utf-8")
        documents = [document.model_dump() for document in parts.documents]
        (staging / "documents.json").write_text(json.dumps(documents, ensure_ascii=False), encoding="utf-8")
        parts.chunk_vectors.save(staging / "chunks.faiss")
        parts.document_vectors.save(staging / "documents.faiss")
        parts.chunk_terms.save(staging / "chunks.bm25")
        write_manifest(staging, manifest)
        retired = index_dir.with_name(f".{index_dir.name}-retired-{uuid.uuid4().hex[:8]}")
        if index_dir.exists():
            index_dir.replace(retired)
        staging.replace(index_dir)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def read_index(index_dir: Path) -> IndexParts:
    try:
        chunks = [
            Chunk.model_construct(**row) for row in json.loads((index_dir / "chunks.json").read_bytes())
        ]
        documents = [
            DocumentEntry.model_construct(**row)
            for row in json.loads((index_dir / "documents.json").read_bytes())
        ]
        parts = IndexParts(
            chunks=chunks,
            documents=documents,
            chunk_vectors=DenseIndex.load(index_dir / "chunks.faiss"),
            document_vectors=DenseIndex.load(index_dir / "documents.faiss"),
            chunk_terms=LexicalIndex.load(index_dir / "chunks.bm25"),
        )
    except (OSError, ValueError, RuntimeError, TypeError, KeyError) as error:
        raise StaleIndexError(f"index in {index_dir} is incomplete or unreadable: {error}") from error
    chunk_rows = {len(chunks), len(parts.chunk_vectors), len(parts.chunk_terms)}
    if len(chunk_rows) != 1 or len(documents) != len(parts.document_vectors):
        raise StaleIndexError(f"index in {index_dir} is inconsistent: its parts differ in size")
    return parts
