"""The knowledge base the chain asks: hybrid retrieval over the documentation, document-level sources.

Three document rankings are fused with reciprocal-rank fusion (equal weights, k = 60):

- BM25 over chunks (title, section path and full text), each document ranked by its best chunk;
- dense (MiniLM) over chunks (title and section path first, then the start of the text), the same way;
- dense over documents (the mean of a document's chunk vectors): what the page as a whole is about.

Titles and section paths lead every chunk's BM25 text and embedded text, so a question naming a page's
topic meets it in both rankings (title/section boosting). BM25 alone misses paraphrases; dense alone misses
rare exact terms (API names, error codes) and ranks generic pages high; ``benchmarks/retrieval.py`` measures
each mode on the team's dev set. Separate title rankings were tried and lowered recall there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import structlog
from pydantic import BaseModel, ConfigDict, Field

from chatbot.config import Settings
from chatbot.errors import IndexNotBuiltError, InvalidMessageError, StaleIndexError
from chatbot.file_lock import exclusive_lock
from chatbot.models import Source
from chatbot.rag.embedder import Embedder
from chatbot.rag.fusion import first_occurrences, ranked, reciprocal_rank_fusion
from chatbot.rag.index_build import BuildReport, build_index, expectation
from chatbot.rag.index_files import IndexParts, read_index
from chatbot.rag.manifest import IndexManifest, read_manifest, staleness_reasons

log = structlog.get_logger(__name__)


class RetrievalMode(StrEnum):
    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


SNIPPET_CHARS = 240
CHUNKS_PER_SOURCE = 3  # the prompt's context budget holds a few chunks; more would only be cut


@dataclass(frozen=True)
class FusionSettings:
    """How deep each ranking looks and the fusion's damping constant (60, as in Cormack et al.)."""

    candidates: int = 100
    rrf_k: float = 60.0


class RetrievedChunk(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc: str
    title: str
    section: str
    text: str
    score: float


class RetrievalResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    chunks: list[RetrievedChunk] = Field(description="Best chunks for the prompt context, best first.")
    sources: list[Source] = Field(description="Distinct documents, best first, each with a short snippet.")


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return f"{cut}…"


class KnowledgeBase:
    """Searchable index of one corpus. ``search`` only reads shared state: safe from many threads at once."""

    def __init__(
        self,
        parts: IndexParts,
        manifest: IndexManifest,
        embedder: Embedder,
        fusion: FusionSettings | None = None,
    ) -> None:
        self._parts = parts
        self._embedder = embedder
        self._fusion = fusion or FusionSettings()
        self.manifest = manifest
        self._first_chunk: dict[str, int] = {}
        for position, chunk in enumerate(parts.chunks):
            self._first_chunk.setdefault(chunk.doc, position)

    def search(self, query: str, k: int, *, mode: RetrievalMode = RetrievalMode.HYBRID) -> RetrievalResult:
        """The ``k`` best documents for ``query`` (fewer only if the corpus has fewer), their best chunks."""
        query = query.strip()
        if not query:
            raise InvalidMessageError("cannot search for an empty question")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        fusion = self._fusion
        parts = self._parts
        chunk_rankings: list[list[int]] = []
        doc_rankings: list[list[str]] = []
        if mode in (RetrievalMode.HYBRID, RetrievalMode.LEXICAL):
            chunk_rankings.append(
                [position for position, _ in parts.chunk_terms.search(query, fusion.candidates)]
            )
        if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE):
            query_vector = self._embedder.embed_query(query)
            hits = parts.chunk_vectors.search(query_vector, fusion.candidates)
            chunk_rankings.append([position for position, _ in hits])
        for ranking in chunk_rankings:
            doc_rankings.append(first_occurrences(parts.chunks[position].doc for position in ranking))
        if mode == RetrievalMode.HYBRID:
            hits = parts.document_vectors.search(query_vector, fusion.candidates)
            doc_rankings.append([parts.documents[position].doc for position, _ in hits])

        doc_scores = reciprocal_rank_fusion(doc_rankings, k=fusion.rrf_k)
        chunk_scores = reciprocal_rank_fusion(chunk_rankings, k=fusion.rrf_k)
        return self._result(ranked(doc_scores)[:k], doc_scores, chunk_scores)

    def _result(
        self, top_docs: list[str], doc_scores: dict[str, float], chunk_scores: dict[int, float]
    ) -> RetrievalResult:
        chunks_by_doc: dict[str, list[int]] = {doc: [] for doc in top_docs}
        for position in ranked(chunk_scores):
            doc = self._parts.chunks[position].doc
            if doc in chunks_by_doc and len(chunks_by_doc[doc]) < CHUNKS_PER_SOURCE:
                chunks_by_doc[doc].append(position)
        # A document ranked by its document vector alone may have no ranked chunk: its first chunk stands in.
        for doc, positions in chunks_by_doc.items():
            if not positions:
                positions.append(self._first_chunk[doc])
        # The best chunk of every source first (in source order), then the others by score.
        leaders = [positions[0] for positions in chunks_by_doc.values()]
        followers = sorted(
            (position for positions in chunks_by_doc.values() for position in positions[1:]),
            key=lambda position: -chunk_scores[position],
        )
        chunks = []
        for position in leaders + followers:
            chunk = self._parts.chunks[position]
            chunks.append(
                RetrievedChunk(
                    doc=chunk.doc,
                    title=chunk.title,
                    section=chunk.section,
                    text=chunk.text,
                    score=round(chunk_scores.get(position, 0.0), 6),
                )
            )
        sources = []
        for doc, positions in chunks_by_doc.items():
            best = self._parts.chunks[positions[0]]
            sources.append(
                Source(
                    doc=doc,
                    title=best.title,
                    section=best.section,
                    score=round(doc_scores[doc], 6),
                    snippet=_snippet(best.text),
                )
            )
        return RetrievalResult(chunks=chunks, sources=sources)


def load_knowledge_base(settings: Settings, embedder: Embedder) -> KnowledgeBase:
    """The index of the configured corpus; never re-embeds anything.

    Raises :class:`IndexNotBuiltError` when there is none and :class:`StaleIndexError` when it was built from
    another corpus, embedding model or chunking parameters (the message says which).
    """
    index_dir = settings.index_dir
    try:
        manifest = read_manifest(index_dir)
    except ValueError as error:
        raise StaleIndexError(str(error)) from error
    if manifest is None:
        raise IndexNotBuiltError(f"no index in {index_dir}; run `chatbot index build`")
    reasons = staleness_reasons(manifest, expectation(settings, embedder))
    if reasons:
        raise StaleIndexError(f"index in {index_dir} is stale: " + "; ".join(reasons))
    parts = read_index(index_dir)
    log.info("index.loaded", index_dir=str(index_dir), documents=manifest.documents, chunks=manifest.chunks)
    return KnowledgeBase(parts, manifest, embedder)


def build_knowledge_base(settings: Settings, embedder: Embedder, *, progress: bool = False) -> BuildReport:
    """Build (or rebuild) the index of the configured corpus, re-embedding only chunks the cache lacks."""
    with exclusive_lock(settings.data_dir / ".index.lock"):
        return build_index(settings, embedder, progress=progress)


def ensure_knowledge_base(settings: Settings, embedder: Embedder, *, progress: bool = False) -> KnowledgeBase:
    """Load the index, building it first when it is missing or stale (logged, with the reasons)."""
    try:
        return load_knowledge_base(settings, embedder)
    except (IndexNotBuiltError, StaleIndexError) as first_problem:
        with exclusive_lock(settings.data_dir / ".index.lock"):
            try:  # another process may have built it while we waited for the lock
                return load_knowledge_base(settings, embedder)
            except (IndexNotBuiltError, StaleIndexError) as problem:
                stale = isinstance(problem, StaleIndexError)
                log.warning("index.stale" if stale else "index.missing", reason=str(first_problem))
                build_index(settings, embedder, progress=progress, reason=str(problem))
        return load_knowledge_base(settings, embedder)
