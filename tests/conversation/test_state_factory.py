from __future__ import annotations

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.state import ConversationStatus
from chatbot.conversation.state_dynamodb import DynamoDbStateStore, create_state_table
from chatbot.conversation.state_factory import make_state_store
from chatbot.conversation.state_sqlite import SqliteStateStore
from chatbot.models import EscalationReason


def test_sqlite_is_the_default_and_lives_in_the_data_dir(settings: Settings) -> None:
    store = make_state_store(settings)

    assert isinstance(store, SqliteStateStore)
    assert store.path == settings.data_dir / "state.sqlite3"
    assert store.path.exists()


def test_dynamodb_store_uses_the_configured_table(settings: Settings) -> None:
    configured = settings.model_copy(update={"state_store": "dynamodb", "state_table": "factory-state"})
    create_state_table(client("dynamodb", configured), "factory-state")
    conversation_id = new_conversation_id()

    store = make_state_store(configured)
    store.open_escalation(conversation_id, EscalationReason.HUMAN_REQUESTED, "help", None)

    assert isinstance(store, DynamoDbStateStore)
    assert store.table_name == "factory-state"
    reread = make_state_store(configured).get(conversation_id)
    assert reread is not None and reread.status is ConversationStatus.WAITING_FOR_EXPERT
