"""``chatbot decide``: one JSON line per usable input line, clear errors for the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatbot.cli import app
from tests.sentiment.local_models import LocalModels

pytestmark = pytest.mark.models

LINES = [
    '{"id": "q1", "text": "My training job failed with ResourceLimitExceeded, how do I fix it?"}',
    "this is not json",
    '{"id": "q3"}',
    '{"id": "q4", "text": "   \\n  "}',
    "",
    '{"id": "q6", "text": "I want to talk to a human"}',
    '{"id": 7, "text": "This is the worst service ever, I am furious!"}',
    "[1, 2]",
    json.dumps({"id": "q9", "text": "x" * 5000}),
    '{"id": "q10", "text": "Thanks, that worked perfectly!", "channel": "web"}',
]


@pytest.fixture
def trained_data_dir(models: LocalModels, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the command at the session's trained model, so it does not train again."""
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(models.settings.data_dir))
    return models.settings.data_dir


def test_good_lines_are_decided_and_bad_ones_named(trained_data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["decide", "--input", str(path)])

    assert result.exit_code == 1
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [output["id"] for output in outputs] == ["q1", "q6", 7, "q10"]
    for output in outputs:
        assert set(output) == {"id", "sentiment", "escalate", "reason"}
        assert set(output["sentiment"]) == {"label", "score"}
        assert output["sentiment"]["label"] in {"negative", "neutral", "positive"}
        assert 0.0 <= output["sentiment"]["score"] <= 1.0
        assert output["escalate"] is (output["reason"] != "none")
    by_id = {output["id"]: output for output in outputs}
    assert (by_id["q1"]["escalate"], by_id["q1"]["reason"]) == (False, "none")
    assert by_id["q6"]["reason"] == "human_requested"
    assert by_id[7]["reason"] == "negative_sentiment"
    assert by_id["q10"]["escalate"] is False

    errors = result.stderr
    assert "line 2: not valid JSON" in errors
    assert "line 3: missing field 'text'" in errors
    assert "line 4: message 'q4' rejected: Your message is empty" in errors
    assert "line 8: expected a JSON object" in errors
    assert "line 9: message 'q9' rejected" in errors and "limit is 4,000" in errors
    assert "5 line(s) could not be decided" in errors


def test_stdin_is_read_with_a_dash_and_a_clean_run_exits_zero(trained_data_dir: Path) -> None:
    stdin = (
        '{"id": "a", "text": "How do I stop a notebook instance?"}\n'
        '{"id": "b", "text": "get me a real person"}\n'
    )
    result = CliRunner().invoke(app, ["decide", "--input", "-"], input=stdin)
    assert result.exit_code == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["escalate"], o["reason"]) for o in outputs] == [
        ("a", False, "none"),
        ("b", True, "human_requested"),
    ]


def test_binary_input_is_reported_not_fatal(trained_data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    path.write_bytes(
        b'{"id": "bin", "text": "\\u0000\\u0001 junk"}\n'
        b"\xff\xfe\x00garbage\n"
        b'{"id": "ok", "text": "How do I tag a model?"}\n'
    )
    result = CliRunner().invoke(app, ["decide", "--input", str(path)])
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ok"]
    assert "line 1: message 'bin' rejected: Your message looks like binary data" in result.stderr
    assert "line 2: not valid JSON" in result.stderr


def test_a_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["decide", "--input", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "nope.jsonl does not exist" in result.stderr
