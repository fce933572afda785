from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from chatbot.rag.chunking import ChunkingParams, chunk_document, split_section
from chatbot.rag.documents import SourceDocument, read_document
from tests.rag.conftest import FIXTURE_CORPUS

PARAMS = ChunkingParams(max_chars=1200, overlap_chars=150)


def _markdown_document(markdown: str, doc: str = "guide.md") -> SourceDocument:
    path = Path(doc)
    return SourceDocument(doc=path.name, title="Guide", format="markdown", markdown=markdown, sha256="0")


def test_chunks_keep_document_title_and_section_path() -> None:
    document = read_document("whatis.md", FIXTURE_CORPUS / "whatis.md")
    chunks = chunk_document(document, PARAMS)
    assert {chunk.title for chunk in chunks} == {"What Is Amazon SageMaker?"}
    assert all(chunk.doc == "whatis.md" for chunk in chunks)
    intro = chunks[0]
    assert intro.section == ""
    assert intro.text.startswith("Amazon SageMaker is a fully managed machine learning service.")
    pricing = [chunk for chunk in chunks if chunk.section == "Amazon SageMaker Pricing"]
    assert len(pricing) == 1
    assert "no minimum fees" in pricing[0].text


def test_nested_headings_form_a_path_and_code_comments_are_not_headings() -> None:
    markdown = (
        "# Guide\n\nIntro.\n\n## Setup\n\nSetup text.\n\n### Roles\n\nRole text.\n\n"
        "```\n# not a heading\nprint('x')\n```\n\n## Usage\n\nUsage text.\n"
    )
    chunks = chunk_document(_markdown_document(markdown), PARAMS)
    assert [(chunk.section, chunk.text.split("\n")[0]) for chunk in chunks] == [
        ("", "Intro."),
        ("Setup", "Setup text."),
        ("Setup > Roles", "Role text."),
        ("Usage", "Usage text."),
    ]
    assert "# not a heading" in chunks[2].text


def test_a_heading_without_text_of_its_own_makes_no_chunk() -> None:
    chunks = chunk_document(_markdown_document("# Guide\n\n## Empty\n\n### Child\n\nChild text.\n"), PARAMS)
    assert [chunk.section for chunk in chunks] == ["Empty > Child"]


def test_long_sections_are_split_within_the_limit_with_overlap() -> None:
    sentences = [f"Sentence number {i} says something about training jobs and endpoints." for i in range(120)]
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    body = "\n\n".join(paragraphs)
    params = ChunkingParams(max_chars=600, overlap_chars=120)
    pieces = split_section(body, params)
    assert len(pieces) > 5
    assert all(len(piece) <= params.max_chars for piece in pieces)
    for previous, piece in itertools.pairwise(pieces):
        overlap = piece.split("\n\n")[0]
        assert previous.endswith(overlap), "each piece opens with the end of the one before"
        assert 0 < len(overlap) <= params.overlap_chars
    for sentence in sentences:
        assert any(sentence in piece for piece in pieces), "no text is lost"


def test_a_single_huge_paragraph_is_cut_at_sentences_then_words() -> None:
    body = " ".join(f"word{i}" for i in range(2000))  # no sentence end at all
    params = ChunkingParams(max_chars=500, overlap_chars=50)
    pieces = split_section(body, params)
    assert all(len(piece) <= params.max_chars for piece in pieces)
    assert all(f"word{i}" in " ".join(pieces).split() for i in range(0, 2000, 97))


def test_text_documents_are_chunked_without_heading_parsing(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Release notes\n\n# this line is not a heading in a text file\n\nMore text.\n")
    document = read_document("notes.txt", path)
    chunks = chunk_document(document, PARAMS)
    assert document.title == "Release notes"
    assert [chunk.section for chunk in chunks] == [""]
    assert "# this line is not a heading" in chunks[0].text


@pytest.mark.parametrize("max_chars", [300, 800, 1200])
def test_every_fixture_chunk_respects_the_limit(max_chars: int) -> None:
    params = ChunkingParams(max_chars=max_chars, overlap_chars=60)
    for path in sorted(FIXTURE_CORPUS.glob("*.md")):
        for chunk in chunk_document(read_document(path.name, path), params):
            assert 0 < len(chunk.text) <= max_chars
            assert chunk.text.strip() == chunk.text
