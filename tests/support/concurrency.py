"""Races on purpose: calls released together, each in its own thread (no tests here)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def run_at_once(calls: Sequence[Callable[[], object]], timeout_s: float = 120.0) -> list[BaseException]:
    """Run every call in its own thread, all released by one barrier; returns what they raised.

    A call still running after ``timeout_s`` fails the test: a hang is a finding, not a pass.
    """
    start = threading.Barrier(len(calls))
    raised: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            call()
        except BaseException as error:  # collected for the test to assert on
            raised.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s)
    still_running = sum(thread.is_alive() for thread in threads)
    assert still_running == 0, f"{still_running} of {len(threads)} calls still running after {timeout_s} s"
    return raised
