"""Errors of the escalation workflow: its definition, and an expert's answer to an offer."""

from __future__ import annotations

from chatbot.errors import EscalationError


class WorkflowDefinitionError(EscalationError):
    """The ASL definition cannot be rendered (a placeholder without a value, or not JSON afterwards)."""


class ExpertActionError(EscalationError):
    """An expert's accept, decline or heartbeat did not reach the workflow."""


class TaskTimedOutError(ExpertActionError):
    """The offer this task token belongs to has expired; the case has moved on (next tier, or closed)."""


class InvalidTaskTokenError(ExpertActionError):
    """Step Functions does not know this task token (mistyped, or its execution has ended)."""


class TaskDoesNotExistError(ExpertActionError):
    """The task of this token no longer waits: someone already answered the offer."""


class ExpertActionUnavailableError(ExpertActionError):
    """Step Functions could not be reached or throttled the request; the same answer may be sent again."""
