"""SQLite files that local queues and stores keep durable: synced commits, WAL, one writer at a time."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 30.0


def connect_durable(path: Path) -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) whose commits reach the disk before they return.

    ``synchronous=FULL``: a queued escalation or a state change survives a crash of the machine.
    """
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    connection.execute("PRAGMA synchronous=FULL")
    return connection


@contextmanager
def immediate_transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A new connection holding the write lock (``BEGIN IMMEDIATE``) for the block.

    Committed when the block ends, rolled back when it raises (the error goes on), closed either way.
    Taking the lock up front means two writers queue on SQLite's busy timeout instead of one failing
    half-way with "database is locked" on its first write.
    """
    with closing(connect_durable(path)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def prepare_database(path: Path, set_up: Callable[[sqlite3.Connection], object]) -> None:
    """Create the file (and its folder) in WAL mode, then run ``set_up`` (schema, migrations) in one
    write transaction, so two processes starting together set it up once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(connect_durable(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")  # persistent; cannot change inside a transaction
    with immediate_transaction(path) as connection:
        set_up(connection)
