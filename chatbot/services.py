"""The long-lived objects of one chat process, built once from settings and shared by every session.

A Streamlit process keeps one :class:`ChatServices` in ``st.cache_resource``; the CLI builds one per command.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import structlog
from langchain_core.runnables import Runnable

from chatbot.chain.decision import EscalationPolicy
from chatbot.chain.embedding_cache import CachedEmbedder
from chatbot.chain.signals import SignalReader
from chatbot.chain.turn import TurnComponents, build_answer_chain, build_turn_chain
from chatbot.config import Settings
from chatbot.conversation.escalation import Escalator
from chatbot.conversation.recorder import BackgroundReplay, TranscriptRecorder
from chatbot.conversation.state import ConversationStateStore
from chatbot.llm.factory import make_chat_model
from chatbot.rag.embeddings import make_embedder
from chatbot.rag.knowledge_base import ensure_knowledge_base
from chatbot.sentiment.factory import make_sentiment_judge

log = structlog.get_logger(__name__)


def load_turn_components(settings: Settings) -> TurnComponents:
    """Models and index: the expensive part, loaded once per process."""
    embedder = CachedEmbedder(make_embedder(settings))
    return TurnComponents(
        settings=settings,
        retriever=ensure_knowledge_base(settings, embedder, progress=False),
        judge=make_sentiment_judge(settings, embedder),
        signal_reader=SignalReader(embedder, settings.repeat_similarity_threshold),
        policy=EscalationPolicy.from_settings(settings),
        chat_model=make_chat_model(settings),
    )


@dataclass
class ChatServices:
    settings: Settings
    components: TurnComponents
    recorder: TranscriptRecorder
    state_store: ConversationStateStore
    escalator: Escalator
    stop_on_close: list[Callable[[], object]] = field(default_factory=list)
    turn_chain: Runnable[dict[str, Any], dict[str, Any]] = field(init=False)
    answer_chain: Runnable[dict[str, Any], dict[str, Any]] = field(init=False)
    background: ThreadPoolExecutor = field(init=False)
    _replay: BackgroundReplay | None = field(default=None, init=False)
    _closed: threading.Event = field(default_factory=threading.Event, init=False)

    def __post_init__(self) -> None:
        self.turn_chain = build_turn_chain(self.components)
        self.answer_chain = build_answer_chain(self.components)
        # the bot's draft answers for experts run here, off the customer's critical path (transcript
        # writes do not: ChatSession._keep records each turn synchronously, spooled to disk first)
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat-background")

    @classmethod
    def load(cls, settings: Settings, components: TurnComponents | None = None) -> ChatServices:
        from chatbot.conversation.lambda_escalator import make_lambda_escalator, make_lambda_invoker
        from chatbot.conversation.state_factory import make_state_store

        state_store = make_state_store(settings)
        invoker = make_lambda_invoker(settings)
        services = cls(
            settings=settings,
            components=components or load_turn_components(settings),
            recorder=TranscriptRecorder.from_settings(settings),
            state_store=state_store,
            escalator=make_lambda_escalator(settings, state_store, invoker),
        )
        stop_invoker = getattr(invoker, "stop", None)
        if callable(stop_invoker):
            services.stop_on_close.append(stop_invoker)
        services._replay = services.recorder.start_background_replay(settings.spool_replay_interval_s)
        log.info("services.loaded", backend=settings.backend)
        return services

    @property
    def closing(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self.background.shutdown(wait=True)
        if self._replay is not None:
            self._replay.stop()
        for stop in self.stop_on_close:
            stop()
