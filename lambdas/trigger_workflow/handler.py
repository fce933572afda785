"""Lambda entry point of ``triggerWorkflow`` (invoked with ``InvocationType=Event``).

An exception makes Lambda retry the event (twice) and then hand it to the function's on-failure
destination, so nothing is dropped: a malformed event raises :class:`InvalidLambdaEventError`, an
unreachable Step Functions :class:`WorkflowUnavailableError`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import structlog
from pydantic import ValidationError

from chatbot.aws import client
from chatbot.errors import ConfigError, InvalidLambdaEventError
from lambdas.runtime import lambda_settings
from lambdas.trigger_workflow.models import TriggerWorkflowConfig
from lambdas.trigger_workflow.trigger import parse_trigger_event, trigger_workflow

log = structlog.get_logger(__name__)


def load_trigger_config() -> TriggerWorkflowConfig:
    try:
        return TriggerWorkflowConfig()  # fields come from the environment
    except ValidationError as error:
        problems = [
            f"CHATBOT_ESCALATION_{'_'.join(str(part) for part in issue['loc']).upper()}: {issue['msg']}"
            for issue in error.errors()
        ]
        raise ConfigError("triggerWorkflow configuration: " + "; ".join(problems)) from error


@cache
def _runtime() -> tuple[TriggerWorkflowConfig, Any]:
    """Configuration and client, built once per Lambda container (or per process when run in-process)."""
    settings = lambda_settings()
    return load_trigger_config(), client("stepfunctions", settings)


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    config, stepfunctions = _runtime()
    conversation_id = event.get("conversation_id") if isinstance(event, dict) else None
    with structlog.contextvars.bound_contextvars(conversation_id=conversation_id):
        try:
            trigger_event = parse_trigger_event(event, config)
        except InvalidLambdaEventError as error:
            log.exception("trigger_workflow.invalid_event", error=str(error))
            raise
        result = trigger_workflow(trigger_event, config, stepfunctions)
    return result.model_dump(mode="json")
