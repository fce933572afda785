"""Runs in a separate process: claims each conversation as ``expert`` in step with a rival process."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from chatbot.conversation.state import CaseAlreadyClaimedError
from chatbot.conversation.state_sqlite import SqliteStateStore


def claim_each(
    database: Path,
    conversation_ids: list[str],
    expert: str,
    start: Barrier,
    results: Queue[tuple[str, str, str]],
) -> None:
    store = SqliteStateStore(database)
    for conversation_id in conversation_ids:
        start.wait(timeout=60)
        try:
            store.claim(conversation_id, expert)
            results.put((conversation_id, expert, "won"))
        except CaseAlreadyClaimedError as error:
            results.put((conversation_id, expert, str(error)))
