"""Start the escalation workflow for one escalated conversation, at most once.

The execution is named after the conversation and its escalation number. Step Functions starts a name at
most once (a STANDARD workflow keeps names 90 days), so a repeated trigger, whether from the chat app's
retry, Lambda's async retries or a duplicated event, either gets the running execution back (same name and
input) or ``ExecutionAlreadyExists``: both count as success, and no second workflow emails the experts.
"""

from __future__ import annotations

from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from chatbot.aws import error_code
from chatbot.errors import InvalidLambdaEventError, WorkflowStartError, WorkflowUnavailableError
from lambdas.trigger_workflow.models import TriggerWorkflowConfig, TriggerWorkflowEvent, TriggerWorkflowResult
from lambdas.trigger_workflow.notification import build_expert_notification
from workflows.escalation.execution import EscalationExecutionInput, execution_name
from workflows.labeling.jsonl import describe_validation_error

log = structlog.get_logger(__name__)

ALREADY_EXISTS = "ExecutionAlreadyExists"
# error codes after which the same request can succeed later; botocore has already retried them
RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "ServiceUnavailable", "InternalServerError"}
)


def parse_trigger_event(event: object, config: TriggerWorkflowConfig) -> TriggerWorkflowEvent:
    """The event as a model; anything else raises :class:`InvalidLambdaEventError` saying what is wrong."""
    if not isinstance(event, dict):
        raise InvalidLambdaEventError(f"triggerWorkflow expects a JSON object, got {type(event).__name__}")
    try:
        parsed = TriggerWorkflowEvent.model_validate(event)
    except ValidationError as error:
        problems = describe_validation_error(error, prefix="event")
        raise InvalidLambdaEventError(f"triggerWorkflow event rejected: {problems}") from error
    if config.console_url and not parsed.console_link.startswith(config.console_url):
        raise InvalidLambdaEventError(
            f"triggerWorkflow event rejected: console_link is not a link into {config.console_url}"
        )
    return parsed


def execution_input(event: TriggerWorkflowEvent, config: TriggerWorkflowConfig) -> EscalationExecutionInput:
    """The same event always gives the same input, so a repeated start is recognised as the same execution."""
    return EscalationExecutionInput(
        conversation_id=event.conversation_id,
        escalation_number=event.escalation_number,
        reason=event.reason,
        notification=build_expert_notification(event),
        timeouts=config.offer_timeouts(),
    )


def execution_arn(state_machine_arn: str, name: str) -> str:
    """``arn:...:stateMachine:M`` -> ``arn:...:execution:M:name``, what StartExecution answers."""
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def trigger_workflow(
    event: TriggerWorkflowEvent, config: TriggerWorkflowConfig, stepfunctions: Any
) -> TriggerWorkflowResult:
    """Start the execution for this escalation, or recognise that it was started already.

    Raises :class:`WorkflowUnavailableError` when Step Functions cannot be reached or throttles (retry the
    same event later) and :class:`WorkflowStartError` when it refuses the request (retrying will not help).
    """
    name = execution_name(event.conversation_id, event.escalation_number)
    body = execution_input(event, config).model_dump_json()
    try:
        response = stepfunctions.start_execution(
            stateMachineArn=config.state_machine_arn, name=name, input=body
        )
    except ClientError as error:
        code = error_code(error)
        if code == ALREADY_EXISTS:
            log.info("workflow.duplicate_trigger", execution=name)
            return TriggerWorkflowResult(
                conversation_id=event.conversation_id,
                escalation_number=event.escalation_number,
                execution_name=name,
                execution_arn=execution_arn(config.state_machine_arn, name),
                duplicate=True,
            )
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in RETRYABLE_CODES or status >= 500:
            log.warning("workflow.start_unavailable", execution=name, code=code)
            raise WorkflowUnavailableError(f"Step Functions did not start {name}: {code}") from error
        log.exception("workflow.start_refused", execution=name, code=code)
        raise WorkflowStartError(f"Step Functions refused to start {name}: {code}: {error}") from error
    except BotoCoreError as error:
        log.warning("workflow.start_unreachable", execution=name, error=str(error))
        raise WorkflowUnavailableError(f"Step Functions unreachable, {name} not started: {error}") from error
    log.info("workflow.started", execution=name, reason=event.reason.value)
    return TriggerWorkflowResult(
        conversation_id=event.conversation_id,
        escalation_number=event.escalation_number,
        execution_name=name,
        execution_arn=str(response["executionArn"]),
        duplicate=False,
    )
