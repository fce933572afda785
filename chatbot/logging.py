"""Structured logging: one call at start-up, then ``structlog.get_logger(__name__)`` everywhere.

The conversation id is bound as a context variable so every line of a turn carries it.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog


def _current_stderr_logger(*_names: object) -> structlog.PrintLogger:
    """A logger writing to ``sys.stderr`` as it is now, not as it was at start-up: a harness that swaps
    the stream for a while (Click's CliRunner, pytest's capture) may have closed that one since."""
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(level: str = "INFO", log_format: Literal["json", "console"] = "console") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_current_stderr_logger,
        cache_logger_on_first_use=False,
    )


def bind_conversation(conversation_id: str) -> None:
    structlog.contextvars.bind_contextvars(conversation_id=conversation_id)
