"""Fixtures for the model backends: a fake Bedrock endpoint on loopback, and aws-backend settings for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.config import Settings, load_settings
from tests.support.fake_bedrock import FakeBedrock

MakeSettings = Callable[..., Settings]


@pytest.fixture(scope="session")
def fake_bedrock_server() -> Iterator[FakeBedrock]:
    server = FakeBedrock().start()
    yield server
    server.stop()


@pytest.fixture
def fake_bedrock(fake_bedrock_server: FakeBedrock) -> FakeBedrock:
    """The session's fake Bedrock, with no recorded requests and no scripted replies left from other tests."""
    fake_bedrock_server.reset()
    return fake_bedrock_server


@pytest.fixture
def make_aws_settings(tmp_path: Path, fake_bedrock: FakeBedrock) -> MakeSettings:
    """aws-backend settings whose Bedrock runtime is the fake server (credentials come from conftest)."""

    def make(**overrides: Any) -> Settings:
        return load_settings(
            backend="aws",
            data_dir=tmp_path / "data",
            bedrock_endpoint_url=fake_bedrock.endpoint_url,
            **overrides,
        )

    return make
