"""Reading a corpus folder: which files count as documents, their content hashes, and their clean text."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict

from chatbot.errors import KnowledgeBaseError
from chatbot.rag.cleaning import HEADING, clean_markdown, html_to_markdown

log = structlog.get_logger(__name__)

DocumentFormat = Literal["markdown", "text", "html"]

FORMATS_BY_SUFFIX: dict[str, DocumentFormat] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
}
_LONGEST_TEXT_TITLE = 120


class SourceDocument(BaseModel):
    """One document, cleaned. ``doc`` is its path relative to the corpus folder (the file name when flat)."""

    model_config = ConfigDict(frozen=True)

    doc: str
    title: str
    format: DocumentFormat
    markdown: str
    sha256: str


def corpus_files(corpus_dir: Path) -> dict[str, Path]:
    """Documents of the corpus by name (path relative to ``corpus_dir``), sorted; hidden files skipped."""
    if not corpus_dir.is_dir():
        raise KnowledgeBaseError(f"corpus folder {corpus_dir} does not exist or is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(corpus_dir.rglob("*")):
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix.lower() in FORMATS_BY_SUFFIX and path.is_file():
            found[relative.as_posix()] = path
    if not found:
        suffixes = ", ".join(sorted(FORMATS_BY_SUFFIX))
        raise KnowledgeBaseError(f"corpus folder {corpus_dir} holds no documents ({suffixes})")
    return found


def content_hashes(files: dict[str, Path]) -> dict[str, str]:
    """SHA-256 of each file's bytes, by document name."""
    return {doc: hashlib.sha256(path.read_bytes()).hexdigest() for doc, path in files.items()}


def corpus_fingerprint(hashes: dict[str, str]) -> str:
    """One hash naming the whole corpus: every document's name and content."""
    digest = hashlib.sha256()
    for doc in sorted(hashes):
        digest.update(f"{doc}\0{hashes[doc]}\n".encode())
    return digest.hexdigest()


def _decode(doc: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("corpus.not_utf8", doc=doc, detail="undecodable bytes replaced")
        return raw.decode("utf-8", errors="replace")


def _fallback_title(doc: str) -> str:
    return Path(doc).stem.replace("-", " ").replace("_", " ").strip() or doc


def _markdown_title(markdown: str) -> str | None:
    first_heading: str | None = None
    in_code = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        heading = None if in_code else HEADING.match(line)
        if heading:
            if len(heading.group(1)) == 1:
                return heading.group(2).strip()
            first_heading = first_heading or heading.group(2).strip()
    return first_heading


def _text_title(text: str) -> str | None:
    for line in text.split("\n"):
        if line.strip():
            return line.strip() if len(line.strip()) <= _LONGEST_TEXT_TITLE else None
    return None


def read_document(doc: str, path: Path, sha256: str | None = None) -> SourceDocument:
    raw = path.read_bytes()
    text = _decode(doc, raw)
    document_format = FORMATS_BY_SUFFIX[path.suffix.lower()]
    if document_format == "markdown":
        markdown = clean_markdown(text)
        title = _markdown_title(markdown)
    elif document_format == "html":
        html_title, markdown = html_to_markdown(text)
        title = html_title or _markdown_title(markdown)
    else:
        markdown = text.replace("\r\n", "\n").strip() + "\n"
        title = _text_title(markdown)
    return SourceDocument(
        doc=doc,
        title=title or _fallback_title(doc),
        format=document_format,
        markdown=markdown,
        sha256=sha256 or hashlib.sha256(raw).hexdigest(),
    )
