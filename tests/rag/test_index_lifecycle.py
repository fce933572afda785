"""Building, persisting, staleness and the embedding cache, with a fast counting embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from chatbot.config import Settings, load_settings
from chatbot.errors import IndexNotBuiltError, KnowledgeBaseError, StaleIndexError
from chatbot.rag.chunking import Chunk, ChunkingParams, chunk_document
from chatbot.rag.documents import read_document
from chatbot.rag.index_build import embedding_cache, embedding_text
from chatbot.rag.knowledge_base import (
    RetrievalMode,
    build_knowledge_base,
    ensure_knowledge_base,
    load_knowledge_base,
)
from chatbot.rag.manifest import MANIFEST_FILE
from tests.rag.conftest import CountingHashEmbedder


def _chunk_texts(settings: Settings, doc: str) -> set[str]:
    document = read_document(doc, settings.corpus_dir / doc)
    params = ChunkingParams(max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars)
    return {
        embedding_text(chunk, settings.embedding_text_max_chars) for chunk in chunk_document(document, params)
    }


def _all_chunks(settings: Settings) -> list[Chunk]:
    params = ChunkingParams(max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars)
    return [
        chunk
        for path in sorted(settings.corpus_dir.glob("*.md"))
        for chunk in chunk_document(read_document(path.name, path), params)
    ]


def test_build_then_load_without_embedding_again(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    report = build_knowledge_base(kb_settings, hash_embedder)
    assert report.documents == 16
    assert report.chunks > 16
    assert report.embedded == len(set(hash_embedder.embedded)) > 0
    manifest = json.loads((kb_settings.index_dir / MANIFEST_FILE).read_text())
    assert manifest["embedding_model_id"] == hash_embedder.model_id
    assert manifest["chunking"]["max_chars"] == kb_settings.chunk_max_chars
    assert len(manifest["corpus_fingerprint"]) == 64

    hash_embedder.embedded.clear()
    kb = load_knowledge_base(kb_settings, hash_embedder)
    assert hash_embedder.embedded == []
    assert kb.manifest.chunks == report.chunks


def test_missing_index_is_reported(kb_settings: Settings, hash_embedder: CountingHashEmbedder) -> None:
    with pytest.raises(IndexNotBuiltError, match="chatbot index build"):
        load_knowledge_base(kb_settings, hash_embedder)


def test_editing_a_document_makes_the_index_stale(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    whatis = kb_settings.corpus_dir / "whatis.md"
    whatis.write_text(whatis.read_text() + "\nA new paragraph about pricing tiers.\n")
    with pytest.raises(StaleIndexError, match=r"corpus changed: 1 edited \(whatis\.md\)"):
        load_knowledge_base(kb_settings, hash_embedder)


def test_adding_and_removing_documents_makes_the_index_stale(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    (kb_settings.corpus_dir / "canvas.md").unlink()
    (kb_settings.corpus_dir / "new-page.md").write_text("# New page\n\nFresh content.\n")
    with pytest.raises(StaleIndexError) as problem:
        load_knowledge_base(kb_settings, hash_embedder)
    assert "1 added (new-page.md)" in str(problem.value)
    assert "1 removed (canvas.md)" in str(problem.value)


def test_another_embedding_model_is_a_mismatch(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    with pytest.raises(StaleIndexError, match="embedding model differs"):
        load_knowledge_base(kb_settings, CountingHashEmbedder(model_id="test/other-model"))


def test_other_chunking_parameters_are_a_mismatch(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    for change in ({"chunk_max_chars": 800}, {"chunk_overlap_chars": 40}):
        other = load_settings(data_dir=kb_settings.data_dir, corpus_dir=kb_settings.corpus_dir, **change)
        with pytest.raises(StaleIndexError, match="chunking parameters differ"):
            load_knowledge_base(other, hash_embedder)


def test_a_corrupt_index_is_stale_not_used(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    (kb_settings.index_dir / "chunks.faiss").write_bytes(b"garbage")
    with pytest.raises(StaleIndexError, match="incomplete or unreadable"):
        load_knowledge_base(kb_settings, hash_embedder)
    (kb_settings.index_dir / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(StaleIndexError, match="unreadable index manifest"):
        load_knowledge_base(kb_settings, hash_embedder)


def test_ensure_builds_a_missing_index_and_rebuilds_a_stale_one_saying_why(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    with capture_logs() as missing_logs:
        first = ensure_knowledge_base(kb_settings, hash_embedder)
    assert [entry["event"] for entry in missing_logs if entry["log_level"] == "warning"] == ["index.missing"]
    whatis = kb_settings.corpus_dir / "whatis.md"
    whatis.write_text(whatis.read_text().replace("fully managed", "completely managed"))
    with capture_logs() as stale_logs:
        rebuilt = ensure_knowledge_base(kb_settings, hash_embedder)
    assert rebuilt.manifest.corpus_fingerprint != first.manifest.corpus_fingerprint
    assert rebuilt.manifest.built_at > first.manifest.built_at
    (stale,) = [entry for entry in stale_logs if entry["event"] == "index.stale"]
    assert "1 edited (whatis.md)" in stale["reason"]
    with capture_logs() as current_logs:
        ensure_knowledge_base(kb_settings, hash_embedder)
    assert not [entry for entry in current_logs if entry["event"] in {"index.stale", "index.built"}]


def test_editing_one_document_re_embeds_only_its_changed_chunks(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    before = _chunk_texts(kb_settings, "whatis.md")
    whatis = kb_settings.corpus_dir / "whatis.md"
    whatis.write_text(whatis.read_text().replace("As with other AWS products", "Like other AWS products"))
    changed = _chunk_texts(kb_settings, "whatis.md") - before
    assert len(changed) == 1  # only the pricing section's chunk reads differently

    hash_embedder.embedded.clear()
    report = build_knowledge_base(kb_settings, hash_embedder)
    assert set(hash_embedder.embedded) == changed
    assert report.embedded == 1
    assert report.reused == report.chunks - 1
    # the old version of the edited chunk is forgotten: the cache holds one vector per distinct text
    assert embedding_cache(kb_settings).count(hash_embedder.model_id) == len(
        {embedding_text(chunk, kb_settings.embedding_text_max_chars) for chunk in _all_chunks(kb_settings)}
    )


def test_text_past_the_embedded_part_is_still_searchable(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    whatis = kb_settings.corpus_dir / "whatis.md"
    whatis.write_text(whatis.read_text().replace("no minimum fees", "no minimum fees nor zorblax surcharges"))
    hash_embedder.embedded.clear()
    kb = ensure_knowledge_base(kb_settings, hash_embedder)
    assert hash_embedder.embedded == []  # the edit lies past the embedded characters of its chunk
    result = kb.search("zorblax surcharges", 1, mode=RetrievalMode.LEXICAL)
    assert result.sources[0].doc == "whatis.md"
    assert "zorblax" in result.chunks[0].text


def test_embedded_text_is_title_section_and_the_start_of_the_chunk() -> None:
    chunk = Chunk(doc="a.md", title="Guide", section="Setup > Roles", text="Create a role for training jobs.")
    assert embedding_text(chunk, 0) == "Guide\nSetup > Roles\nCreate a role for training jobs."
    assert embedding_text(chunk, 13) == "Guide\nSetup > Roles\nCreate a role"
    assert embedding_text(chunk, 12) == "Guide\nSetup > Roles\nCreate a"  # never half a word
    intro = Chunk(doc="a.md", title="Guide", section="", text="Intro.")
    assert embedding_text(intro, 100) == "Guide\nIntro."


def test_another_embedded_text_length_is_a_mismatch(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    other = load_settings(
        data_dir=kb_settings.data_dir, corpus_dir=kb_settings.corpus_dir, embedding_text_max_chars=0
    )
    with pytest.raises(StaleIndexError, match="embedded text length differs"):
        load_knowledge_base(other, hash_embedder)


def test_rebuilding_an_unchanged_corpus_embeds_nothing(
    kb_settings: Settings, hash_embedder: CountingHashEmbedder
) -> None:
    build_knowledge_base(kb_settings, hash_embedder)
    hash_embedder.embedded.clear()
    report = build_knowledge_base(kb_settings, hash_embedder)
    assert hash_embedder.embedded == []
    assert report.embedded == 0


def test_identical_chunks_are_embedded_once(tmp_path: Path, hash_embedder: CountingHashEmbedder) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for name in ("a.md", "b.md"):
        (corpus / name).write_text("# Same page\n\nShared boilerplate text.\n")
    settings = load_settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    report = build_knowledge_base(settings, hash_embedder)
    assert report.chunks == 2
    assert report.embedded == 1
    assert len(hash_embedder.embedded) == 1


def test_html_text_and_markdown_documents_are_all_ingested(
    tmp_path: Path, hash_embedder: CountingHashEmbedder
) -> None:
    corpus = tmp_path / "own-docs"
    (corpus / "nested").mkdir(parents=True)
    (corpus / "guide.md").write_text("# Guide\n\n## Install\n\nRun the installer\\.\n")
    (corpus / "nested" / "faq.html").write_text(
        "<html><head><title>Billing FAQ</title></head><body><h1>Billing FAQ</h1>"
        "<h2>Refunds</h2><p>Refunds take five business days.</p></body></html>"
    )
    (corpus / "notes.txt").write_text("Maintenance window\n\nThe cluster restarts every Sunday at 02:00.\n")
    (corpus / "image.png").write_bytes(b"\x89PNG")
    (corpus / ".hidden.md").write_text("# Hidden\n\nNever indexed.\n")
    settings = load_settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    kb = ensure_knowledge_base(settings, hash_embedder)
    assert kb.manifest.documents == 3

    refunds = kb.search("how long do refunds take", 3).chunks[0]
    assert (refunds.doc, refunds.title, refunds.section) == ("nested/faq.html", "Billing FAQ", "Refunds")
    assert refunds.text == "Refunds take five business days."
    sunday = kb.search("when does the cluster restart", 1).sources[0]
    assert (sunday.doc, sunday.title) == ("notes.txt", "Maintenance window")
    install = kb.search("installer", 1).chunks[0]
    assert (install.doc, install.section, install.text) == ("guide.md", "Install", "Run the installer.")


def test_an_empty_or_missing_corpus_is_a_clear_error(
    tmp_path: Path, hash_embedder: CountingHashEmbedder
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(KnowledgeBaseError, match="holds no documents"):
        build_knowledge_base(load_settings(data_dir=tmp_path / "d1", corpus_dir=empty), hash_embedder)
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        build_knowledge_base(
            load_settings(data_dir=tmp_path / "d2", corpus_dir=tmp_path / "nope"), hash_embedder
        )
