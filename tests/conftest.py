"""Fixtures shared by every test: an isolated state directory, offline models, a real moto server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog

from chatbot.config import Settings, load_settings
from infra.local.moto_server import MotoServer, start_moto_server
from infra.local.ports import free_port

if TYPE_CHECKING:
    from chatbot.chain.embedding_cache import CachedEmbedder
    from chatbot.chain.turn import TurnComponents
    from tests.sentiment.local_models import LocalModels

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
    """A command that configures logging binds it to pytest's captured stderr, closed after the test; a
    conversation bound in one test's thread must not label the next test's log lines."""
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, moto_server: MotoServer) -> Settings:
    """Local-backend settings against the session's moto server and this test's state directory."""
    return load_settings(data_dir=tmp_path / "data", aws_endpoint_url=moto_server.endpoint_url)


@pytest.fixture
def own_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[MotoServer]]:
    """A moto server of this test's own, which it may stop and restart on the same port (appending the
    restarted server: the last one is stopped afterwards); the session server's MOTO_PORT is restored."""
    monkeypatch.setenv("MOTO_PORT", os.environ.get("MOTO_PORT", ""))
    servers = [start_moto_server(port=free_port())]
    yield servers
    servers[-1].stop()


# The real local models. Each is built once per session (tests/sentiment/local_models.py and
# tests/support/chat_services.py cache them), and imported here only when a test asks for one.


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> LocalModels:
    """The real embedder and the sentiment classifier trained on the full data (once per session)."""
    from tests.sentiment.local_models import local_models

    return local_models(tmp_path_factory)


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> CachedEmbedder:
    """The real local embedder, without training anything."""
    from tests.sentiment.local_models import shared_embedder

    return shared_embedder(tmp_path_factory)[1]


@pytest.fixture(scope="session")
def components(tmp_path_factory: pytest.TempPathFactory) -> TurnComponents:
    """MiniLM over the fixture corpus, the trained sentiment classifier, SmolLM2 with short answers."""
    from tests.support.chat_services import session_components

    return session_components(tmp_path_factory)
