"""PII redaction: found spans are replaced by typed placeholders and counted by type.

Types and what counts as one (built-in detectors, highest priority first; configured patterns come before
all of them, and where two findings overlap the higher-priority one wins):

``[AWS_SECRET]``
    A 40-character secret access key (``A-Za-z0-9/+``), also when split by whitespace with at most one line
    break (up to 3 pieces). With ``secret`` in the 80 characters before it, or an access key id within 200
    characters, any such token counts. Without that context the token must look random: upper- and
    lower-case letters and a digit, Shannon entropy >= 4.0 bits/character, and at most 10 characters in
    runs of 4+ lower-case letters (so ``ThisIsACamelCaseIdentifierOfFortyChars1`` and S3 paths are kept).
    On random keys this keeps about 97% of bare ones; context catches the rest.
``[AWS_ACCESS_KEY]``
    ``AKIA``/``ASIA``/``ABIA``/``ACCA`` + 16 upper-case letters or digits, also split by whitespace (up to 5
    pieces; a split one needs a digit after the prefix, so ``ASIA PACIFIC REGION ONE`` is text).
``[EMAIL]``
    ``local@domain.tld``; plus signs, dots and subdomains included.
``[CARD]``
    13-19 digits, written solid or in groups of 4 (or Amex's 4-6-5) split by one kind of separator (space
    or dash), starting with 2-6 (card networks' ranges) and passing the Luhn check. Order numbers,
    timestamps (epoch milliseconds start with 1), account ids (12 digits) and 16-digit numbers failing Luhn
    are kept. A number that passes all of this is redacted even if it is an order number: we err on the
    side of privacy.
``[IP]``
    IPv4 dotted quads that :mod:`ipaddress` accepts, and IPv6 addresses (compressed, full, with an IPv4
    tail). Versions: ``1.2.3`` is never an address; a dotted quad is a version, not an address, when it is
    part of a longer dotted run (``1.2.3.4.5``), glued to a word (``v1.2.3.4``, ``ml.1.2.3.4``), follows a
    version word or operator (``version``, ``release``, ``build``, ``sdk``, ``==``, ``>=``, ``@``...), or
    carries a pre-release suffix (``1.2.3.4-beta``). A bare ``1.2.3.4`` is redacted as an address.
``[PHONE]``
    ``+`` and a country code with 8-15 digits in all (``+1 (555) 010-9999``, ``+44 20 7946 0958``);
    North-American numbers with separators (``555.010.9999``, ``(555) 010-9999``, ``1-555-010-9999``);
    and 7-15 bare digits right after a phone word (``call me at 5550109999``). Bare digit runs without that
    context are kept (they are usually ids or counts).
``[<TYPE>]``
    Each configured pattern (setting ``redaction_patterns``), e.g. ``{"ACCOUNT_ID": "\\b\\d{12}\\b"}`` for
    ARNs' account ids, which the built-ins keep on purpose, like instance types (``ml.m5.xlarge``).

Placeholders already in the text (``[EMAIL]``...) are left alone, so redacting twice changes nothing.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from chatbot.config import ENV_PREFIX, REDACTION_TYPE_PATTERN, Settings, compiled_redaction_pattern
from chatbot.errors import ConfigError

EMAIL = "EMAIL"
PHONE = "PHONE"
CARD = "CARD"
AWS_ACCESS_KEY = "AWS_ACCESS_KEY"
AWS_SECRET = "AWS_SECRET"  # noqa: S105 - a type name, not a password
IP = "IP"

PLACEHOLDER_PATTERN = re.compile(rf"\[{REDACTION_TYPE_PATTERN.pattern}\]")


def placeholder(kind: str) -> str:
    return f"[{kind}]"


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    kind: str


@dataclass
class RedactionReport:
    """How many values of each type were replaced, over everything redacted with this report."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str) -> None:
        self.counts[kind] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))

    def summary(self) -> str:
        if not self.counts:
            return "nothing redacted"
        return ", ".join(f"{kind}={count}" for kind, count in sorted(self.counts.items()))


@dataclass(frozen=True)
class RedactedText:
    text: str
    findings: tuple[Finding, ...]

    @property
    def counts(self) -> Counter[str]:
        return Counter(finding.kind for finding in self.findings)


Spans = Iterator[tuple[int, int]]
Detector = Callable[[str], Spans]

# --- keys: tokens, possibly split by whitespace holding at most one line break -------------------------
_KEY_GAP = re.compile(r"[ \t]*(?:\r?\n)?[ \t]*")


def _joined_tokens(
    text: str, token: re.Pattern[str], length: int, max_pieces: int
) -> Iterator[tuple[int, int, int]]:
    """``(start, end, pieces)`` of runs of ``token`` matches, joined across small gaps, ``length`` long."""
    tokens = list(token.finditer(text))
    for first in range(len(tokens)):
        total = 0
        for last in range(first, min(first + max_pieces, len(tokens))):
            if last > first and not _KEY_GAP.fullmatch(text, tokens[last - 1].end(), tokens[last].start()):
                break
            total += tokens[last].end() - tokens[last].start()
            if total >= length:
                if total == length:
                    yield tokens[first].start(), tokens[last].end(), last - first + 1
                break


def _squeezed(text: str, start: int, end: int) -> str:
    return re.sub(r"\s+", "", text[start:end])


_ACCESS_KEY_TOKEN = re.compile(r"[A-Z0-9]+")
_ACCESS_KEY = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}")
_ACCESS_KEY_NEAR = re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)(?:\s?[A-Z0-9]){16}")


def _access_keys(text: str) -> Spans:
    for start, end, pieces in _joined_tokens(text, _ACCESS_KEY_TOKEN, 20, max_pieces=5):
        key = _squeezed(text, start, end)
        if not _ACCESS_KEY.fullmatch(key):
            continue
        if pieces > 1 and not any(character.isdigit() for character in key[4:]):
            continue
        yield start, end


_SECRET_TOKEN = re.compile(r"[A-Za-z0-9/+]+")
_SECRET_CONTEXT = re.compile(r"(?i)secret")
_LOWER_WORD = re.compile(r"[a-z]{4,}")


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(count / len(value) * math.log2(count / len(value)) for count in counts.values())


def _looks_random(secret: str) -> bool:
    return (
        any(character.isupper() for character in secret)
        and any(character.islower() for character in secret)
        and any(character.isdigit() for character in secret)
        and _entropy(secret) >= 4.0
        and sum(len(word) for word in _LOWER_WORD.findall(secret)) <= 10
    )


def _secret_context(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 80) : start]
    around = text[max(0, start - 200) : start] + " " + text[end : end + 200]
    return bool(_SECRET_CONTEXT.search(before) or _ACCESS_KEY_NEAR.search(around))


def _aws_secrets(text: str) -> Spans:
    for start, end, pieces in _joined_tokens(text, _SECRET_TOKEN, 40, max_pieces=3):
        if "@" in text[max(0, start - 1) : start] + text[end : end + 1]:
            continue  # the local part of an email address
        secret = _squeezed(text, start, end)
        if pieces > 1 and _ACCESS_KEY.search(secret):
            continue  # an access key id next to something else
        kinds = sum(
            (
                any(character.isupper() for character in secret),
                any(character.islower() for character in secret),
                any(character.isdigit() for character in secret),
            )
        )
        if (_secret_context(text, start, end) and kinds >= 2) or _looks_random(secret):
            yield start, end


# --- email ---------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)


def _emails(text: str) -> Spans:
    for match in _EMAIL.finditer(text):
        yield match.span()


# --- payment cards ---------------------------------------------------------------------------------
_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
_DIGITS = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_grouping(lengths: list[int]) -> bool:
    if len(lengths) == 1:
        return True
    if lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(length == 4 for length in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _is_card(text: str, groups: list[re.Match[str]]) -> bool:
    separators = {text[left.end() : right.start()] for left, right in itertools.pairwise(groups)}
    digits = "".join(group.group() for group in groups)
    return (
        len(separators) <= 1
        and 13 <= len(digits) <= 19
        and digits[0] in "23456"
        and _card_grouping([len(group.group()) for group in groups])
        and luhn_valid(digits)
    )


def _cards(text: str) -> Spans:
    for run in _DIGIT_RUN.finditer(text):
        if re.fullmatch(r"\d\.", text[max(0, run.start() - 2) : run.start()]) or re.match(
            r"\.\d", text[run.end() : run.end() + 2]
        ):
            continue  # part of a decimal or dotted number
        groups = list(_DIGITS.finditer(text, run.start(), run.end()))
        first = 0
        while first < len(groups):
            for last in range(len(groups), first, -1):
                if _is_card(text, groups[first:last]):
                    yield groups[first].start(), groups[last - 1].end()
                    first = last
                    break
            else:
                first += 1


# --- IP addresses ----------------------------------------------------------------------------------
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)")
_VERSION_BEFORE = re.compile(
    r"(?i)(?:\b(?:version|ver|v|release|rel|build|revision|rev|sdk|firmware|patch|update|upgrade to)"
    r"\.?\s*[:#=]?\s*|==|>=|<=|~=|!=|=|@|\bv\s*)$"
)
_VERSION_AFTER = re.compile(r"(?i)[-+~._]?(?:alpha|beta|rc|dev|post|pre|preview|snapshot|final)\b")


def _ipv4s(text: str) -> Spans:
    for match in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        if _VERSION_BEFORE.search(text[max(0, match.start() - 24) : match.start()]):
            continue
        if _VERSION_AFTER.match(text, match.end()):
            continue
        yield match.span()


_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:)[0-9A-Fa-f:.]+(?![\w:])")


def _ipv6s(text: str) -> Spans:
    for match in _IPV6_CANDIDATE.finditer(text):
        candidate = match.group().rstrip(".")
        if not re.search(r"[0-9A-Fa-f]", candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield match.start(), match.start() + len(candidate)


# --- phone numbers ---------------------------------------------------------------------------------
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,5})){1,6}(?![\w]|[ .\-]?\d)"
)
_PHONE_NORTH_AMERICA = re.compile(
    r"(?<![\w.+\-])(?:1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?![\w]|[.\-]\d)"
)
_PHONE_AFTER_WORD = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|cellphone|call me|reach me|text me|sms|whatsapp|fax)\b"
    r"(?:\s*(?:number|no\.?|#|is|at|on|:))*\s*"
    r"(?P<number>\+?\d(?:[ .\-]?\d){6,14})(?!\d)"
)


def _phones(text: str) -> Spans:
    for match in _PHONE_INTERNATIONAL.finditer(text):
        if 8 <= sum(character.isdigit() for character in match.group()) <= 15:
            yield match.span()
    for match in _PHONE_NORTH_AMERICA.finditer(text):
        yield match.span()
    for match in _PHONE_AFTER_WORD.finditer(text):
        yield match.span("number")


def _regex_detector(pattern: re.Pattern[str]) -> Detector:
    def detect(text: str) -> Spans:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                yield match.span()

    return detect


_BUILTIN_DETECTORS: tuple[tuple[str, Detector], ...] = (
    (AWS_SECRET, _aws_secrets),
    (AWS_ACCESS_KEY, _access_keys),
    (EMAIL, _emails),
    (CARD, _cards),
    (IP, _ipv6s),
    (IP, _ipv4s),
    (PHONE, _phones),
)
_KEEP = ""  # kind of spans that are protected, not replaced: placeholders already in the text


def compile_patterns(patterns: Mapping[str, str]) -> list[tuple[str, re.Pattern[str]]]:
    """Configured ``TYPE -> regex``; a bad one raises :class:`ConfigError` naming the setting."""
    try:
        return [(kind, compiled_redaction_pattern(kind, pattern)) for kind, pattern in patterns.items()]
    except ValueError as error:
        raise ConfigError(f"{ENV_PREFIX}REDACTION_PATTERNS: {error}") from error


class Redactor:
    """Finds PII in text and replaces each value with ``[TYPE]``."""

    def __init__(self, extra_patterns: Mapping[str, str] | None = None) -> None:
        extra = [(kind, _regex_detector(regex)) for kind, regex in compile_patterns(extra_patterns or {})]
        self._detectors: list[tuple[str, Detector]] = [
            (_KEEP, _regex_detector(PLACEHOLDER_PATTERN)),
            *extra,
            *_BUILTIN_DETECTORS,
        ]

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        return cls(settings.redaction_patterns)

    def findings(self, text: str) -> list[Finding]:
        """Non-overlapping findings in text order; where two overlap, the earlier detector wins."""
        taken: list[Finding] = []
        for kind, detect in self._detectors:
            for start, end in detect(text):
                if all(end <= other.start or start >= other.end for other in taken):
                    taken.append(Finding(start, end, kind))
        return sorted(finding for finding in taken if finding.kind != _KEEP)

    def redact(self, text: str, report: RedactionReport | None = None) -> RedactedText:
        findings = self.findings(text)
        pieces = []
        position = 0
        for finding in findings:
            pieces.append(text[position : finding.start])
            pieces.append(placeholder(finding.kind))
            position = finding.end
            if report is not None:
                report.add(finding.kind)
        pieces.append(text[position:])
        return RedactedText("".join(pieces), tuple(findings))
