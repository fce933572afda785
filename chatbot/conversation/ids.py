"""Conversation ids carry their start date, so a transcript's storage key follows from its id alone."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime

from chatbot.errors import InvalidMessageError

CONVERSATION_ID_PATTERN = re.compile(r"^(?P<day>\d{8})-(?P<token>[0-9a-f]{12})$")


def new_conversation_id(now: datetime | None = None) -> str:
    started = now or datetime.now(UTC)
    return f"{started:%Y%m%d}-{secrets.token_hex(6)}"


def conversation_day(conversation_id: str) -> date:
    """The day a conversation started; raises for anything that is not a conversation id."""
    match = CONVERSATION_ID_PATTERN.match(conversation_id)
    if match is None:
        raise InvalidMessageError(
            f"not a conversation id: {conversation_id!r} (expected YYYYMMDD-12 hex digits)"
        )
    try:
        return datetime.strptime(match["day"], "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError as error:
        raise InvalidMessageError(f"conversation id {conversation_id!r} has no valid date") from error


def is_conversation_id(value: str) -> bool:
    try:
        conversation_day(value)
    except InvalidMessageError:
        return False
    return True
