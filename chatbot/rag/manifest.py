"""The index manifest: what an index on disk was built from, so a stale or mismatched index is never used."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatbot.rag.chunking import ChunkingParams

# Bump when the files of an index or the texts fed to BM25 and the embedder change meaning.
INDEX_FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"


class IndexManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format_version: int
    corpus_dir: str = Field(
        description="Where the corpus was read from (informative; content is what counts)."
    )
    corpus_fingerprint: str = Field(description="SHA-256 over every document's name and content hash.")
    document_hashes: dict[str, str] = Field(description="SHA-256 of each document's bytes, by name.")
    embedding_model_id: str
    embedding_dimension: int
    embedding_text_max_chars: int = Field(description="Characters of chunk text embedded (0: all).")
    chunking: ChunkingParams
    documents: int
    chunks: int
    built_at: datetime
    build_seconds: float


class IndexExpectation(BaseModel):
    """What the configured corpus, embedder and chunking parameters would build now."""

    model_config = ConfigDict(frozen=True)

    corpus_fingerprint: str
    document_hashes: dict[str, str]
    embedding_model_id: str
    embedding_dimension: int
    embedding_text_max_chars: int
    chunking: ChunkingParams


def read_manifest(index_dir: Path) -> IndexManifest | None:
    """The manifest of ``index_dir``; ``None`` when there is none. Raises ``ValueError`` when unreadable."""
    path = index_dir / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        return IndexManifest.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise ValueError(f"unreadable index manifest {path}: {error}") from error


def write_manifest(index_dir: Path, manifest: IndexManifest) -> None:
    (index_dir / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _corpus_changes(built: dict[str, str], current: dict[str, str]) -> str:
    added = sorted(set(current) - set(built))
    removed = sorted(set(built) - set(current))
    edited = sorted(doc for doc in set(built) & set(current) if built[doc] != current[doc])
    parts = []
    for label, docs in (("edited", edited), ("added", added), ("removed", removed)):
        if docs:
            shown = ", ".join(docs[:3]) + (f" and {len(docs) - 3} more" if len(docs) > 3 else "")
            parts.append(f"{len(docs)} {label} ({shown})")
    return "corpus changed: " + "; ".join(parts)


def staleness_reasons(manifest: IndexManifest, expected: IndexExpectation) -> list[str]:
    """Why the index cannot serve the expected configuration; empty when it is current."""
    reasons: list[str] = []
    if manifest.format_version != INDEX_FORMAT_VERSION:
        reasons.append(f"index format {manifest.format_version}, this version reads {INDEX_FORMAT_VERSION}")
    if manifest.corpus_fingerprint != expected.corpus_fingerprint:
        reasons.append(_corpus_changes(manifest.document_hashes, expected.document_hashes))
    if manifest.embedding_model_id != expected.embedding_model_id:
        reasons.append(
            f"embedding model differs: index has {manifest.embedding_model_id!r}, "
            f"configured {expected.embedding_model_id!r}"
        )
    elif manifest.embedding_dimension != expected.embedding_dimension:
        reasons.append(
            f"embedding dimension differs: index has {manifest.embedding_dimension}, "
            f"configured {expected.embedding_dimension}"
        )
    if manifest.embedding_text_max_chars != expected.embedding_text_max_chars:
        reasons.append(
            f"embedded text length differs: index embeds {manifest.embedding_text_max_chars} characters "
            f"per chunk, configured {expected.embedding_text_max_chars}"
        )
    if manifest.chunking != expected.chunking:
        reasons.append(
            f"chunking parameters differ: index has {manifest.chunking.model_dump()}, "
            f"configured {expected.chunking.model_dump()}"
        )
    return reasons
