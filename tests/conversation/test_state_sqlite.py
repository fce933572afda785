"""What only the SQLite store promises: one file shared safely by separate processes, WAL, migrations."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.state_sqlite import MIGRATIONS, SqliteStateStore
from chatbot.models import EscalationReason
from tests.conversation.sqlite_claimer import claim_each


def test_two_processes_claiming_at_once_leave_exactly_one_owner(tmp_path: Path) -> None:
    database = tmp_path / "state.sqlite3"
    store = SqliteStateStore(database)
    conversation_ids = [new_conversation_id() for _ in range(5)]
    for conversation_id in conversation_ids:
        store.open_escalation(conversation_id, EscalationReason.HUMAN_REQUESTED, "help", None)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=claim_each, args=(database, conversation_ids, expert, start, results))
        for expert in ("alice", "bob")
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * len(conversation_ids))]
    for process in processes:
        process.join(timeout=60)

    assert [process.exitcode for process in processes] == [0, 0]
    for conversation_id in conversation_ids:
        mine = sorted((expert, outcome) for case, expert, outcome in outcomes if case == conversation_id)
        winners = [expert for expert, outcome in mine if outcome == "won"]
        losers = [outcome for _, outcome in mine if outcome != "won"]
        assert len(winners) == 1, mine
        assert losers == [f"already taken by {winners[0]}"]
        stored = store.get(conversation_id)
        assert stored is not None and stored.owner == winners[0]


def test_the_database_is_in_wal_mode_and_fully_migrated(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "state.sqlite3"
    SqliteStateStore(database)
    SqliteStateStore(database)  # opening again migrates nothing twice

    with sqlite3.connect(database) as connection:
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        user_version = connection.execute("PRAGMA user_version").fetchone()[0]

    assert journal_mode == "wal"
    assert user_version == len(MIGRATIONS)
