"""The local ``email-relay`` queue: subscribed to the experts topics, drained into SMTP by the event pump.

In AWS SNS emails the experts itself (email subscriptions). The local stack gives each experts topic an
SQS subscription to a separate ``email-relay`` queue (the case-events queue has its own consumer), and
:func:`relay_sqs_event` turns each SNS envelope found there into an email via :class:`ExpertEmailRelay`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from chatbot.errors import MailError
from chatbot.notify.relay import ExpertEmailRelay
from lambdas.case_events.exceptions import InvalidCaseRecordError
from lambdas.case_events.models import BatchItemFailure, ExpertNotice, SqsBatchResponse, SqsRecord
from lambdas.case_events.processor import parse_sqs_event, read_record

log = structlog.get_logger(__name__)


def ensure_email_relay_queue(
    sqs_client: Any, sns_client: Any, topic_arns: Sequence[str], queue_name: str
) -> str:
    """Create the queue (kept if it exists) and subscribe it to every experts topic; returns its URL."""
    queue_url = str(sqs_client.create_queue(QueueName=queue_name)["QueueUrl"])
    queue_arn = sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    for topic_arn in topic_arns:
        # no raw delivery: the SNS envelope carries the tier and the subject, as AWS would send them
        sns_client.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    log.info("email_relay.queue_ready", queue=queue_url, topics=len(topic_arns))
    return queue_url


def _notice_of(record: SqsRecord) -> ExpertNotice:
    notice = read_record(record)
    if not isinstance(notice, ExpertNotice):
        raise InvalidCaseRecordError(
            record.message_id, f"a {notice.kind.value} case event, not a notification"
        )
    return notice


def _relay_record(record: SqsRecord, relay: ExpertEmailRelay) -> bool:
    try:
        notice = _notice_of(record)
    except InvalidCaseRecordError as error:
        rejected = error
    else:
        try:
            relay.relay(
                notice.subject, notice.message, tier=notice.tier, conversation_id=notice.conversation_id
            )
        except MailError:
            log.exception("email_relay.not_sent", conversation_id=notice.conversation_id, tier=notice.tier)
            return False
        return True
    log.error("email_relay.invalid_record", message_id=record.message_id, reason=rejected.reason)
    return False


def relay_sqs_event(event: object, relay: ExpertEmailRelay) -> SqsBatchResponse:
    """Email every notification of the batch; the ones not sent are returned for a retry."""
    sqs_event = parse_sqs_event(event)
    failures = [
        BatchItemFailure(item_identifier=record.message_id)
        for record in sqs_event.records
        if not _relay_record(record, relay)
    ]
    return SqsBatchResponse(batch_item_failures=failures)
