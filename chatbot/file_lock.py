"""An exclusive lock across threads and processes (Streamlit and the CLI may build the same index at once)."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_thread_locks: dict[Path, threading.Lock] = {}
_registry_lock = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    with _registry_lock:
        return _thread_locks.setdefault(path.resolve(), threading.Lock())


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold ``path`` (created if missing) exclusively; ``flock`` alone would not exclude our own threads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _thread_lock(path), path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
