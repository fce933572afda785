"""The input guard: every customer message passes here before anything else reads it.

It rejects what cannot be a message (empty, too long, binary) with words a customer can act on, and
normalises the rest so that look-alike tricks do not hide words from the escalation signals:

* Unicode NFKC (fullwidth ``ｔａｌｋ`` becomes ``talk``, ligatures and compatibility forms unfold);
* control characters go, except newline and tab; invisible format characters go too (zero-width
  spaces and joiners, bidi overrides, Unicode "tag" characters used to smuggle hidden instructions);
* a word that mixes Latin letters with Cyrillic or Greek look-alikes (``humаn`` with a Cyrillic ``а``)
  is written in Latin letters; words wholly in another script are left alone;
* runs of more than :data:`MAX_INDENT` spaces and tabs become one space (shorter runs are kept: pasted
  code and logs keep their indentation), spaces at line ends go, more than two line breaks become two,
  and the ends are trimmed.
"""

from __future__ import annotations

import re
import unicodedata

from chatbot.errors import InvalidMessageError

BINARY_SHARE = 0.2
"""Share of unprintable characters above which a message is treated as binary junk, not text."""

_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_KEPT_CONTROLS = frozenset("\n\t")
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
        "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
        "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J",
        # Greek
        "α": "a", "ε": "e", "ι": "i", "κ": "k", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "ν": "v",
        "χ": "x", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    }
)  # fmt: skip
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"\w+")
MAX_INDENT = 8
"""Longest run of spaces and tabs kept as it is (indentation of pasted code and logs)."""

_LONG_SPACES = re.compile(rf"[^\S\n]{{{MAX_INDENT + 1},}}")
_TRAILING_SPACES = re.compile(r"[^\S\n]+\n")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _binary_reason(text: str) -> str | None:
    if "\x00" in text:
        return "it contains NUL bytes"
    unprintable = sum(
        1
        for character in text
        if character == "\ufffd"
        or (unicodedata.category(character) in _UNPRINTABLE_CATEGORIES and character not in "\n\t\r")
    )
    if unprintable > BINARY_SHARE * len(text):
        return f"{unprintable} of its {len(text)} characters are not printable"
    return None


def _printable(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        character
        for character in text
        if character in _KEPT_CONTROLS or not unicodedata.category(character).startswith("C")
    )


def _latin_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if word.isascii() or not _LATIN_LETTER.search(word):
        return word
    return word.translate(_LOOKALIKES)


def to_latin(text: str) -> str:
    """Every Cyrillic and Greek look-alike written as the Latin letter it imitates (for matching only)."""
    return text.translate(_LOOKALIKES)


def fold_lookalikes(text: str) -> str:
    """Write mixed-script words (Latin with Cyrillic/Greek look-alikes) in Latin letters only."""
    return _WORD.sub(_latin_word, text)


def _tidy_whitespace(text: str) -> str:
    text = _LONG_SPACES.sub(" ", text)
    text = _TRAILING_SPACES.sub("\n", text)
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def validate_message(text: str, max_chars: int) -> str:
    """The message as the chain will read it, or :class:`InvalidMessageError` saying what to fix."""
    # Length first, on the raw text: an oversized message is refused before any per-character work.
    if len(text) > max_chars:
        raise InvalidMessageError(
            f"Your message is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it or send it in several parts."
        )
    reason = _binary_reason(text)
    if reason is not None:
        raise InvalidMessageError(
            f"Your message looks like binary data rather than text ({reason}). Please send plain text."
        )
    normalised = _tidy_whitespace(fold_lookalikes(_printable(unicodedata.normalize("NFKC", text))))
    if not normalised:
        raise InvalidMessageError("Your message is empty. Please type your question.")
    if len(normalised) > max_chars:
        # NFKC can lengthen text (one ligature becomes several letters).
        raise InvalidMessageError(
            f"Your message is {len(normalised):,} characters long once normalised; the limit is "
            f"{max_chars:,}. Please shorten it or send it in several parts."
        )
    return normalised
