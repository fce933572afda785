"""Real chat components for tests: the fixture corpus index, the trained classifier, SmolLM2 (short answers).

Built once per test session and shared; each test gets its own state directory through :func:`services_for`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.chain.decision import EscalationPolicy
from chatbot.chain.signals import SignalReader
from chatbot.chain.turn import TurnComponents
from chatbot.config import Settings, load_settings
from chatbot.conversation.lambda_escalator import make_lambda_escalator
from chatbot.conversation.recorder import TranscriptRecorder
from chatbot.conversation.state_factory import make_state_store
from chatbot.llm.factory import make_chat_model
from chatbot.rag.knowledge_base import ensure_knowledge_base
from chatbot.services import ChatServices
from infra.local.lambda_invoker import InProcessLambdaInvoker
from tests.conftest import FIXTURES
from tests.sentiment.local_models import local_models

_components: dict[Path, TurnComponents] = {}


def session_components(tmp_path_factory: pytest.TempPathFactory) -> TurnComponents:
    models = local_models(tmp_path_factory)
    if models.settings.data_dir not in _components:
        settings = load_settings(
            backend="local",
            data_dir=models.settings.data_dir,
            corpus_dir=FIXTURES / "corpus",
            llm_max_tokens=24,
            llm_threads=1,
        )
        _components[models.settings.data_dir] = TurnComponents(
            settings=settings,
            retriever=ensure_knowledge_base(settings, models.embedder),
            judge=models.judge,
            signal_reader=SignalReader(models.embedder, settings.repeat_similarity_threshold),
            policy=EscalationPolicy.from_settings(settings),
            chat_model=make_chat_model(settings),
        )
    return _components[models.settings.data_dir]


def services_for(
    components: TurnComponents,
    data_dir: Path,
    trigger_handler: str = "tests.local.handlers.record_call",
    **overrides: object,
) -> ChatServices:
    """Services over ``data_dir`` (local transcripts and SQLite state unless overridden); close() them."""
    settings: Settings = components.settings.model_copy(
        update={"data_dir": data_dir, "transcript_store": "local", "state_store": "sqlite", **overrides}
    )
    invoker = InProcessLambdaInvoker(
        settings.outbox_path, {settings.trigger_workflow_function: trigger_handler}
    )
    store = make_state_store(settings)
    return ChatServices(
        settings=settings,
        components=components,
        recorder=TranscriptRecorder.from_settings(settings),
        state_store=store,
        escalator=make_lambda_escalator(settings, store, invoker),
        stop_on_close=[invoker.stop],
    )
