"""The turn spool: durable entries, kept in arrival order, removed only on purpose, one drainer at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from chatbot.conversation.spool import UNREADABLE_DIR, SpooledTurn, TurnSpool
from chatbot.conversation.transcript import Role
from tests.conversation.test_store_helpers import conversation_id, turn


def test_entries_come_back_complete_and_in_arrival_order(tmp_path: Path) -> None:
    spool = TurnSpool(tmp_path / "spool")
    first, second = conversation_id(), conversation_id()
    turns = [turn(Role.CUSTOMER, f"message {n}", minute=10 - n) for n in range(5)]  # clock order reversed
    for n, one in enumerate(turns):
        spool.append(first if n % 2 == 0 else second, one)

    entries = spool.entries()

    assert [entry.turn for entry in entries] == turns
    assert [entry.conversation_id for entry in entries] == [first, second, first, second, first]
    assert len(spool) == 5
    assert not [path for path in (tmp_path / "spool").iterdir() if path.name.endswith(".partial")]
    on_disk = SpooledTurn.model_validate_json(entries[0].path.read_bytes())
    assert on_disk.turn == turns[0]


def test_a_new_spool_object_sees_what_an_earlier_one_wrote(tmp_path: Path) -> None:
    cid = conversation_id()
    TurnSpool(tmp_path / "spool").append(cid, turn(Role.BOT, "survives a restart", 0))

    entries = TurnSpool(tmp_path / "spool").entries()

    assert [(entry.conversation_id, entry.turn.text) for entry in entries] == [(cid, "survives a restart")]


def test_removed_entries_are_gone_and_removing_twice_is_harmless(tmp_path: Path) -> None:
    spool = TurnSpool(tmp_path / "spool")
    kept = spool.append(conversation_id(), turn(Role.CUSTOMER, "kept", 0))
    removed = spool.append(conversation_id(), turn(Role.CUSTOMER, "removed", 1))

    spool.remove(removed)
    spool.remove(removed)

    assert [entry.path for entry in spool.entries()] == [kept.path]


def test_an_unreadable_entry_is_moved_aside_not_dropped(tmp_path: Path) -> None:
    spool = TurnSpool(tmp_path / "spool")
    good = spool.append(conversation_id(), turn(Role.CUSTOMER, "good", 0))
    broken = tmp_path / "spool" / "00000000000000000001-1-00000001.json"
    broken.write_text('{"conversation_id": "trunc', encoding="utf-8")

    assert [entry.path for entry in spool.entries()] == [good.path]
    assert (tmp_path / "spool" / UNREADABLE_DIR / broken.name).read_text(encoding="utf-8").startswith("{")


def test_only_one_drainer_holds_the_spool_at_a_time(tmp_path: Path) -> None:
    first, second = TurnSpool(tmp_path / "spool"), TurnSpool(tmp_path / "spool")
    order: list[str] = []
    inside = threading.Event()

    def hold() -> None:
        with first.exclusive():
            order.append("first in")
            inside.set()
            time.sleep(0.2)
            order.append("first out")

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait()
    with second.exclusive():
        order.append("second in")
    holder.join()

    assert order == ["first in", "first out", "second in"]
