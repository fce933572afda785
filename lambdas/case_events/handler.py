"""Lambda entry point of ``caseEvents`` (SQS event source, ``ReportBatchItemFailures`` on).

The work is in :func:`lambdas.case_events.processor.process_sqs_event`; the local event pump calls that
directly with its own store.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chatbot.conversation.state import ConversationStateStore
from chatbot.conversation.state_factory import make_state_store
from lambdas.case_events.processor import process_sqs_event
from lambdas.runtime import lambda_settings


@cache
def _state_store() -> ConversationStateStore:
    """Built once per container from its ``CHATBOT_*`` environment (``CHATBOT_STATE_STORE=dynamodb``)."""
    return make_state_store(lambda_settings())


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return process_sqs_event(event, _state_store()).as_lambda_result()
