"""Test helpers for the escalation workflow: a local stack in moto, the trigger, and the case-events queue."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from chatbot.aws import client
from chatbot.config import Settings, load_settings
from chatbot.conversation.ids import new_conversation_id
from infra.local.bootstrap import LocalResources, bootstrap
from infra.local.moto_server import MotoServer
from lambdas.trigger_workflow.models import TriggerWorkflowConfig, TriggerWorkflowEvent, TriggerWorkflowResult
from lambdas.trigger_workflow.trigger import trigger_workflow
from tests.support import events
from workflows.escalation.events import (
    ATTR_CONVERSATION_ID,
    ATTR_ESCALATION_NUMBER,
    ATTR_TASK_TOKEN,
    ATTR_TIER,
    CaseEvent,
)

TRIGGER_EVENTS = "trigger_workflow"
EVENTS_DIR = events.EVENTS / TRIGGER_EVENTS


def load_event(name: str) -> Any:
    """A triggerWorkflow event of tests/events/trigger_workflow."""
    return events.load_event(f"{TRIGGER_EVENTS}/{name}")


def stack_settings(moto_server: MotoServer, tmp_dir: Path, stack_name: str) -> Settings:
    """Settings of one test module's own stack: its bucket and table names do not clash with others'."""
    return load_settings(
        _env_file=None,
        data_dir=tmp_dir,
        aws_endpoint_url=moto_server.endpoint_url,
        transcript_bucket=f"{stack_name}-transcripts",
        state_table=f"{stack_name}-state",
    )


def bootstrap_stack(
    moto_server: MotoServer, tmp_dir: Path, stack_name: str
) -> tuple[Settings, LocalResources]:
    settings = stack_settings(moto_server, tmp_dir, stack_name)
    return settings, bootstrap(settings, stack_name=stack_name)


class Notification(BaseModel):
    """An expert notification as the case-events queue receives it (SNS envelope)."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    escalation_number: int
    tier: int
    task_token: str
    topic_arn: str
    subject: str
    message: str


QueueItem = Notification | CaseEvent


def parse_queue_body(body: str) -> QueueItem:
    document = json.loads(body)
    if document.get("Type") == "Notification":
        attributes = {name: value["Value"] for name, value in document["MessageAttributes"].items()}
        return Notification(
            conversation_id=attributes[ATTR_CONVERSATION_ID],
            escalation_number=int(attributes[ATTR_ESCALATION_NUMBER]),
            tier=int(attributes[ATTR_TIER]),
            task_token=attributes[ATTR_TASK_TOKEN],
            topic_arn=document["TopicArn"],
            subject=document.get("Subject", ""),
            message=document["Message"],
        )
    return CaseEvent.model_validate(document)


class CaseQueueReader:
    """Reads the case-events queue with boto3 and files every message under its conversation id.

    Several tests share one stack; each waits only for its own conversation's messages.
    """

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._lock = threading.Lock()
        self._items: dict[str, list[QueueItem]] = defaultdict(list)

    def _poll_once(self) -> None:
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for message in response.get("Messages", []):
            item = parse_queue_body(message["Body"])
            with self._lock:
                self._items[item.conversation_id].append(item)
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def drain(self, seconds: float) -> None:
        """Keep reading for a while (to see that nothing more arrives)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._poll_once()

    def items(self, conversation_id: str) -> list[QueueItem]:
        with self._lock:
            return list(self._items[conversation_id])

    def wait_for(
        self, conversation_id: str, done: Callable[[list[QueueItem]], bool], timeout: float = 15.0
    ) -> list[QueueItem]:
        deadline = time.monotonic() + timeout
        while True:
            items = self.items(conversation_id)
            if done(items):
                return items
            if time.monotonic() > deadline:
                raise AssertionError(f"queue items for {conversation_id} after {timeout}s: {items}")
            self._poll_once()

    def wait_for_count(self, conversation_id: str, count: int, timeout: float = 15.0) -> list[QueueItem]:
        return self.wait_for(conversation_id, lambda items: len(items) >= count, timeout)

    def notifications(self, conversation_id: str) -> list[Notification]:
        return [item for item in self.items(conversation_id) if isinstance(item, Notification)]

    def case_events(self, conversation_id: str) -> list[CaseEvent]:
        return [item for item in self.items(conversation_id) if isinstance(item, CaseEvent)]

    def wait_for_case_events(
        self, conversation_id: str, count: int = 1, timeout: float = 15.0
    ) -> list[CaseEvent]:
        """Wait until this conversation has at least ``count`` case events, then all of its case events."""
        self.wait_for(
            conversation_id,
            lambda items: sum(isinstance(item, CaseEvent) for item in items) >= count,
            timeout,
        )
        return self.case_events(conversation_id)

    def next_notification(self, conversation_id: str, seen: int, timeout: float = 15.0) -> Notification:
        """The notification after the first ``seen`` ones of this conversation."""
        self.wait_for(
            conversation_id,
            lambda items: sum(isinstance(item, Notification) for item in items) > seen,
            timeout,
        )
        return self.notifications(conversation_id)[seen]


def make_event(
    conversation_id: str | None = None, escalation_number: int = 1, **fields: Any
) -> TriggerWorkflowEvent:
    """A valid trigger event (from the fixture) for a fresh or given conversation."""
    document = load_event("valid_negative_sentiment.json")
    conversation = conversation_id or new_conversation_id()
    document.update(
        conversation_id=conversation,
        escalation_number=escalation_number,
        console_link=f"http://localhost:8502/?conversation_id={conversation}",
    )
    document.update(fields)
    return TriggerWorkflowEvent.model_validate(document)


def trigger_config(resources: LocalResources, heartbeat: int = 5, timeout: int = 10) -> TriggerWorkflowConfig:
    return TriggerWorkflowConfig(
        state_machine_arn=resources.state_machine_arn,
        offer_heartbeat_seconds=heartbeat,
        offer_timeout_seconds=timeout,
    )


def start_escalation(
    settings: Settings,
    resources: LocalResources,
    event: TriggerWorkflowEvent,
    heartbeat: int = 5,
    timeout: int = 10,
) -> TriggerWorkflowResult:
    return trigger_workflow(
        event, trigger_config(resources, heartbeat, timeout), client("stepfunctions", settings)
    )


def wait_for_execution(stepfunctions: Any, execution_arn: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = stepfunctions.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{execution_arn} still running after {timeout}s")
        time.sleep(0.2)
