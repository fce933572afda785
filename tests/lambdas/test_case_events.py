"""The case-events Lambda, driven by SQS event JSON as AWS delivers it (tests/events/case_events_*.json)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.conversation.state import ConversationStatus, WorkflowStage
from chatbot.conversation.state_dynamodb import DynamoDbStateStore, create_state_table
from chatbot.conversation.state_sqlite import SqliteStateStore
from chatbot.errors import InvalidLambdaEventError
from chatbot.models import EscalationReason
from lambdas.case_events import handler
from lambdas.case_events.models import SnsEnvelope, SqsEvent
from lambdas.case_events.processor import process_sqs_event, read_record
from tests.support.events import load_event

CONVERSATION_ID = "20250301-0a1b2c3d4e5f"  # the conversation the fixtures talk about


def fixture_token() -> str:
    body = json.loads(load_event("case_events_sns_notification.json")["Records"][0]["body"])
    token: str = body["MessageAttributes"]["task_token"]["Value"]
    return token


@pytest.fixture
def store(tmp_path: Path) -> SqliteStateStore:
    state_store = SqliteStateStore(tmp_path / "state.sqlite3")
    state_store.open_escalation(CONVERSATION_ID, EscalationReason.NEGATIVE_SENTIMENT, "stuck", None)
    return state_store


def test_the_sns_envelope_fixture_is_parsed_as_aws_sends_it() -> None:
    record = SqsEvent.model_validate(load_event("case_events_sns_notification.json")).records[0]
    envelope = SnsEnvelope.model_validate_json(record.body)

    assert envelope.type == "Notification"
    assert envelope.topic_arn.endswith(":support-chatbot-experts-tier1")
    assert set(envelope.attribute_texts()) == {"conversation_id", "escalation_number", "tier", "task_token"}
    assert record.event_source_arn is not None and record.event_source_arn.startswith("arn:aws:sqs:")


@pytest.mark.parametrize(
    "fixture", ["case_events_sns_notification.json", "case_events_sns_notification_raw_delivery.json"]
)
def test_an_expert_notification_records_the_tier_and_task_token(
    store: SqliteStateStore, fixture: str
) -> None:
    response = process_sqs_event(load_event(fixture), store)

    assert response.as_lambda_result() == {"batchItemFailures": []}
    state = store.get(CONVERSATION_ID)
    assert state is not None
    assert state.status is ConversationStatus.WAITING_FOR_EXPERT
    assert (state.workflow_stage, state.tier, state.task_token) == (
        WorkflowStage.NOTIFIED,
        1,
        fixture_token(),
    )


def test_the_notification_keeps_the_email_text(store: SqliteStateStore) -> None:
    record = SqsEvent.model_validate(load_event("case_events_sns_notification.json")).records[0]

    notice = read_record(record)

    assert notice.conversation_id == CONVERSATION_ID
    assert "expert console" in getattr(notice, "message", "")
    assert getattr(notice, "subject", "").startswith("Escalation:")


def test_assigned_gives_a_waiting_case_to_the_expert(store: SqliteStateStore) -> None:
    response = process_sqs_event(load_event("case_events_assigned.json"), store)

    assert response.batch_item_failures == []
    state = store.get(CONVERSATION_ID)
    assert state is not None
    assert (state.status, state.owner, state.workflow_stage) == (
        ConversationStatus.EXPERT,
        "Alice Example",
        WorkflowStage.ASSIGNED,
    )


def test_assigned_after_the_console_claim_keeps_the_claim(store: SqliteStateStore) -> None:
    process_sqs_event(load_event("case_events_sns_notification.json"), store)
    store.claim(CONVERSATION_ID, "Alice Example")

    process_sqs_event(load_event("case_events_assigned.json"), store)

    state = store.get(CONVERSATION_ID)
    assert state is not None
    assert (state.owner, state.workflow_stage, state.task_token) == (
        "Alice Example",
        WorkflowStage.ASSIGNED,
        None,
    )


def test_a_mixed_batch_reports_only_the_malformed_records(store: SqliteStateStore) -> None:
    event = load_event("case_events_mixed_batch.json")
    malformed_ids = {"d6e1b3a9-4c57-4a0e-9f2b-8e6d1c3b5a70", "5b9e2c41-7d3f-4e8a-b1c6-2f4a9d8e7c35"}

    with capture_logs() as logs:
        result = process_sqs_event(event, store).as_lambda_result()

    assert {item["itemIdentifier"] for item in result["batchItemFailures"]} == malformed_ids
    rejected = {
        entry["message_id"]: entry["reason"]
        for entry in logs
        if entry["event"] == "case_events.invalid_record"
    }
    assert set(rejected) == malformed_ids
    assert all(
        entry["log_level"] == "error" for entry in logs if entry["event"] == "case_events.invalid_record"
    )
    assert "not JSON" in rejected["d6e1b3a9-4c57-4a0e-9f2b-8e6d1c3b5a70"]
    assert "kind" in rejected["5b9e2c41-7d3f-4e8a-b1c6-2f4a9d8e7c35"]
    # the good records around them were applied: notified, declined (token dropped), nobody available
    state = store.get(CONVERSATION_ID)
    assert state is not None
    assert (state.status, state.workflow_stage, state.task_token) == (
        ConversationStatus.BOT,
        WorkflowStage.NO_EXPERT_AVAILABLE,
        None,
    )


def test_a_decline_keeps_the_case_waiting_with_its_last_token(store: SqliteStateStore) -> None:
    process_sqs_event(load_event("case_events_sns_notification.json"), store)
    notified = store.get(CONVERSATION_ID)
    assert notified is not None and notified.task_token
    declined = load_event("case_events_mixed_batch.json")
    declined["Records"] = declined["Records"][1:2]

    result = process_sqs_event(declined, store)

    state = store.get(CONVERSATION_ID)
    assert result.batch_item_failures == []
    assert state is not None
    assert (state.status, state.workflow_stage, state.tier, state.task_token) == (
        ConversationStatus.WAITING_FOR_EXPERT,
        WorkflowStage.NOTIFIED,
        1,
        notified.task_token,
    )


def test_a_notification_without_its_task_token_is_reported(store: SqliteStateStore) -> None:
    event = load_event("case_events_sns_notification.json")
    body = json.loads(event["Records"][0]["body"])
    del body["MessageAttributes"]["task_token"]
    event["Records"][0]["body"] = json.dumps(body)

    with capture_logs() as logs:
        result = process_sqs_event(event, store).as_lambda_result()

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert any("without task_token" in entry.get("reason", "") for entry in logs)
    state = store.get(CONVERSATION_ID)
    assert state is not None and state.workflow_stage is WorkflowStage.REQUESTED


def test_an_event_for_an_unknown_conversation_is_kept_for_a_retry(tmp_path: Path) -> None:
    empty_store = SqliteStateStore(tmp_path / "empty.sqlite3")
    event = load_event("case_events_assigned.json")

    with capture_logs() as logs:
        result = process_sqs_event(event, empty_store).as_lambda_result()

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == ["case_events.not_applied"]


def test_an_unreachable_store_fails_the_records_not_the_batch(settings: Settings) -> None:
    missing_table = DynamoDbStateStore(client("dynamodb", settings), "no-such-table")

    result = process_sqs_event(load_event("case_events_mixed_batch.json"), missing_table).as_lambda_result()

    assert len(result["batchItemFailures"]) == 5


@pytest.mark.parametrize("event", [{}, {"Records": "nope"}, [], {"Records": [{"body": "{}"}]}])
def test_something_that_is_not_an_sqs_event_is_rejected_clearly(store: SqliteStateStore, event: Any) -> None:
    with pytest.raises(InvalidLambdaEventError, match="case-events expects an SQS event"):
        process_sqs_event(event, store)


@pytest.fixture
def dynamodb_lambda_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DynamoDbStateStore]:
    """The Lambda's environment in AWS, against moto: DynamoDB store named by CHATBOT_STATE_TABLE."""
    table = f"case-events-{uuid.uuid4().hex[:8]}"
    create_state_table(client("dynamodb", settings), table)
    monkeypatch.setenv("CHATBOT_STATE_STORE", "dynamodb")
    monkeypatch.setenv("CHATBOT_STATE_TABLE", table)
    assert settings.aws_endpoint_url is not None
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", settings.aws_endpoint_url)
    handler._state_store.cache_clear()
    yield DynamoDbStateStore(client("dynamodb", settings), table)
    handler._state_store.cache_clear()


def test_the_lambda_handler_applies_events_to_dynamodb(
    dynamodb_lambda_environment: DynamoDbStateStore,
) -> None:
    store = dynamodb_lambda_environment
    store.open_escalation(CONVERSATION_ID, EscalationReason.HUMAN_REQUESTED, "wants a person", None)

    notified = handler.lambda_handler(load_event("case_events_sns_notification.json"), None)
    assigned = handler.lambda_handler(load_event("case_events_assigned.json"), None)

    assert notified == assigned == {"batchItemFailures": []}
    state = store.get(CONVERSATION_ID)
    assert state is not None
    assert (state.status, state.owner) == (ConversationStatus.EXPERT, "Alice Example")
