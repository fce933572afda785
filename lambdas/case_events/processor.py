"""Apply each SQS record of the escalation workflow to the conversation state; report the ones that failed.

A record is one of:

* an expert notification: SNS's JSON envelope (or, with raw delivery, the bare message with SQS message
  attributes) whose attributes name the conversation, escalation, tier and task token -> ``notified``;
* a :class:`~workflows.escalation.events.CaseEvent` body sent by the state machine.

A record that cannot be read or applied is logged with the reason and returned in ``batchItemFailures``, so
SQS keeps it (and finally moves it to the dead-letter queue) while the other records of the batch succeed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from pydantic import ValidationError

from chatbot.conversation.state import (
    ConversationState,
    ConversationStateStore,
    StateStoreError,
    WorkflowStage,
)
from lambdas.case_events.exceptions import InvalidCaseRecordError
from lambdas.case_events.models import (
    BatchItemFailure,
    ExpertNotice,
    SnsEnvelope,
    SqsBatchResponse,
    SqsEvent,
    SqsRecord,
)
from lambdas.runtime import parse_event
from workflows.escalation.events import (
    ATTR_CONVERSATION_ID,
    ATTR_TASK_TOKEN,
    NOTIFICATION_ATTRIBUTES,
    CaseEvent,
    CaseEventKind,
)
from workflows.labeling.jsonl import describe_validation_error

log = structlog.get_logger(__name__)

STAGE_OF_KIND = {
    CaseEventKind.ASSIGNED: WorkflowStage.ASSIGNED,
    CaseEventKind.NO_EXPERT_AVAILABLE: WorkflowStage.NO_EXPERT_AVAILABLE,
    CaseEventKind.FAILED: WorkflowStage.FAILED,
    # the offer ended without an answer: still waiting, the next offer's notification brings a new token
    CaseEventKind.DECLINED: WorkflowStage.NOTIFIED,
    CaseEventKind.TIMED_OUT: WorkflowStage.NOTIFIED,
}


def parse_sqs_event(event: object) -> SqsEvent:
    return parse_event(SqsEvent, event, "case-events expects an SQS event", prefix="event")


def _notice(record: SqsRecord, attributes: dict[str, str], **message: str | None) -> ExpertNotice:
    missing = [name for name in NOTIFICATION_ATTRIBUTES if not attributes.get(name)]
    if missing:
        raise InvalidCaseRecordError(record.message_id, f"expert notification without {', '.join(missing)}")
    try:
        return ExpertNotice.model_validate({**attributes, **message})
    except ValidationError as error:
        reason = "expert notification attributes rejected: " + describe_validation_error(error)
        raise InvalidCaseRecordError(record.message_id, reason) from error


def read_record(record: SqsRecord) -> ExpertNotice | CaseEvent:
    """What the record says; raises :class:`InvalidCaseRecordError` naming the problem."""
    if ATTR_TASK_TOKEN in record.message_attributes:  # raw message delivery: attributes on the SQS message
        attributes = {
            name: text
            for name in NOTIFICATION_ATTRIBUTES
            if (text := record.attribute_text(name)) is not None
        }
        return _notice(record, attributes, message=record.body)
    try:
        body = json.loads(record.body)
    except json.JSONDecodeError as error:
        raise InvalidCaseRecordError(record.message_id, f"body is not JSON ({error.msg})") from error
    if not isinstance(body, dict):
        raise InvalidCaseRecordError(record.message_id, f"body is JSON {type(body).__name__}, not an object")
    if body.get("Type") == "Notification":
        try:
            envelope = SnsEnvelope.model_validate(body)
        except ValidationError as error:
            reason = "SNS envelope rejected: " + describe_validation_error(error)
            raise InvalidCaseRecordError(record.message_id, reason) from error
        return _notice(
            record,
            envelope.attribute_texts(),
            subject=envelope.subject,
            message=envelope.message,
            topic_arn=envelope.topic_arn,
        )
    try:
        return CaseEvent.model_validate(body)
    except ValidationError as error:
        reason = "case event rejected: " + describe_validation_error(error)
        raise InvalidCaseRecordError(record.message_id, reason) from error


def apply_notice(notice: ExpertNotice, store: ConversationStateStore) -> ConversationState:
    return store.record_workflow_stage(
        notice.conversation_id,
        notice.escalation_number,
        WorkflowStage.NOTIFIED,
        tier=notice.tier,
        task_token=notice.task_token,
    )


def apply_case_event(event: CaseEvent, store: ConversationStateStore) -> ConversationState:
    return store.record_workflow_stage(
        event.conversation_id,
        event.escalation_number,
        STAGE_OF_KIND[event.kind],
        tier=event.tier,
        task_token=None,
        expert=event.expert if event.kind is CaseEventKind.ASSIGNED else None,
    )


@contextmanager
def _correlated(record: SqsRecord) -> Iterator[None]:
    # the conversation id is the correlation id; take it before the body is trusted, if it can be found
    conversation_id = record.attribute_text(ATTR_CONVERSATION_ID)
    with structlog.contextvars.bound_contextvars(
        message_id=record.message_id, conversation_id=conversation_id
    ):
        yield


def process_update(update: ExpertNotice | CaseEvent, store: ConversationStateStore) -> ConversationState:
    with structlog.contextvars.bound_contextvars(conversation_id=update.conversation_id):
        if isinstance(update, ExpertNotice):
            state = apply_notice(update, store)
            kind = "notified"
        else:
            state = apply_case_event(update, store)
            kind = update.kind.value
        log.info(
            "case_events.applied",
            kind=kind,
            escalation_number=update.escalation_number,
            status=state.status.value,
            stage=state.workflow_stage.value,
        )
    return state


def _apply_or_report(record: SqsRecord, store: ConversationStateStore) -> bool:
    """True when the record was applied (or rightly ignored); False, with the reason logged, otherwise."""
    try:
        update = read_record(record)
    except InvalidCaseRecordError as error:
        rejected = error
    else:
        try:
            process_update(update, store)
        except StateStoreError:
            log.exception("case_events.not_applied", conversation_id=update.conversation_id)
            return False
        except Exception:  # one bad record must not fail the batch; it is kept for a retry and logged
            log.exception("case_events.unexpected_error", conversation_id=update.conversation_id)
            return False
        return True
    log.error(
        "case_events.invalid_record",
        message_id=record.message_id,
        reason=rejected.reason,
        body=record.body[:500],
    )
    return False


def process_sqs_event(event: object, store: ConversationStateStore) -> SqsBatchResponse:
    """Apply every record; a failed record does not stop the others and is returned for a retry."""
    sqs_event = parse_sqs_event(event)
    failures: list[BatchItemFailure] = []
    for record in sqs_event.records:
        with _correlated(record):
            if not _apply_or_report(record, store):
                failures.append(BatchItemFailure(item_identifier=record.message_id))
    log.info("case_events.batch_done", records=len(sqs_event.records), failed=len(failures))
    return SqsBatchResponse(batch_item_failures=failures)
