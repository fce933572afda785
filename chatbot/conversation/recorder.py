"""The one way the chat app and the expert console write transcript turns: :class:`TranscriptRecorder`.

``record(conversation_id, turn)`` writes the turn ahead into the local spool (durable: fsynced), then drains
the spool into the transcript store in order, so:

- a turn recorded while the store is unreachable stays in the spool (``data_dir/spool/transcripts``) and the
  caller gets :attr:`RecordOutcome.SPOOLED`, never an exception; the next ``record`` or a ``replay()`` (a
  background thread: :meth:`TranscriptRecorder.start_background_replay`) writes it once the store is back;
- a process that dies between spooling and writing replays on its next start (any recorder on that folder);
- replays are idempotent and keep order: the store upserts by ``turn_id`` and orders by ``created_at``
  (see :mod:`chatbot.conversation.store` for the conditional-write protocol), entries of one conversation are
  written together, oldest first, and only one process drains a spool folder at a time;
- recording the same ``turn_id`` again (feedback given later) replaces that turn.

With ``redact_at_write`` the turn's text is redacted before it is spooled, so PII never touches the disk.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

import structlog
from botocore.config import Config

from chatbot.config import Settings
from chatbot.conversation.ids import conversation_day
from chatbot.conversation.spool import SpoolEntry, TurnSpool
from chatbot.conversation.store import TranscriptStore, make_transcript_store, merge_turns
from chatbot.conversation.transcript import Transcript, Turn
from chatbot.errors import ChatbotError, TranscriptNotFoundError, TranscriptStoreUnavailableError
from chatbot.privacy.redaction import Redactor
from chatbot.privacy.transcripts import redact_turn

log = structlog.get_logger(__name__)

# The spool is the retry: fail fast rather than hold a chat turn through botocore's backoff.
RECORDER_S3_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10
)


class RecordOutcome(StrEnum):
    STORED = "stored"  # in the transcript store now
    SPOOLED = "spooled"  # safe on local disk, written when the store is back


@dataclass
class ReplayReport:
    written: int = 0
    pending: int = 0
    store_unavailable: bool = False


class TranscriptRecorder:
    def __init__(self, store: TranscriptStore, spool: TurnSpool, redactor: Redactor | None = None) -> None:
        self._store = store
        self._spool = spool
        self._redactor = redactor

    @classmethod
    def from_settings(cls, settings: Settings) -> TranscriptRecorder:
        return cls(
            make_transcript_store(settings, s3_config=RECORDER_S3_CONFIG),
            TurnSpool(settings.transcript_spool_dir),
            Redactor.from_settings(settings) if settings.redact_at_write else None,
        )

    @property
    def store(self) -> TranscriptStore:
        return self._store

    def record(self, conversation_id: str, turn: Turn) -> RecordOutcome:
        """Keep ``turn`` (upsert by ``turn_id``). Raises only for a bad conversation id or a failing disk."""
        conversation_day(conversation_id)  # a bad id is the caller's bug, not an outage: raise now
        if self._redactor is not None:
            turn = redact_turn(turn, self._redactor)
        entry = self._spool.append(conversation_id, turn)
        try:
            self.replay()
        except Exception:  # the turn is safe in the spool; a failing drain must not break the chat
            log.exception("transcript.replay_failed", conversation_id=conversation_id)
        outcome = RecordOutcome.SPOOLED if entry.path.exists() else RecordOutcome.STORED
        log.debug(
            "transcript.turn_recorded", conversation_id=conversation_id, turn_id=turn.turn_id, outcome=outcome
        )
        return outcome

    def replay(self) -> ReplayReport:
        """Write spooled turns to the store, oldest first; stops at the first sign the store is down."""
        report = ReplayReport()
        with self._spool.exclusive():
            entries = self._spool.entries()
            by_conversation: dict[str, list[SpoolEntry]] = {}
            for entry in entries:
                by_conversation.setdefault(entry.conversation_id, []).append(entry)
            for conversation_id, group in by_conversation.items():
                try:
                    self._store.upsert_turns(conversation_id, [entry.turn for entry in group])
                except TranscriptStoreUnavailableError as error:
                    report.store_unavailable = True
                    log.warning(
                        "transcript.store_unavailable",
                        pending=len(entries) - report.written,
                        error=str(error),
                    )
                    break
                except ChatbotError as error:  # this conversation only (e.g. its stored object is corrupt)
                    log.error(  # noqa: TRY400 - expected failure; the message says it all
                        "transcript.unwritable",
                        conversation_id=conversation_id,
                        turns=len(group),
                        error=str(error),
                    )
                    continue
                for entry in group:
                    self._spool.remove(entry)
                report.written += len(group)
        report.pending = len(entries) - report.written
        if report.written:
            log.info("transcript.replayed", written=report.written, pending=report.pending)
        return report

    def pending(self) -> int:
        return len(self._spool)

    def transcript(self, conversation_id: str) -> Transcript:
        """The stored transcript with turns still in the spool merged in."""
        try:
            stored = self._store.load(conversation_id)
        except TranscriptNotFoundError:
            stored = Transcript(conversation_id=conversation_id)
        waiting = [entry.turn for entry in self._spool.entries() if entry.conversation_id == conversation_id]
        return merge_turns(stored, waiting)

    def start_background_replay(self, interval_s: float) -> BackgroundReplay:
        replayer = BackgroundReplay(self, interval_s)
        replayer.start()
        return replayer


class BackgroundReplay:
    """A daemon thread calling :meth:`TranscriptRecorder.replay` every ``interval_s`` while turns wait."""

    def __init__(self, recorder: TranscriptRecorder, interval_s: float) -> None:
        self._recorder = recorder
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="transcript-replay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                if self._recorder.pending():
                    self._recorder.replay()
            except Exception:  # keep the thread alive; the next round tries again
                log.exception("transcript.background_replay_failed")
