"""Conversation state in one SQLite file (WAL), shared by every session and process on the machine.

Every write runs in a ``BEGIN IMMEDIATE`` transaction: SQLite lets one writer in at a time, so a
read-decide-write is atomic across threads and processes. A connection per call keeps threads and forked
processes apart; WAL lets readers go on while a writer works.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import structlog

from chatbot.conversation import state_transitions as rules
from chatbot.conversation.state import (
    OPEN_STATUSES,
    ConversationNotFoundError,
    ConversationState,
    LiveMessage,
    StateStoreError,
)
from chatbot.conversation.transcript import Role
from chatbot.durable_sqlite import connect_durable, immediate_transaction, prepare_database

log = structlog.get_logger(__name__)

# schema migrations, applied in order; PRAGMA user_version records how many ran
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE conversation_state (
            conversation_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            escalated_at TEXT,
            version INTEGER NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX conversation_state_open ON conversation_state (status, escalated_at)",
        """CREATE TABLE live_message (
            conversation_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            turn_id TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (conversation_id, seq),
            UNIQUE (conversation_id, turn_id)
        )""",
    ),
)


class SqliteStateStore(rules.TransitionStore):
    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            prepare_database(path, self._migrate)
        except (OSError, sqlite3.Error) as error:
            raise StateStoreError(f"cannot open conversation state at {path}: {error}") from error

    @property
    def path(self) -> Path:
        return self._path

    # --- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def _migrate(connection: sqlite3.Connection) -> None:
        applied = int(connection.execute("PRAGMA user_version").fetchone()[0])
        for number, statements in enumerate(MIGRATIONS[applied:], start=applied + 1):
            for statement in statements:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version={number}")
            log.info("state.sqlite_migrated", version=number)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(connect_durable(self._path)) as connection:
                yield connection
        except sqlite3.Error as error:
            raise StateStoreError(f"cannot read conversation state at {self._path}: {error}") from error

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        try:
            with immediate_transaction(self._path) as connection:
                yield connection
        except sqlite3.Error as error:
            raise StateStoreError(f"cannot write conversation state at {self._path}: {error}") from error

    @staticmethod
    def _load(connection: sqlite3.Connection, conversation_id: str) -> ConversationState | None:
        row = connection.execute(
            "SELECT body FROM conversation_state WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
        return None if row is None else ConversationState.model_validate_json(row[0])

    def _apply(
        self, conversation_id: str, transition: rules.Transition, *, create: bool = False
    ) -> ConversationState:
        with self._writing() as connection:
            current = self._load(connection, conversation_id)
            if current is None:
                if not create:
                    raise ConversationNotFoundError(f"no conversation state for {conversation_id}")
                current = rules.new_state(conversation_id)
            changed = transition(current)
            if changed is current:
                return current
            written = rules.stamped(changed, current.version)
            connection.execute(
                """INSERT INTO conversation_state (conversation_id, status, escalated_at, version, body)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (conversation_id) DO UPDATE SET
                       status = excluded.status, escalated_at = excluded.escalated_at,
                       version = excluded.version, body = excluded.body""",
                (
                    conversation_id,
                    written.status.value,
                    None if written.escalated_at is None else rules.sortable_timestamp(written.escalated_at),
                    written.version,
                    written.model_dump_json(),
                ),
            )
        log.info(
            "state.changed",
            conversation_id=conversation_id,
            status=written.status.value,
            stage=written.workflow_stage.value,
            owner=written.owner,
            version=written.version,
        )
        return written

    # --- ConversationStateStore -------------------------------------------------------------

    def get(self, conversation_id: str) -> ConversationState | None:
        with self._reading() as connection:
            return self._load(connection, conversation_id)

    def open_cases(self) -> list[ConversationState]:
        statuses = sorted(status.value for status in OPEN_STATUSES)
        placeholders = ", ".join("?" for _ in statuses)
        with self._reading() as connection:
            rows = connection.execute(
                f"""SELECT body FROM conversation_state WHERE status IN ({placeholders})
                   ORDER BY escalated_at, conversation_id""",  # noqa: S608 - only "?" placeholders
                statuses,
            ).fetchall()
        return [ConversationState.model_validate_json(row[0]) for row in rows]

    def append_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        turn_id: str,
        author: str | None = None,
        withheld: bool = False,
    ) -> LiveMessage:
        with self._writing() as connection:
            existing = connection.execute(
                "SELECT body FROM live_message WHERE conversation_id = ? AND turn_id = ?",
                (conversation_id, turn_id),
            ).fetchone()
            if existing is not None:
                return LiveMessage.model_validate_json(existing[0])
            last_seq = connection.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM live_message WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
            message = LiveMessage(
                conversation_id=conversation_id,
                seq=int(last_seq) + 1,
                role=role,
                author=author,
                text=text,
                turn_id=turn_id,
                withheld=withheld,
            )
            connection.execute(
                "INSERT INTO live_message (conversation_id, seq, turn_id, body) VALUES (?, ?, ?, ?)",
                (conversation_id, message.seq, turn_id, message.model_dump_json()),
            )
        return message

    def messages_after(self, conversation_id: str, seq: int) -> list[LiveMessage]:
        with self._reading() as connection:
            rows = connection.execute(
                "SELECT body FROM live_message WHERE conversation_id = ? AND seq > ? ORDER BY seq",
                (conversation_id, seq),
            ).fetchall()
        return [LiveMessage.model_validate_json(row[0]) for row in rows]
