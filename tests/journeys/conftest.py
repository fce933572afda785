"""Fixtures of the end-to-end journeys: the real chat components, shared by every journey of the session."""

from __future__ import annotations

import pytest

from chatbot.chain.turn import TurnComponents
from tests.support.chat_services import session_components


@pytest.fixture(scope="session")
def components(tmp_path_factory: pytest.TempPathFactory) -> TurnComponents:
    """MiniLM over the fixture corpus, the trained sentiment classifier, SmolLM2 with short answers."""
    return session_components(tmp_path_factory)
