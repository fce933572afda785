"""One write transaction on a fresh SQLite connection, for the local stores kept in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager


@contextmanager
def immediate_transaction(connect: Callable[[], sqlite3.Connection]) -> Iterator[sqlite3.Connection]:
    """A new connection holding the write lock (``BEGIN IMMEDIATE``) for the block.

    Committed when the block ends, rolled back when it raises (the error goes on), closed either way.
    Taking the lock up front means two writers queue on SQLite's busy timeout instead of one failing
    half-way with "database is locked" on its first write.
    """
    with closing(connect()) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
