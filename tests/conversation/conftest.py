"""One state-store fixture, parametrised over both implementations: every test runs on SQLite and DynamoDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.config import Settings
from chatbot.conversation.state import ConversationStateStore
from chatbot.conversation.state_dynamodb import DynamoDbStateStore, create_state_table
from chatbot.conversation.state_sqlite import SqliteStateStore


@pytest.fixture(params=["sqlite", "dynamodb"])
def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStateStore]:
    if request.param == "sqlite":
        yield SqliteStateStore(tmp_path / "data" / "state.sqlite3")
        return
    from chatbot.aws import client

    settings: Settings = request.getfixturevalue("settings")
    dynamodb = client("dynamodb", settings)
    table = f"state-{uuid.uuid4().hex[:12]}"
    create_state_table(dynamodb, table)
    yield DynamoDbStateStore(dynamodb, table)
    dynamodb.delete_table(TableName=table)
