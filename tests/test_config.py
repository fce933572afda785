"""Settings: read from CHATBOT_* variables and .env, and a bad value stops start-up naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.config import PROJECT_ROOT, load_settings
from chatbot.errors import ConfigError


def test_defaults_are_the_local_backend_against_the_local_stack() -> None:
    settings = load_settings()

    assert settings.backend == "local"
    assert settings.aws_endpoint_url == "http://127.0.0.1:4566"
    assert settings.local_llm_path is not None and settings.local_llm_path.name.endswith(".gguf")
    assert settings.local_embedding_model_dir is not None and settings.local_embedding_model_dir.is_dir()


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_RETRIEVAL_K", "7")
    monkeypatch.setenv("CHATBOT_EXPERT_EMAILS_TIER1", "a@example.com, b@example.com")

    settings = load_settings()

    assert settings.retrieval_k == 7
    assert settings.expert_emails_tier1 == ["a@example.com", "b@example.com"]


def test_a_dot_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("CHATBOT_LLM_MAX_TOKENS=99\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    assert load_settings().llm_max_tokens == 99


def test_the_aws_backend_talks_to_real_aws_unless_told_otherwise() -> None:
    assert load_settings(backend="aws").aws_endpoint_url is None


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("CHATBOT_RETRIEVAL_K", "many", "valid integer"),
        ("CHATBOT_RETRIEVAL_K", "0", "greater than or equal to 1"),
        ("CHATBOT_BACKEND", "azure", "'local' or 'aws'"),
        ("CHATBOT_NEGATIVE_SENTIMENT_THRESHOLD", "1.5", "less than or equal to 1"),
        ("CHATBOT_EXPERT_EMAILS_TIER1", "not-an-address", "email"),
        ("CHATBOT_REDACTION_PATTERNS", '{"TICKET": "(unclosed"}', "TICKET"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as refused:
        load_settings()

    message = str(refused.value)
    assert variable in message
    assert complaint.lower() in message.lower()


def test_inconsistent_chunking_is_refused() -> None:
    with pytest.raises(ConfigError, match="chunk_overlap_chars must be smaller"):
        load_settings(chunk_max_chars=500, chunk_overlap_chars=500)


def test_the_cli_stops_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatbot.cli", "decide", "--input", "-"],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "CHATBOT_RETRIEVAL_K": "lots", "PYTHONPATH": str(PROJECT_ROOT)},
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "CHATBOT_RETRIEVAL_K" in result.stderr
    assert "Traceback" not in result.stderr
