"""The local stand-in for Lambda's SQS event source mapping.

Moto runs no Lambda, so a background thread per queue long-polls it, hands each batch to a handler
function in-process as the same JSON an SQS-triggered Lambda receives, and deletes only the messages the
handler did not report in ``batchItemFailures``. Failed messages come back after the visibility timeout,
as in AWS. :meth:`EventPump.stop` ends the threads cleanly (within one long poll).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from chatbot.conversation.state import ConversationStateStore
from chatbot.notify.relay import ExpertEmailRelay
from infra.local.email_relay import relay_sqs_event
from lambdas.case_events.processor import process_sqs_event

log = structlog.get_logger(__name__)

SqsHandler = Callable[[dict[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class QueueRoute:
    """Messages of ``queue_url`` go to ``handler``, as an SQS-triggered Lambda would receive them."""

    name: str
    queue_url: str
    handler: SqsHandler


@dataclass(frozen=True)
class PumpRound:
    received: int
    deleted: int
    failed: int


def case_events_route(queue_url: str, store: ConversationStateStore) -> QueueRoute:
    return QueueRoute(
        "case-events", queue_url, lambda event: process_sqs_event(event, store).as_lambda_result()
    )


def email_relay_route(queue_url: str, relay: ExpertEmailRelay) -> QueueRoute:
    return QueueRoute(
        "email-relay", queue_url, lambda event: relay_sqs_event(event, relay).as_lambda_result()
    )


def _lambda_attribute(attribute: Mapping[str, Any]) -> dict[str, Any]:
    """``receive_message``'s attribute shape -> the Lambda event's (camelCase, base64 binaries)."""

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    converted: dict[str, Any] = {
        "dataType": attribute["DataType"],
        "stringListValues": list(attribute.get("StringListValues", [])),
        "binaryListValues": [b64(value) for value in attribute.get("BinaryListValues", [])],
    }
    if "StringValue" in attribute:
        converted["stringValue"] = attribute["StringValue"]
    if "BinaryValue" in attribute:
        converted["binaryValue"] = b64(attribute["BinaryValue"])
    return converted


def lambda_sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event an SQS event source mapping would give Lambda for these received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: _lambda_attribute(attribute)
                    for name, attribute in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody"),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


class EventPump:
    def __init__(
        self,
        sqs_client: Any,
        routes: Sequence[QueueRoute],
        *,
        wait_time_s: int = 2,
        batch_size: int = 10,
        visibility_timeout_s: int = 10,
        error_backoff_s: float = 1.0,
    ) -> None:
        self._sqs = sqs_client
        self._routes = list(routes)
        self._wait_time_s = wait_time_s
        self._batch_size = batch_size
        self._visibility_timeout_s = visibility_timeout_s
        self._error_backoff_s = error_backoff_s
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._queue_arns: dict[str, str] = {}

    def __enter__(self) -> EventPump:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._run, args=(route,), name=f"event-pump-{route.name}", daemon=True)
            for route in self._routes
        ]
        for thread in self._threads:
            thread.start()
        log.info("event_pump.started", queues=[route.name for route in self._routes])

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=timeout_s)
            if thread.is_alive():
                log.error("event_pump.thread_did_not_stop", thread=thread.name)
        log.info("event_pump.stopped")

    def _run(self, route: QueueRoute) -> None:
        while not self._stopping.is_set():
            try:
                self.pump_once(route)
            except Exception:  # the pump outlives a bad round (moto restarting, a handler bug); it says so
                log.exception("event_pump.round_failed", queue=route.name)
                self._stopping.wait(self._error_backoff_s)

    def _queue_arn(self, queue_url: str) -> str:
        if queue_url not in self._queue_arns:
            attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
            self._queue_arns[queue_url] = str(attributes["Attributes"]["QueueArn"])
        return self._queue_arns[queue_url]

    def pump_once(self, route: QueueRoute) -> PumpRound:
        """Receive one batch (long poll), run the handler, delete what it handled."""
        queue_arn = self._queue_arn(route.queue_url)
        response = self._sqs.receive_message(
            QueueUrl=route.queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait_time_s,
            VisibilityTimeout=self._visibility_timeout_s,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return PumpRound(received=0, deleted=0, failed=0)
        region = queue_arn.split(":")[3]
        event = lambda_sqs_event(messages, queue_arn, region)
        try:
            result = route.handler(event)
            failed_ids = {str(item["itemIdentifier"]) for item in result.get("batchItemFailures", [])}
        except Exception:  # as in AWS: a handler that raises leaves the whole batch in the queue
            log.exception("event_pump.handler_failed", queue=route.name, messages=len(messages))
            return PumpRound(received=len(messages), deleted=0, failed=len(messages))
        handled = [message for message in messages if message["MessageId"] not in failed_ids]
        deleted = self._delete(route, handled)
        failed = len(messages) - len(handled)
        log.info("event_pump.batch", queue=route.name, received=len(messages), deleted=deleted, failed=failed)
        return PumpRound(received=len(messages), deleted=deleted, failed=failed)

    def _delete(self, route: QueueRoute, messages: Sequence[Mapping[str, Any]]) -> int:
        if not messages:
            return 0
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
        ]
        try:
            response = self._sqs.delete_message_batch(QueueUrl=route.queue_url, Entries=entries)
        except (BotoCoreError, ClientError):
            # handled but not deleted: SQS delivers them again, and the handlers are idempotent
            log.exception("event_pump.delete_failed", queue=route.name, messages=len(messages))
            return 0
        for failure in response.get("Failed", []):
            log.error("event_pump.delete_refused", queue=route.name, entry=failure)
        return len(response.get("Successful", []))
