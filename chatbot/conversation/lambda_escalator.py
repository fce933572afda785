"""Escalation by the ``triggerWorkflow`` Lambda, invoked asynchronously (``InvocationType=Event``).

:class:`LambdaEscalator` owns the whole hand-over: it opens the escalation in the shared state store (the
event needs the escalation number that this allocates, and a second escalation of a conversation already
waiting must not start a second workflow), builds the trigger event and invokes the function through a
:class:`LambdaInvoker`: :class:`Boto3LambdaInvoker` in AWS, ``infra.local.lambda_invoker
.InProcessLambdaInvoker`` locally (durable outbox, retried until Step Functions answers). When the trigger
cannot be sent at all, the conversation goes back to the bot (``failed``) and :class:`EscalationError` is
raised, so the customer is never left waiting for an expert nobody was told about.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, ValidationError

from chatbot.config import Settings
from chatbot.conversation.escalation import EscalationReceipt, EscalationRequest
from chatbot.conversation.state import (
    ConversationStateStore,
    ConversationStatus,
    StateStoreError,
    WorkflowStage,
)
from chatbot.conversation.transcript import as_utc
from chatbot.errors import EscalationError
from lambdas.trigger_workflow.models import TriggerWorkflowEvent

log = structlog.get_logger(__name__)


class InvocationReceipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str
    queued: bool


class LambdaInvoker(Protocol):
    def invoke_async(self, function_name: str, payload: Mapping[str, Any]) -> InvocationReceipt:
        """Hand ``payload`` to the function without waiting for it; raises :class:`EscalationError`."""
        ...


class Boto3LambdaInvoker:
    """``lambda.invoke(InvocationType="Event")``: Lambda queues the event and retries the function itself."""

    def __init__(self, lambda_client: Any) -> None:
        self._lambda = lambda_client

    def invoke_async(self, function_name: str, payload: Mapping[str, Any]) -> InvocationReceipt:
        try:
            response = self._lambda.invoke(
                FunctionName=function_name,
                InvocationType="Event",
                Payload=json.dumps(payload).encode("utf-8"),
            )
        except (BotoCoreError, ClientError) as error:
            raise EscalationError(f"could not invoke Lambda {function_name}: {error}") from error
        status = int(response.get("StatusCode", 0))
        if status != 202:
            raise EscalationError(f"Lambda {function_name} did not accept the event (status {status})")
        request_id = response.get("ResponseMetadata", {}).get("RequestId", "")
        return InvocationReceipt(reference=f"lambda:{function_name}:{request_id}", queued=False)


def case_link(console_url: str, conversation_id: str) -> str:
    """Where the expert console shows this case."""
    return f"{console_url.rstrip('/')}/?conversation_id={quote(conversation_id, safe='')}"


class LambdaEscalator:
    """The :class:`~chatbot.conversation.escalation.Escalator` of the real workflow."""

    def __init__(
        self,
        invoker: LambdaInvoker,
        function_name: str,
        console_url: str,
        *,
        state_store: ConversationStateStore,
    ) -> None:
        self._invoker = invoker
        self._function_name = function_name
        self._console_url = console_url
        self._state_store = state_store

    def escalate(self, request: EscalationRequest) -> EscalationReceipt:
        conversation_id = request.conversation_id
        try:
            state = self._state_store.open_escalation(
                conversation_id,
                request.reason,
                request.summary,
                request.sentiment,
                requested_at=request.requested_at,
            )
        except StateStoreError as error:
            raise EscalationError(f"escalation of {conversation_id} not recorded: {error}") from error
        opened_here = state.status is ConversationStatus.WAITING_FOR_EXPERT and state.escalated_at == as_utc(
            request.requested_at
        )
        if not opened_here:
            log.info(
                "escalation.already_open",
                conversation_id=conversation_id,
                status=state.status.value,
                escalation_number=state.escalation_number,
            )
            return EscalationReceipt(
                conversation_id=conversation_id,
                reference=f"already-open:{conversation_id}#{state.escalation_number}",
            )
        try:
            event = TriggerWorkflowEvent.from_request(
                request, state.escalation_number, case_link(self._console_url, conversation_id)
            )
            invocation = self._invoker.invoke_async(self._function_name, event.model_dump(mode="json"))
        except (ValidationError, EscalationError) as error:
            log.exception("escalation.not_sent", conversation_id=conversation_id)
            self._give_back_to_bot(conversation_id, state.escalation_number)
            raise EscalationError(f"escalation of {conversation_id} could not be sent: {error}") from error
        log.info(
            "escalation.sent",
            conversation_id=conversation_id,
            escalation_number=state.escalation_number,
            reference=invocation.reference,
            queued=invocation.queued,
        )
        return EscalationReceipt(
            conversation_id=conversation_id, reference=invocation.reference, queued=invocation.queued
        )

    def _give_back_to_bot(self, conversation_id: str, escalation_number: int) -> None:
        try:
            self._state_store.record_workflow_stage(conversation_id, escalation_number, WorkflowStage.FAILED)
        except StateStoreError:
            log.exception("escalation.not_reverted", conversation_id=conversation_id)


def make_lambda_invoker(settings: Settings) -> LambdaInvoker:
    """``aws`` backend: the real Lambda; ``local``: the in-process invoker over ``data_dir/outbox.sqlite3``.

    The local invoker runs a worker thread: build one per process (``st.cache_resource``) and ``stop()`` it
    on shutdown.
    """
    if settings.backend == "aws":
        from chatbot.aws import client

        return Boto3LambdaInvoker(client("lambda", settings))
    from infra.local.lambda_invoker import InProcessLambdaInvoker

    return InProcessLambdaInvoker(
        settings.outbox_path, {settings.trigger_workflow_function: settings.trigger_workflow_handler}
    )


def make_lambda_escalator(
    settings: Settings, state_store: ConversationStateStore, invoker: LambdaInvoker | None = None
) -> LambdaEscalator:
    return LambdaEscalator(
        invoker or make_lambda_invoker(settings),
        settings.trigger_workflow_function,
        settings.expert_console_url,
        state_store=state_store,
    )
