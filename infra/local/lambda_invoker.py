"""Asynchronous Lambda invocation without Lambda: a durable outbox and a worker thread in this process.

:meth:`InProcessLambdaInvoker.invoke_async` first commits the event to an SQLite outbox, then a worker
thread imports the function's handler and calls it as Lambda would (``handler(event, context)``). A row is
deleted only after the handler returned; when it raises (Step Functions unreachable, ...) the row stays and
is retried with exponential backoff, also by the next process that opens the same outbox. A lease keeps
two processes sharing the outbox from running the same row at once. After ``max_attempts`` failures, or at
once for an event the handler calls invalid, the row is kept as a dead letter and logged as an error.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict

from chatbot.conversation.lambda_escalator import InvocationReceipt
from chatbot.durable_sqlite import connect_durable, immediate_transaction, prepare_database
from chatbot.errors import ConfigError, EscalationError, InvalidLambdaEventError

log = structlog.get_logger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], object]

SCHEMA = """CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    function_name TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    leased_until REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0
)"""


def import_handler(path: str) -> LambdaHandler:
    """``package.module.function`` -> the function; a path that does not resolve is a :class:`ConfigError`."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name:
        raise ConfigError(f"handler {path!r} is not a dotted path like package.module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"handler {path!r}: cannot import {module_name}: {error}") from error
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise ConfigError(f"handler {path!r}: {module_name} has no function {attribute}")
    return handler  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LocalLambdaContext:
    """The parts of Lambda's context object a handler may read."""

    function_name: str
    aws_request_id: str
    deadline: float
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


class OutboxEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    function_name: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: float
    last_error: str | None
    dead: bool


class InProcessLambdaInvoker:
    def __init__(
        self,
        outbox_path: Path,
        functions: Mapping[str, LambdaHandler | str],
        *,
        confirm_within_s: float = 1.0,
        base_backoff_s: float = 0.5,
        max_backoff_s: float = 60.0,
        max_attempts: int = 50,
        lease_s: float = 60.0,
        poll_interval_s: float = 5.0,
        give_up_on: tuple[type[BaseException], ...] = (InvalidLambdaEventError,),
        start: bool = True,
    ) -> None:
        self._path = outbox_path
        self._functions = {
            name: import_handler(handler) if isinstance(handler, str) else handler
            for name, handler in functions.items()
        }
        self._confirm_within_s = confirm_within_s
        self._base_backoff_s = base_backoff_s
        self._max_backoff_s = max_backoff_s
        self._max_attempts = max_attempts
        self._lease_s = lease_s
        self._poll_interval_s = poll_interval_s
        self._give_up_on = give_up_on
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._outcomes: dict[int, threading.Event] = {}
        self._delivered: set[int] = set()
        self._outcomes_lock = threading.Lock()
        try:
            prepare_database(outbox_path, lambda connection: connection.execute(SCHEMA))
        except (OSError, sqlite3.Error) as error:
            raise EscalationError(f"cannot open the Lambda outbox {outbox_path}: {error}") from error
        if start:
            self.start()

    # --- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> InProcessLambdaInvoker:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._work, name="lambda-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the running handler call, if any, and end the worker; pending rows stay in the outbox."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            if self._thread.is_alive():
                log.error("lambda_outbox.worker_did_not_stop", outbox=str(self._path))

    # --- the LambdaInvoker protocol ---------------------------------------------------------

    def invoke_async(self, function_name: str, payload: Mapping[str, Any]) -> InvocationReceipt:
        """Commit the event to the outbox and wake the worker; ``queued`` unless it ran within the wait."""
        if function_name not in self._functions:
            raise EscalationError(
                f"no local handler for Lambda {function_name} (known: {sorted(self._functions)})"
            )
        body = json.dumps(payload)
        now = time.time()
        try:
            with immediate_transaction(self._path) as connection:
                cursor = connection.execute(
                    """INSERT INTO outbox (function_name, payload, created_at, next_attempt_at)
                       VALUES (?, ?, ?, ?)""",
                    (function_name, body, now, now),
                )
                row_id = int(cursor.lastrowid or 0)
        except sqlite3.Error as error:
            raise EscalationError(
                f"could not queue the {function_name} event in {self._path}: {error}"
            ) from error
        reference = f"outbox:{self._path.name}#{row_id}"
        log.info("lambda_outbox.queued", function=function_name, row=row_id)
        if self._thread is None or not self._thread.is_alive() or self._confirm_within_s <= 0:
            self._wake.set()
            return InvocationReceipt(reference=reference, queued=True)
        attempted = threading.Event()
        with self._outcomes_lock:
            self._outcomes[row_id] = attempted
        self._wake.set()
        attempted.wait(self._confirm_within_s)
        with self._outcomes_lock:
            self._outcomes.pop(row_id, None)
            delivered = row_id in self._delivered
            self._delivered.discard(row_id)
        return InvocationReceipt(reference=reference, queued=not delivered)

    # --- inspection -------------------------------------------------------------------------

    def entries(self, *, dead: bool | None = None) -> list[OutboxEntry]:
        """Rows still in the outbox, oldest first (``dead=True``: only dead letters)."""
        query = "SELECT id, function_name, payload, attempts, next_attempt_at, last_error, dead FROM outbox"
        arguments: tuple[int, ...] = ()
        if dead is not None:
            query += " WHERE dead = ?"
            arguments = (int(dead),)
        with closing(connect_durable(self._path)) as connection:
            rows = connection.execute(query + " ORDER BY id", arguments).fetchall()
        return [
            OutboxEntry(
                id=row[0],
                function_name=row[1],
                payload=json.loads(row[2]),
                attempts=row[3],
                next_attempt_at=row[4],
                last_error=row[5],
                dead=bool(row[6]),
            )
            for row in rows
        ]

    # --- the worker -------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.deliver_due()
                pause = self._seconds_until_next_due()
            except sqlite3.Error:
                log.exception("lambda_outbox.unreadable", outbox=str(self._path))
                pause = self._poll_interval_s
            self._wake.wait(pause)

    def _seconds_until_next_due(self) -> float:
        with closing(connect_durable(self._path)) as connection:
            row = connection.execute(
                "SELECT MIN(MAX(next_attempt_at, leased_until)) FROM outbox WHERE dead = 0"
            ).fetchone()
        if row is None or row[0] is None:
            return self._poll_interval_s
        return min(self._poll_interval_s, max(0.0, float(row[0]) - time.time()))

    def _lease_next(self) -> tuple[int, str, str, int] | None:
        now = time.time()
        with immediate_transaction(self._path) as connection:
            row = connection.execute(
                """SELECT id, function_name, payload, attempts FROM outbox
                   WHERE dead = 0 AND next_attempt_at <= ? AND leased_until <= ?
                   ORDER BY id LIMIT 1""",
                (now, now),
            ).fetchone()
            if row is None:
                return None
            connection.execute(
                "UPDATE outbox SET leased_until = ? WHERE id = ?", (now + self._lease_s, row[0])
            )
        return int(row[0]), str(row[1]), str(row[2]), int(row[3])

    def deliver_due(self) -> int:
        """Run every row that is due now; returns how many handlers succeeded."""
        succeeded = 0
        while not self._stopping.is_set():
            leased = self._lease_next()
            if leased is None:
                break
            if self._run(*leased):
                succeeded += 1
        return succeeded

    def _backoff_s(self, attempts: int) -> float:
        return float(min(self._max_backoff_s, self._base_backoff_s * 2 ** (attempts - 1)))

    def _run(self, row_id: int, function_name: str, payload: str, attempts: int) -> bool:
        event = json.loads(payload)
        conversation_id = event.get("conversation_id") if isinstance(event, dict) else None
        context = LocalLambdaContext(function_name, uuid.uuid4().hex, deadline=time.time() + self._lease_s)
        with structlog.contextvars.bound_contextvars(conversation_id=conversation_id):
            try:
                handler = self._functions[function_name]
                handler(event, context)
            except Exception as error:  # noqa: BLE001 - any handler failure keeps the row (logged there)
                self._record_failure(row_id, function_name, attempts + 1, error)
                self._attempted(row_id, delivered=False)
                return False
            with immediate_transaction(self._path) as connection:
                connection.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
            log.info("lambda_outbox.delivered", function=function_name, row=row_id, attempts=attempts + 1)
            self._attempted(row_id, delivered=True)
            return True

    def _record_failure(self, row_id: int, function_name: str, attempts: int, error: Exception) -> None:
        give_up = attempts >= self._max_attempts or isinstance(error, self._give_up_on)
        retry_in = self._backoff_s(attempts)
        with immediate_transaction(self._path) as connection:
            connection.execute(
                """UPDATE outbox
                   SET attempts = ?, next_attempt_at = ?, leased_until = 0, last_error = ?, dead = ?
                   WHERE id = ?""",
                (attempts, time.time() + retry_in, f"{type(error).__name__}: {error}", int(give_up), row_id),
            )
        if give_up:
            log.error(
                "lambda_outbox.gave_up",
                function=function_name,
                row=row_id,
                attempts=attempts,
                error=f"{type(error).__name__}: {error}",
            )
        else:
            log.warning(
                "lambda_outbox.retry_later",
                function=function_name,
                row=row_id,
                attempts=attempts,
                retry_in_s=round(retry_in, 2),
                error=f"{type(error).__name__}: {error}",
            )

    def _attempted(self, row_id: int, *, delivered: bool) -> None:
        with self._outcomes_lock:
            waiter = self._outcomes.get(row_id)
            if waiter is None:
                return
            if delivered:
                self._delivered.add(row_id)
            waiter.set()
