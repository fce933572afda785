from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.local import handlers


@pytest.fixture(autouse=True)
def _fresh_handler_calls() -> Iterator[None]:
    handlers.calls.clear()
    yield
    handlers.calls.clear()
