"""Turn raw documents into clean Markdown the chunker can split: one function per source format.

The vendored AWS guide escapes almost every punctuation mark (``production\\-ready``, ``\\(optional\\)``),
carries ``<a name="..."></a>`` anchors on headings, "Topics" link lists and console tab separators. None of
that helps a reader or a retriever, so it goes; code blocks are kept verbatim (their backslashes are real).
"""

from __future__ import annotations

import html
import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")

_ANCHOR = re.compile(r"<a\s+name\s*=\s*\"[^\"]*\"\s*>\s*</a>", re.IGNORECASE)
_BRACKETED = r"\[((?:\\.|[^\]\\])*)\]"
_IMAGE = re.compile(r"!" + _BRACKETED + r"\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(_BRACKETED + r"\([^)\s]*(?:\s+\"[^\"]*\")?\)")
# CommonMark: a backslash before any ASCII punctuation character is an escape.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_TAB_SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_TAB_HEADING = re.compile(r"^\s*\[\s*(.*?)\s*\]\s*$")
_TOPICS_LABEL = re.compile(r"^\s*\*\*Topics\*\*\s*$")
_LIST_ITEM = re.compile(r"^\s*[+*-]\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _clean_prose_line(line: str) -> str:
    line = _ANCHOR.sub("", line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(r"\1", line)
    line = _ESCAPE.sub(r"\1", line)
    line = _BOLD.sub(r"\1", line)
    return html.unescape(line).rstrip()


def _clean_heading(level: str, text: str) -> str:
    text = _clean_prose_line(text).strip()
    tab = _TAB_HEADING.match(text)  # console tabs are written "#### [ Console ]"
    if tab:
        text = tab.group(1)
    return f"{level} {text}" if text else ""


def clean_markdown(markdown: str) -> str:
    """Markdown with escapes, anchors, images, link targets, tab separators and Topics lists removed."""
    out: list[str] = []
    in_code = False
    in_topics = False
    for raw_line in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if FENCE.match(raw_line):
            in_code = not in_code
            out.append(raw_line.rstrip())
            continue
        if in_code:
            out.append(raw_line.rstrip())
            continue
        if in_topics:
            if _LIST_ITEM.match(raw_line) or not raw_line.strip():
                continue
            in_topics = False
        if _TOPICS_LABEL.match(raw_line):
            in_topics = True
            continue
        if _TAB_SEPARATOR.match(raw_line):
            continue
        heading = HEADING.match(raw_line)
        if heading:
            cleaned = _clean_heading(heading.group(1), heading.group(2))
            if cleaned:
                out.extend(["", cleaned, ""])
            continue
        out.append(_clean_prose_line(raw_line))
    return _BLANK_RUNS.sub("\n\n", "\n".join(out)).strip() + "\n"


_BLOCK_TAGS = [
    *("p", "div", "section", "article", "main", "aside", "blockquote", "figure", "figcaption"),
    *("ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "br", "hr"),
    *("header", "footer", "form"),
]
_DROPPED_TAGS = ("script", "style", "noscript", "nav", "template", "svg", "head")


def html_to_markdown(document: str) -> tuple[str, str]:
    """``(title, markdown)`` of an HTML page: headings become ``#`` headings, ``pre`` becomes code blocks."""
    soup = BeautifulSoup(document, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if isinstance(title_tag, Tag) else ""
    for dropped in soup.find_all(_DROPPED_TAGS):
        dropped.decompose()
    for heading in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        level = int(heading.name[1])
        text = " ".join(heading.get_text(" ", strip=True).split())
        if not title and level == 1:
            title = text
        heading.replace_with(NavigableString(f"\n\n{'#' * level} {text}\n\n"))
    for pre in soup.find_all("pre"):
        pre.replace_with(NavigableString(f"\n\n```\n{pre.get_text().strip(chr(10))}\n```\n\n"))
    for item in soup.find_all("li"):
        item.insert(0, NavigableString("- "))
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(NavigableString(" | "))
    for block in soup.find_all(_BLOCK_TAGS):
        block.insert_before(NavigableString("\n"))
        block.insert_after(NavigableString("\n"))
    lines: list[str] = []
    in_code = False
    for line in soup.get_text().split("\n"):
        if FENCE.match(line):
            in_code = not in_code
            lines.append(line.strip())
        elif in_code:
            lines.append(line.rstrip())
        else:
            lines.append(" ".join(line.split()))
    return title, _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip() + "\n"
