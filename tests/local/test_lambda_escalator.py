"""LambdaEscalator: opens the escalation, maps the request to the triggerWorkflow event, invokes async."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.conversation.escalation import EscalationRequest, MessageExcerpt
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.lambda_escalator import (
    Boto3LambdaInvoker,
    LambdaEscalator,
    case_link,
    make_lambda_escalator,
)
from chatbot.conversation.state import ConversationStatus, WorkflowStage
from chatbot.conversation.state_sqlite import SqliteStateStore
from chatbot.conversation.transcript import Role
from chatbot.errors import EscalationError
from chatbot.models import EscalationReason, Sentiment, SentimentLabel
from infra.local.lambda_invoker import InProcessLambdaInvoker
from lambdas.trigger_workflow.models import TriggerWorkflowEvent
from tests.local import handlers

CONSOLE = "http://localhost:8502"


def request_for(
    conversation_id: str, reason: EscalationReason = EscalationReason.NEGATIVE_SENTIMENT
) -> EscalationRequest:
    return EscalationRequest(
        conversation_id=conversation_id,
        reason=reason,
        detail="P(negative)=0.91",
        sentiment=Sentiment(label=SentimentLabel.NEGATIVE, score=0.91, negative=0.91, judged_by="test"),
        summary="Endpoint deployment fails with a quota error.",
        last_messages=[
            MessageExcerpt(
                role=Role.CUSTOMER, text="why does it fail?", at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
            ),
            MessageExcerpt(
                role=Role.BOT, text="Check the quota.", at=datetime(2025, 3, 1, 12, 1, tzinfo=UTC)
            ),
        ],
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteStateStore:
    return SqliteStateStore(tmp_path / "state.sqlite3")


@pytest.fixture
def invoker(tmp_path: Path) -> Iterator[InProcessLambdaInvoker]:
    local_invoker = InProcessLambdaInvoker(
        tmp_path / "outbox.sqlite3", {"triggerWorkflow": handlers.record_call}, confirm_within_s=10
    )
    yield local_invoker
    local_invoker.stop()


@pytest.fixture
def escalator(invoker: InProcessLambdaInvoker, store: SqliteStateStore) -> LambdaEscalator:
    return LambdaEscalator(invoker, "triggerWorkflow", CONSOLE, state_store=store)


def test_the_request_becomes_the_trigger_event_of_an_opened_escalation(
    escalator: LambdaEscalator, store: SqliteStateStore
) -> None:
    conversation_id = new_conversation_id()
    request = request_for(conversation_id)

    receipt = escalator.escalate(request)

    assert receipt.queued is False
    assert receipt.conversation_id == conversation_id
    [call] = handlers.calls
    event = TriggerWorkflowEvent.model_validate(call["event"])  # the other side's own contract
    assert event.conversation_id == conversation_id
    assert event.escalation_number == 1
    assert event.reason is EscalationReason.NEGATIVE_SENTIMENT
    assert event.detail == request.detail
    assert event.sentiment == request.sentiment
    assert event.summary == request.summary
    assert event.last_messages == request.last_messages
    assert event.console_link == f"{CONSOLE}/?conversation_id={conversation_id}"
    assert event.requested_at == request.requested_at
    state = store.get(conversation_id)
    assert state is not None
    assert (state.status, state.workflow_stage, state.escalated_at) == (
        ConversationStatus.WAITING_FOR_EXPERT,
        WorkflowStage.REQUESTED,
        request.requested_at,
    )


def test_a_conversation_already_waiting_starts_no_second_workflow(escalator: LambdaEscalator) -> None:
    conversation_id = new_conversation_id()
    escalator.escalate(request_for(conversation_id))

    again = escalator.escalate(request_for(conversation_id, EscalationReason.HUMAN_REQUESTED))

    assert again.reference == f"already-open:{conversation_id}#1"
    assert len(handlers.calls) == 1


def test_an_escalation_after_the_workflow_gave_up_is_number_two(
    escalator: LambdaEscalator, store: SqliteStateStore
) -> None:
    conversation_id = new_conversation_id()
    escalator.escalate(request_for(conversation_id))
    store.record_workflow_stage(conversation_id, 1, WorkflowStage.NO_EXPERT_AVAILABLE)

    escalator.escalate(request_for(conversation_id, EscalationReason.HUMAN_REQUESTED))

    assert [call["event"]["escalation_number"] for call in handlers.calls] == [1, 2]


def test_a_request_the_workflow_would_reject_goes_back_to_the_bot(
    escalator: LambdaEscalator, store: SqliteStateStore
) -> None:
    conversation_id = new_conversation_id()

    with pytest.raises(EscalationError, match="reason"):
        escalator.escalate(request_for(conversation_id, EscalationReason.NONE))

    state = store.get(conversation_id)
    assert state is not None
    assert (state.status, state.workflow_stage) == (ConversationStatus.BOT, WorkflowStage.FAILED)
    assert handlers.calls == []


def test_case_links_point_into_the_console() -> None:
    assert case_link("https://console.example.com/", "20250301-0a1b2c3d4e5f") == (
        "https://console.example.com/?conversation_id=20250301-0a1b2c3d4e5f"
    )


@pytest.fixture
def lambda_function(settings: Settings) -> str:
    """A function in moto's Lambda (moto never runs it; ``Event`` invocations are accepted with 202)."""
    iam, lambda_client = client("iam", settings), client("lambda", settings)
    name = f"triggerWorkflow-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
    lambda_client.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )  # fmt: skip
    return name


def test_boto3_invoker_sends_an_event_invocation(
    settings: Settings, lambda_function: str, store: SqliteStateStore
) -> None:
    lambda_client = client("lambda", settings)
    sent: list[dict[str, Any]] = []
    lambda_client.meta.events.register(
        "provide-client-params.lambda.Invoke", lambda params, **_: sent.append(dict(params))
    )
    escalator = LambdaEscalator(
        Boto3LambdaInvoker(lambda_client), lambda_function, CONSOLE, state_store=store
    )
    conversation_id = new_conversation_id()

    receipt = escalator.escalate(request_for(conversation_id))

    assert receipt.queued is False
    assert receipt.reference.startswith(f"lambda:{lambda_function}:")
    [params] = sent
    assert (params["FunctionName"], params["InvocationType"]) == (lambda_function, "Event")
    payload = json.loads(params["Payload"])
    assert (payload["conversation_id"], payload["escalation_number"]) == (conversation_id, 1)


def test_boto3_invoker_failure_is_an_escalation_error_and_the_bot_takes_over(
    settings: Settings, store: SqliteStateStore
) -> None:
    escalator = LambdaEscalator(
        Boto3LambdaInvoker(client("lambda", settings)), "no-such-function", CONSOLE, state_store=store
    )
    conversation_id = new_conversation_id()

    with pytest.raises(EscalationError, match="no-such-function"):
        escalator.escalate(request_for(conversation_id))

    state = store.get(conversation_id)
    assert state is not None and state.status is ConversationStatus.BOT


def test_the_local_backend_gets_the_in_process_invoker_of_the_real_handler(
    settings: Settings, store: SqliteStateStore
) -> None:
    escalator = make_lambda_escalator(settings, store)
    invoker = escalator._invoker
    try:
        assert isinstance(invoker, InProcessLambdaInvoker)
        assert settings.outbox_path.exists()
    finally:
        if isinstance(invoker, InProcessLambdaInvoker):
            invoker.stop()


def test_the_aws_backend_gets_the_boto3_invoker(settings: Settings, store: SqliteStateStore) -> None:
    escalator = make_lambda_escalator(settings.model_copy(update={"backend": "aws"}), store)

    assert isinstance(escalator._invoker, Boto3LambdaInvoker)
