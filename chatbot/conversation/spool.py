"""A durable, ordered spool of turns on their way to the transcript store: the recorder's write-ahead log.

Every turn is first written here, then drained into the store, so a turn survives the store being
unreachable and the process crashing at any point:

- one file per turn, ``<20-digit ns clock>-<pid>-<counter>.json``, holding a :class:`SpooledTurn`; it is
  written under a dot-name, fsynced, renamed into place and the directory fsynced, so an entry is either
  there complete or not at all;
- names sort in arrival order: strictly within a process (the clock part never goes backwards), by wall
  clock across processes sharing the folder;
- an entry is removed only after the store has the turn; a crash in between replays it, which is harmless
  because the store upserts by ``turn_id``;
- one drainer at a time (``fcntl`` lock on ``.drain.lock``, across threads and processes), so two drains
  never write an older version of a turn over a newer one;
- a file that cannot be read back is moved to ``unreadable/`` and logged, never silently dropped.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatbot.conversation.transcript import Turn, utc_now
from chatbot.errors import TranscriptWriteError
from chatbot.file_lock import exclusive_lock

log = structlog.get_logger(__name__)

UNREADABLE_DIR = "unreadable"
_LOCK_NAME = ".drain.lock"


class SpooledTurn(BaseModel):
    """What one spool file holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spool_version: Literal[1] = 1
    conversation_id: str
    turn: Turn
    spooled_at: datetime = Field(default_factory=utc_now)


@dataclass(frozen=True)
class SpoolEntry:
    path: Path
    conversation_id: str
    turn: Turn

    @property
    def name(self) -> str:
        return self.path.name


class _EntryNames:
    """Unique names that sort in arrival order within this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ns = 0
        self._counter = 0

    def next(self) -> str:
        with self._lock:
            self._last_ns = max(time.time_ns(), self._last_ns + 1)
            self._counter += 1
            return f"{self._last_ns:020d}-{os.getpid()}-{self._counter:08d}.json"


_NAMES = _EntryNames()


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class TurnSpool:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._cache: dict[str, SpoolEntry] = {}  # entries already parsed, by file name
        self._cache_lock = threading.Lock()

    def append(self, conversation_id: str, turn: Turn) -> SpoolEntry:
        """Durably add a turn; raises :class:`TranscriptWriteError` when the disk refuses."""
        name = _NAMES.next()
        path = self._directory / name
        partial = self._directory / f".{name}.partial"
        body = SpooledTurn(conversation_id=conversation_id, turn=turn).model_dump_json().encode("utf-8")
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(path)
            _fsync_directory(self._directory)
        except OSError as error:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise TranscriptWriteError(
                f"could not spool a turn of {conversation_id} in {path}: {error}"
            ) from error
        log.debug("spool.appended", conversation_id=conversation_id, turn_id=turn.turn_id, entry=name)
        return SpoolEntry(path=path, conversation_id=conversation_id, turn=turn)

    def entries(self) -> list[SpoolEntry]:
        """Pending entries, oldest first."""
        if not self._directory.is_dir():
            return []
        names = sorted(
            path.name
            for path in self._directory.iterdir()
            if path.suffix == ".json" and not path.name.startswith(".")
        )
        entries = []
        with self._cache_lock:
            pending = set(names)
            self._cache = {name: entry for name, entry in self._cache.items() if name in pending}
            for name in names:
                entry = self._cache.get(name) or self._read(self._directory / name)
                if entry is not None:
                    self._cache[name] = entry
                    entries.append(entry)
        return entries

    def _read(self, path: Path) -> SpoolEntry | None:
        try:
            spooled = SpooledTurn.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None  # drained by another process since we listed
        except (OSError, ValidationError) as error:
            quarantine = self._directory / UNREADABLE_DIR
            quarantine.mkdir(exist_ok=True)
            path.replace(quarantine / path.name)
            log.error(  # noqa: TRY400 - the message says it all; no traceback wanted
                "spool.unreadable_entry", entry=path.name, moved_to=str(quarantine), error=str(error)
            )
            return None
        return SpoolEntry(path=path, conversation_id=spooled.conversation_id, turn=spooled.turn)

    def remove(self, entry: SpoolEntry) -> None:
        with contextlib.suppress(FileNotFoundError):  # a crash after the store write replays; not an error
            entry.path.unlink()
        with self._cache_lock:
            self._cache.pop(entry.name, None)

    def __len__(self) -> int:
        return len(self.entries())

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held while draining: one drainer across threads and processes."""
        with exclusive_lock(self._directory / _LOCK_NAME):
            yield
