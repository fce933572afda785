"""Queues and topics on the session moto server, named per test so tests never share them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from workflows.escalation.events import (
    ATTR_CONVERSATION_ID,
    ATTR_ESCALATION_NUMBER,
    ATTR_TASK_TOKEN,
    ATTR_TIER,
)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def create_queue(sqs: Any, name: str) -> tuple[str, str]:
    url = str(sqs.create_queue(QueueName=unique(name))["QueueUrl"])
    arn = str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    return url, arn


def publish_notification(
    sns: Any,
    topic_arn: str,
    *,
    conversation_id: str,
    escalation_number: int,
    tier: int,
    task_token: str,
    subject: str = "Escalation: Unhappy customer",
    message: str = "A customer needs an expert.",
) -> None:
    """What the state machine's ``sns:publish.waitForTaskToken`` step publishes."""
    sns.publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message=message,
        MessageAttributes={
            ATTR_CONVERSATION_ID: {"DataType": "String", "StringValue": conversation_id},
            ATTR_ESCALATION_NUMBER: {"DataType": "Number", "StringValue": str(escalation_number)},
            ATTR_TIER: {"DataType": "Number", "StringValue": str(tier)},
            ATTR_TASK_TOKEN: {"DataType": "String", "StringValue": task_token},
        },
    )


def queue_depth(sqs: Any, queue_url: str) -> tuple[int, int]:
    """(visible, in flight) messages of the queue."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout_s}s")
        time.sleep(0.05)
