from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Commands configure structlog to print to the sys.stderr of the moment, which pytest closes after the
    test; later log lines (the moto server stopping) would fail."""
    yield
    structlog.reset_defaults()
