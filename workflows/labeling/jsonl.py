"""JSON Lines as manifests hold them: one object a line, each bad line reported with its file and number."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chatbot.errors import ManifestLineError


def iter_json_objects(text: str, path: str) -> Iterator[tuple[int, dict[str, Any] | ManifestLineError]]:
    """``(line number, object)`` for each non-blank line, or ``(line number, error)`` for one that is not a
    JSON object. Splits on ``\\n`` only: a JSON string may hold U+2028, which ``str.splitlines`` breaks on."""
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield (
                line_number,
                ManifestLineError(path, line_number, f"not valid JSON ({error.msg} at column {error.colno})"),
            )
            continue
        if isinstance(value, dict):
            yield line_number, value
        else:
            yield (
                line_number,
                ManifestLineError(path, line_number, f"not a JSON object but {type(value).__name__}"),
            )


def describe_validation_error(error: ValidationError, prefix: str = "") -> str:
    """``field.path: message`` for each problem, joined; the field path as it appears in the JSON."""
    problems = []
    for issue in error.errors():
        location = ".".join(str(part) for part in (prefix, *issue["loc"]) if part != "")
        problems.append(f"{location or 'line'}: {issue['msg']}")
    return "; ".join(problems)


def dumps_line(value: Any) -> str:
    """One manifest line: compact JSON, non-ASCII kept readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path: Path, lines: Iterable[Mapping[str, Any]]) -> int:
    """Write JSON Lines atomically (a temporary file renamed into place); returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(dumps_line(line) + "\n")
            count += 1
    partial.replace(path)
    return count
