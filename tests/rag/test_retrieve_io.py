from __future__ import annotations

import json

import pytest

from chatbot.errors import InvalidInputFileError
from chatbot.models import Source
from chatbot.rag.knowledge_base import RetrievalResult
from chatbot.rag.retrieve_io import RetrieveRequest, RetrieveResponse, parse_request, read_requests


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "line 7: not valid JSON"),
        ("[1, 2]", 'line 7: expected a JSON object with "id" and "question"'),
        ('"just a string"', "line 7: expected a JSON object"),
        ('{"question": "What is SageMaker?"}', "line 7: missing field 'id'"),
        ('{"id": "a"}', "line 7: missing field 'question'"),
        ('{"id": "a", "question": ""}', "line 7: empty question"),
        ('{"id": "a", "question": " \\n "}', "line 7: empty question"),
        ('{"id": ["a"], "question": "q"}', "line 7: field 'id' must be a string or an integer"),
        ('{"id": "a", "question": 42}', "line 7: field 'question'"),
    ],
)
def test_unusable_lines_are_named(line: str, message: str) -> None:
    with pytest.raises(InvalidInputFileError, match=message.replace("(", r"\(")):
        parse_request(line, 7)


def test_good_lines_keep_their_id_type_and_ignore_extra_fields() -> None:
    request = parse_request('{"id": 12, "question": "  Spot training?  ", "answers": ["x.md"]}', 1)
    assert request == RetrieveRequest(id=12, question="Spot training?")
    assert parse_request('{"id": "12", "question": "q"}', 1).id == "12"


def test_blank_lines_are_skipped_and_errors_come_in_order() -> None:
    lines = ['{"id": 1, "question": "a"}', "", "   ", "nope", '{"id": 2, "question": "b"}']
    items = list(read_requests(lines))
    assert [type(item).__name__ for item in items] == [
        "RetrieveRequest",
        "InvalidInputFileError",
        "RetrieveRequest",
    ]
    assert "line 4" in str(items[1])


def test_response_has_exactly_the_promised_shape() -> None:
    result = RetrievalResult(
        chunks=[],
        sources=[
            Source(doc="whatis.md", title="What Is Amazon SageMaker?", section="", score=0.05, snippet="x")
        ],
    )
    line = json.loads(RetrieveResponse.from_result("q1", result).model_dump_json())
    assert line == {
        "id": "q1",
        "sources": [{"doc": "whatis.md", "title": "What Is Amazon SageMaker?", "score": 0.05}],
    }
