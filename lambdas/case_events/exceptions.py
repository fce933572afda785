"""Errors of the case-events Lambda."""

from __future__ import annotations

from chatbot.errors import InvalidLambdaEventError


class InvalidCaseRecordError(InvalidLambdaEventError):
    """One SQS record is neither an expert notification nor a case event; the message says why."""

    def __init__(self, message_id: str, reason: str) -> None:
        super().__init__(f"SQS message {message_id}: {reason}")
        self.message_id = message_id
        self.reason = reason
