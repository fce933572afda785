"""An expert's answer to an offer, sent to the waiting workflow with the offer's task token.

The expert console calls these with the token of the latest notification it saw for the case
(``task_token`` of the conversation state). Accepting ends the offer with the expert's name; declining
fails it with ``ExpertDeclined`` so the workflow offers the case again; a heartbeat keeps an offer alive
while the expert reads the case (up to the offer's timeout).
"""

from __future__ import annotations

from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from chatbot.aws import client, error_code
from chatbot.config import Settings
from workflows.escalation.errors import (
    ExpertActionError,
    ExpertActionUnavailableError,
    InvalidTaskTokenError,
    TaskDoesNotExistError,
    TaskTimedOutError,
)
from workflows.escalation.events import EXPERT_DECLINED_ERROR
from workflows.escalation.execution import ExpertAcceptance

log = structlog.get_logger(__name__)

# SendTaskFailure limits the cause to 32,768 characters
MAX_CAUSE_CHARS = 32_768

_TOKEN_ERRORS: dict[str, type[ExpertActionError]] = {
    "TaskTimedOut": TaskTimedOutError,
    "InvalidToken": InvalidTaskTokenError,
    "TaskDoesNotExist": TaskDoesNotExistError,
}
_RETRYABLE_CODES = frozenset({"ThrottlingException", "ServiceUnavailable", "InternalServerError"})


def accept(token: str, expert: str, *, settings: Settings, stepfunctions: Any | None = None) -> None:
    """The expert takes the case: the workflow records ``assigned`` with this name and ends."""
    output = ExpertAcceptance(expert=expert).model_dump_json()
    _send("send_task_success", stepfunctions, settings, taskToken=token, output=output)
    log.info("escalation.accepted", expert=expert)


def decline(
    token: str, expert: str, why: str, *, settings: Settings, stepfunctions: Any | None = None
) -> None:
    """The expert passes: the workflow records ``declined`` (cause as detail) and offers the case again."""
    cause = decline_cause(expert, why)
    _send(
        "send_task_failure",
        stepfunctions,
        settings,
        taskToken=token,
        error=EXPERT_DECLINED_ERROR,
        cause=cause,
    )
    log.info("escalation.declined", expert=expert)


def heartbeat(token: str, *, settings: Settings, stepfunctions: Any | None = None) -> None:
    """The expert is looking at the case: the offer does not expire for another heartbeat interval."""
    _send("send_task_heartbeat", stepfunctions, settings, taskToken=token)


def decline_cause(expert: str, why: str) -> str:
    """``<expert> declined: <why>``, the text the ``declined`` case event carries as ``detail``."""
    reason = " ".join(why.split()) or "no reason given"
    return f"{expert} declined: {reason}"[:MAX_CAUSE_CHARS]


def _send(operation: str, stepfunctions: Any | None, settings: Settings, **arguments: str) -> None:
    sfn = stepfunctions if stepfunctions is not None else client("stepfunctions", settings)
    try:
        getattr(sfn, operation)(**arguments)
    except ClientError as error:
        code = error_code(error)
        named = _TOKEN_ERRORS.get(code)
        if named is not None:
            log.warning("escalation.token_rejected", operation=operation, code=code)
            raise named(
                f"{operation}: {code}: {error.response.get('Error', {}).get('Message', '')}"
            ) from error
        if code in _RETRYABLE_CODES:
            raise ExpertActionUnavailableError(
                f"{operation}: Step Functions is throttling ({code})"
            ) from error
        raise ExpertActionError(f"{operation} failed: {code}: {error}") from error
    except BotoCoreError as error:
        raise ExpertActionUnavailableError(f"{operation}: Step Functions unreachable: {error}") from error
