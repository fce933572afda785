"""The event pump: SQS on moto -> Lambda-shaped events -> the case-events handler, in-process."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.state import ConversationStatus, WorkflowStage
from chatbot.conversation.state_sqlite import SqliteStateStore
from chatbot.models import EscalationReason
from infra.local.event_pump import EventPump, QueueRoute, case_events_route, lambda_sqs_event
from lambdas.case_events.models import SqsEvent
from tests.local.sqs_helpers import create_queue, publish_notification, queue_depth, unique, wait_until


@pytest.fixture
def sqs(settings: Settings) -> Any:
    return client("sqs", settings)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStateStore:
    return SqliteStateStore(tmp_path / "state.sqlite3")


def escalated(store: SqliteStateStore) -> str:
    conversation_id = new_conversation_id()
    store.open_escalation(conversation_id, EscalationReason.HUMAN_REQUESTED, "wants a person", None)
    return conversation_id


def test_received_messages_become_the_event_lambda_gets(sqs: Any) -> None:
    queue_url, queue_arn = create_queue(sqs, "shape")
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody='{"kind": "failed"}',
        MessageAttributes={
            "conversation_id": {"DataType": "String", "StringValue": "20250301-0a1b2c3d4e5f"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    messages = sqs.receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"]

    event = lambda_sqs_event(messages, queue_arn, "us-east-1")
    [record] = SqsEvent.model_validate(event).records

    assert json.loads(json.dumps(event)) == event  # plain JSON, as Lambda receives it
    assert record.message_id == messages[0]["MessageId"]
    assert record.body == '{"kind": "failed"}'
    assert record.event_source_arn == queue_arn
    assert record.attribute_text("conversation_id") == "20250301-0a1b2c3d4e5f"
    assert record.message_attributes["blob"].binary_value == "AAE="
    assert "SentTimestamp" in record.attributes


def test_an_sns_notification_reaches_the_state_store_and_leaves_the_queue(
    settings: Settings, sqs: Any, store: SqliteStateStore
) -> None:
    sns = client("sns", settings)
    topic_arn = sns.create_topic(Name=unique("experts"))["TopicArn"]
    queue_url, queue_arn = create_queue(sqs, "case-events")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    conversation_id = escalated(store)
    publish_notification(
        sns, topic_arn, conversation_id=conversation_id, escalation_number=1, tier=1, task_token="token-42"
    )

    with EventPump(sqs, [case_events_route(queue_url, store)], wait_time_s=1):
        wait_until(lambda: getattr(store.get(conversation_id), "task_token", None) == "token-42")

    state = store.get(conversation_id)
    assert state is not None
    assert (state.status, state.workflow_stage, state.tier) == (
        ConversationStatus.WAITING_FOR_EXPERT,
        WorkflowStage.NOTIFIED,
        1,
    )
    assert queue_depth(sqs, queue_url) == (0, 0)


def test_failed_records_stay_in_the_queue_for_a_retry(sqs: Any, store: SqliteStateStore) -> None:
    queue_url, _ = create_queue(sqs, "case-events")
    conversation_id = escalated(store)
    sqs.send_message(QueueUrl=queue_url, MessageBody="{not json")
    good = json.dumps({"kind": "failed", "conversation_id": conversation_id, "escalation_number": 1})
    sqs.send_message(QueueUrl=queue_url, MessageBody=good)
    pump = EventPump(sqs, [case_events_route(queue_url, store)], wait_time_s=1, visibility_timeout_s=1)
    route = case_events_route(queue_url, store)

    rounds = [pump.pump_once(route)]
    while sum(pump_round.received for pump_round in rounds) < 2:
        rounds.append(pump.pump_once(route))
    time.sleep(1.2)  # the failed message's visibility timeout runs out
    retried = pump.pump_once(route)

    assert sum(pump_round.deleted for pump_round in rounds) == 1
    assert sum(pump_round.failed for pump_round in rounds) == 1
    assert (retried.received, retried.failed) == (1, 1)  # delivered again, still malformed, still kept
    state = store.get(conversation_id)
    assert state is not None and state.status is ConversationStatus.BOT


def test_a_handler_that_raises_leaves_the_whole_batch(sqs: Any) -> None:
    queue_url, _ = create_queue(sqs, "broken")
    sqs.send_message(QueueUrl=queue_url, MessageBody="{}")

    def broken_handler(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("handler bug")

    pump = EventPump(sqs, [], wait_time_s=1, visibility_timeout_s=30)
    outcome = pump.pump_once(QueueRoute("broken", queue_url, broken_handler))

    assert (outcome.received, outcome.deleted, outcome.failed) == (1, 0, 1)
    assert queue_depth(sqs, queue_url) == (0, 1)  # in flight, back after the visibility timeout


def test_the_pump_stops_cleanly_within_one_long_poll(sqs: Any, store: SqliteStateStore) -> None:
    queue_url, _ = create_queue(sqs, "idle")
    pump = EventPump(sqs, [case_events_route(queue_url, store)], wait_time_s=1)
    pump.start()
    assert pump.running

    started = time.monotonic()
    pump.stop()

    assert not pump.running
    assert time.monotonic() - started < 5


def test_the_pump_keeps_going_after_a_failed_round(settings: Settings, store: SqliteStateStore) -> None:
    sqs = client("sqs", settings)
    missing_queue = f"{settings.aws_endpoint_url}/123456789012/{unique('missing')}"
    pump = EventPump(sqs, [case_events_route(missing_queue, store)], wait_time_s=1, error_backoff_s=0.1)

    with pump:
        time.sleep(0.5)
        assert pump.running  # rounds fail (no such queue), the thread logs and carries on
    assert not pump.running
