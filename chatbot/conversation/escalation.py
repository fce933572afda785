"""Escalation requests and the ``Escalator`` seam that delivers them.

Issue 2 ships :class:`RecordingEscalator` (durable local record); the Step Functions workflow plugs in
behind the same interface.
"""

from __future__ import annotations

import fcntl
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field

from chatbot.conversation.transcript import Role, utc_now
from chatbot.errors import EscalationError
from chatbot.models import EscalationReason, Sentiment

log = structlog.get_logger(__name__)


class MessageExcerpt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    text: str
    at: datetime
    withheld: bool = False


class EscalationRequest(BaseModel):
    """Everything an expert needs to pick up a conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str
    reason: EscalationReason
    detail: str = ""
    sentiment: Sentiment | None = None
    summary: str = Field(description="A short case summary for the expert's email and queue.")
    last_messages: list[MessageExcerpt] = Field(default_factory=list)
    requested_at: datetime = Field(default_factory=utc_now)


class EscalationReceipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation_id: str
    reference: str = Field(description="Where the request went: a record line, an execution name...")
    queued: bool = Field(False, description="True when kept for a retry rather than delivered now.")


class Escalator(Protocol):
    def escalate(self, request: EscalationRequest) -> EscalationReceipt: ...


class RecordingEscalator:
    """Appends each request to a JSON-lines file, flushed to disk before returning."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def escalate(self, request: EscalationRequest) -> EscalationReceipt:
        line = request.model_dump_json() + "\n"
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self._path.open("a", encoding="utf-8") as record:
                fcntl.flock(record, fcntl.LOCK_EX)  # other processes append to the same file
                record.write(line)
                record.flush()
                os.fsync(record.fileno())
                position = record.tell()
        except OSError as error:
            raise EscalationError(f"could not record escalation in {self._path}: {error}") from error
        log.info("escalation.recorded", reason=request.reason.value, path=str(self._path))
        return EscalationReceipt(conversation_id=request.conversation_id, reference=f"{self._path}@{position}")

    def requests(self) -> list[EscalationRequest]:
        if not self._path.exists():
            return []
        lines = self._path.read_text(encoding="utf-8").splitlines()
        return [EscalationRequest.model_validate_json(line) for line in lines if line.strip()]
