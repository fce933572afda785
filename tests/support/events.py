"""The JSON events of tests/events, as AWS services deliver them to our Lambdas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> Any:
    """The parsed event file ``name``, relative to tests/events."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))
