"""Builders shared by the transcript store, spool and recorder tests (no tests here)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.transcript import Role, Turn

DAY = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def conversation_id(day: datetime = DAY) -> str:
    return new_conversation_id(day)


def turn(role: Role, text: str, minute: int, **fields: Any) -> Turn:
    return Turn(role=role, text=text, created_at=DAY + timedelta(minutes=minute), **fields)


def fresh_bucket(settings: Settings) -> str:
    bucket = f"transcripts-{uuid.uuid4().hex[:16]}"
    client("s3", settings).create_bucket(Bucket=bucket)
    return bucket
