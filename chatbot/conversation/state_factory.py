"""The configured conversation-state store: SQLite locally, DynamoDB in AWS (or on moto)."""

from __future__ import annotations

from chatbot.config import Settings
from chatbot.conversation.state import ConversationStateStore


def make_state_store(settings: Settings) -> ConversationStateStore:
    if settings.state_store == "dynamodb":
        from chatbot.aws import client
        from chatbot.conversation.state_dynamodb import DynamoDbStateStore

        return DynamoDbStateStore(client("dynamodb", settings), settings.state_table)
    from chatbot.conversation.state_sqlite import SqliteStateStore

    return SqliteStateStore(settings.state_db_path)
