"""Split a clean document into chunks along its headings, each knowing its document title and section path.

A section (a heading and the text up to the next heading) is the natural unit: it answers one question and
its heading path says what it is about. Sections longer than ``max_chars`` are split between paragraphs
(then lines, then sentences, then words), each piece starting with the last ``overlap_chars`` of the one
before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from chatbot.rag.cleaning import FENCE, HEADING
from chatbot.rag.documents import SourceDocument

SECTION_SEPARATOR = " > "
# Bump when the chunker's output changes for the same input: indexes built by an older chunker are then stale.
CHUNKER_VERSION = 2

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")


class ChunkingParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_chars: int = Field(ge=100, description="Largest chunk text, in characters.")
    overlap_chars: int = Field(ge=0, description="Text repeated from the previous piece of a split section.")
    chunker_version: int = CHUNKER_VERSION


class Chunk(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    doc: str
    title: str
    section: str = Field(description="Heading path below the title, ` > ` separated; empty for the intro.")
    text: str


def _sections(document: SourceDocument) -> Iterator[tuple[list[str], str]]:
    """``(heading path below the title, body)`` for each section, in document order."""
    if document.format == "text":
        yield [], document.markdown
        return
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    title_seen = False
    in_code = False
    for line in document.markdown.split("\n"):
        if FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else HEADING.match(line)
        if heading is None:
            body.append(line)
            continue
        yield [text for _, text in stack], "\n".join(body)
        body = []
        level, text = len(heading.group(1)), heading.group(2).strip()
        if not title_seen and level == 1 and text == document.title:
            title_seen = True  # the title heading opens the intro section; it is not part of any path
            stack = []
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
    yield [text for _, text in stack], "\n".join(body)


def _blocks(body: str) -> list[str]:
    """Paragraphs of a section body; a fenced code block stays one block even with blank lines inside."""
    blocks: list[str] = []
    current: list[str] = []
    in_code = False
    for line in body.split("\n"):
        if FENCE.match(line):
            in_code = not in_code
        if not line.strip() and not in_code:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _cut(text: str, max_chars: int) -> list[str]:
    """Pieces of at most ``max_chars``, cut at the coarsest boundary that works: lines, sentences, words."""
    if len(text) <= max_chars:
        return [text]
    for pattern, joiner in ((re.compile(r"\n"), "\n"), (_SENTENCE_END, " "), (re.compile(r"\s+"), " ")):
        parts = [part for part in pattern.split(text) if part]
        if len(parts) > 1 and all(len(part) <= max_chars for part in parts):
            return _pack(parts, max_chars, joiner)
        if len(parts) > 1:
            return [piece for part in _pack(parts, max_chars, joiner) for piece in _cut(part, max_chars)]
    return [text[start : start + max_chars] for start in range(0, len(text), max_chars)]


def _pack(parts: list[str], max_chars: int, joiner: str) -> list[str]:
    packed: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{joiner}{part}" if current else part
        if len(candidate) <= max_chars or not current:
            current = candidate
        else:
            packed.append(current)
            current = part
    if current:
        packed.append(current)
    return packed


def _tail(text: str, overlap_chars: int) -> str:
    """The end of ``text``, at most ``overlap_chars`` long, starting at a word boundary."""
    if overlap_chars == 0:
        return ""
    if len(text) <= overlap_chars:
        return text
    tail = text[-overlap_chars:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < len(tail) - 1 else tail


def split_section(body: str, params: ChunkingParams) -> list[str]:
    """Section text in pieces of at most ``max_chars``; each piece after the first opens with an overlap."""
    text = body.strip()
    if not text:
        return []
    if len(text) <= params.max_chars:
        return [text]
    room = params.max_chars - params.overlap_chars - 2  # the overlap is joined with a blank line
    units = [unit for block in _blocks(text) for unit in _cut(block, room)]
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}\n\n{unit}" if current else unit
        if len(candidate) <= params.max_chars:
            current = candidate
            continue
        pieces.append(current.strip())
        overlap = _tail(current, params.overlap_chars)
        current = f"{overlap}\n\n{unit}" if overlap else unit
    if current:
        pieces.append(current.strip())
    return pieces


def chunk_document(document: SourceDocument, params: ChunkingParams) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path, body in _sections(document):
        section = SECTION_SEPARATOR.join(path)
        for piece in split_section(body, params):
            chunks.append(Chunk(doc=document.doc, title=document.title, section=section, text=piece))
    return chunks
