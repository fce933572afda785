"""What every Lambda handler does the same way: settings and logging at start-up, and reading its event.

Ships in the Lambda bundle with the rest of the ``lambdas`` package (see ``infra/deploy.py``).
"""

from __future__ import annotations

from typing import TypeVar

import structlog
from pydantic import BaseModel, ValidationError

from chatbot.config import Settings, load_settings
from chatbot.errors import InvalidLambdaEventError
from chatbot.logging import configure_logging
from workflows.labeling.jsonl import describe_validation_error

EventModel = TypeVar("EventModel", bound=BaseModel)


def lambda_settings() -> Settings:
    """The function's settings from its ``CHATBOT_*`` environment (read anew on every call; handlers cache
    what they build from them). Logging is configured from them unless it already is: a process that runs
    the handlers in-process (the local stack, tests) keeps its own configuration."""
    settings = load_settings()
    if not structlog.is_configured():
        configure_logging(settings.log_level, settings.log_format)
    return settings


def parse_event(model: type[EventModel], event: object, heading: str, *, prefix: str = "") -> EventModel:
    """``event`` as ``model``; otherwise :class:`InvalidLambdaEventError` saying
    ``<heading>: <field>: <problem>; ...`` (each field path starting with ``prefix`` when one is given)."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        raise InvalidLambdaEventError(f"{heading}: {describe_validation_error(error, prefix)}") from error
