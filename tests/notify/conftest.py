from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.smtp import SmtpServer, start_smtp_server


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """A real aiosmtpd server on loopback; its mailbox is this test's ``data/mail`` (the default)."""
    server = start_smtp_server(tmp_path / "data" / "mail")
    yield server
    server.stop()
