"""Fixtures shared by every test: an isolated state directory, offline models, a real moto server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from chatbot.config import Settings, load_settings
from infra.local.moto_server import MotoServer, start_moto_server

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's .env or CHATBOT_* variables, or writes outside its tmp dir."""
    for name in list(os.environ):
        if name.startswith("CHATBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """A command that configures logging binds it to pytest's captured stderr, closed after the test."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, moto_server: MotoServer) -> Settings:
    """Local-backend settings against the session's moto server and this test's state directory."""
    return load_settings(data_dir=tmp_path / "data", aws_endpoint_url=moto_server.endpoint_url)
