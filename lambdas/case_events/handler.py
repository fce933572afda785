"""Lambda entry point of ``caseEvents`` (SQS event source, ``ReportBatchItemFailures`` on).

The work is in :func:`lambdas.case_events.processor.process_sqs_event`; the local event pump calls that
directly with its own store.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import structlog

from chatbot.config import load_settings
from chatbot.conversation.state import ConversationStateStore
from chatbot.conversation.state_factory import make_state_store
from chatbot.logging import configure_logging
from lambdas.case_events.processor import process_sqs_event


@cache
def _state_store() -> ConversationStateStore:
    """Built once per container from its ``CHATBOT_*`` environment (``CHATBOT_STATE_STORE=dynamodb``)."""
    settings = load_settings()
    if not structlog.is_configured():
        configure_logging(settings.log_level, settings.log_format)
    return make_state_store(settings)


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return process_sqs_event(event, _state_store()).as_lambda_result()
