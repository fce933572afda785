"""Lines of ``chatbot retrieve``.

In: ``{"id", "question"}``. Out: ``{"id", "sources": [{"doc", "title", "score"}]}``, best document first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chatbot.errors import InvalidInputFileError
from chatbot.rag.knowledge_base import RetrievalResult


class RetrieveRequest(BaseModel):
    """One question. Other fields on the line (``answers``, ``split``...) are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: str | int
    question: str

    @field_validator("question")
    @classmethod
    def _not_blank(cls, question: str) -> str:
        if not question.strip():
            raise ValueError("empty question")
        return question.strip()


class RetrievedSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    doc: str = Field(description="File name of the document, e.g. `whatis.md`.")
    title: str
    score: float


class RetrieveResponse(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str | int
    sources: list[RetrievedSource]

    @classmethod
    def from_result(cls, request_id: str | int, result: RetrievalResult) -> RetrieveResponse:
        sources = [RetrievedSource(doc=s.doc, title=s.title, score=s.score) for s in result.sources]
        return cls(id=request_id, sources=sources)


def _problem(error: ValidationError) -> str:
    issue = error.errors()[0]
    field = ".".join(str(part) for part in issue["loc"])
    if issue["type"] == "missing":
        return f"missing field {field!r}"
    if field == "question" and issue["type"] == "value_error":
        return "empty question"
    if field.startswith("id"):
        return "field 'id' must be a string or an integer"
    return f"field {field!r}: {issue['msg']}"


def parse_request(line: str, line_number: int) -> RetrieveRequest:
    """The request on one input line; :class:`InvalidInputFileError` naming the line when it is unusable."""
    try:
        payload = json.loads(line)
    except json.JSONDecodeError as error:
        raise InvalidInputFileError(
            f"line {line_number}: not valid JSON ({error.msg} at column {error.colno})"
        ) from error
    if not isinstance(payload, dict):
        raise InvalidInputFileError(f'line {line_number}: expected a JSON object with "id" and "question"')
    try:
        return RetrieveRequest.model_validate(payload)
    except ValidationError as error:
        raise InvalidInputFileError(f"line {line_number}: {_problem(error)}") from error


def read_requests(lines: Iterable[str]) -> Iterator[RetrieveRequest | InvalidInputFileError]:
    """The request, or the error naming its line, of every non-blank line, in order."""
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_request(line, line_number)
        except InvalidInputFileError as error:
            yield error
