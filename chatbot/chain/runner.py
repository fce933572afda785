"""Runs the turn chain under a deadline, streaming, and turns failures into escalations.

The chain runs in a worker thread; the caller (a Streamlit page, the CLI) reads its chunks from a queue
with a deadline, so a model that hangs cannot hang the page. If the chain raises or runs out of time,
the decision is made again by the same pure function with the error as a signal: the customer is handed
to an expert, and whatever was generated is kept, marked withheld.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ConfigDict, Field

from chatbot.chain.decision import EscalationPolicy, decide_escalation
from chatbot.chain.prompts import handoff_message
from chatbot.chain.signals import TurnSignals
from chatbot.models import EscalationDecision, Sentiment, Source

log = structlog.get_logger(__name__)

_DONE = object()


class TurnTimings(BaseModel):
    model_config = ConfigDict(frozen=True)

    decision_s: float = Field(description="From the start to the escalation decision.")
    first_token_s: float | None = Field(None, description="From the start to the first answer text.")
    total_s: float
    chunks: int = Field(0, description="Streamed answer pieces (one token each from the local model).")

    @property
    def tokens_per_s(self) -> float | None:
        if self.first_token_s is None or self.chunks < 2:
            return None
        generating = self.total_s - self.first_token_s
        return (self.chunks - 1) / generating if generating > 0 else None


class TurnOutcome(BaseModel):
    """What a turn produced: what the customer sees, and what is kept for the transcript."""

    model_config = ConfigDict(frozen=True)

    response: str = Field(description="The text shown to the customer: the answer or the handoff message.")
    answer: str | None = Field(None, description="Text the model generated, shown or not.")
    withheld: bool = Field(False, description="The generated answer was not shown to the customer.")
    sentiment: Sentiment | None
    sources: list[Source]
    escalation: EscalationDecision
    timings: TurnTimings


@dataclass
class _Worker:
    chain: Runnable[dict[str, Any], dict[str, Any]]
    inputs: dict[str, Any]
    chunks: queue.Queue[Any] = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        stream = self.chain.stream(self.inputs)
        try:
            for chunk in stream:
                if self.cancelled.is_set():
                    break
                self.chunks.put(chunk)
        except Exception as error:  # noqa: BLE001 - handed to the reader, which escalates on it
            self.chunks.put(error)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops the model generating for nobody
            self.chunks.put(_DONE)


class TurnStream:
    """One running turn. The decision is known on creation; ``text()`` streams the answer, if any."""

    def __init__(
        self,
        chain: Runnable[dict[str, Any], dict[str, Any]],
        inputs: dict[str, Any],
        policy: EscalationPolicy,
        timeout_s: float,
    ) -> None:
        self._policy = policy
        self._started = time.monotonic()
        self._deadline = self._started + timeout_s
        self._worker = _Worker(chain, inputs)
        self._thread = threading.Thread(target=self._worker.run, name="turn-chain", daemon=True)
        self._values: dict[str, Any] = {}
        self._answer_parts: list[str] = []
        self._first_token_s: float | None = None
        self._finished = False
        self._failure: TurnSignals | None = None
        self._thread.start()
        self._decision_s = self._read_until_decision()

    # --- reading the worker ----------------------------------------------------------------------
    def _next(self) -> Any:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            return self._worker.chunks.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError from None

    def _fail(self, *, error: BaseException | None = None, timed_out: bool = False) -> None:
        self._worker.cancelled.set()
        self._finished = True
        known: TurnSignals | None = self._values.get("signals")
        base = known or TurnSignals(sentiment=self._values.get("sentiment"))
        chain_error = None if error is None else f"{type(error).__name__}: {error}"
        self._failure = base.model_copy(update={"chain_error": chain_error, "timed_out": timed_out})
        log.warning("turn.failed", error=chain_error, timed_out=timed_out)

    def _absorb(self, chunk: dict[str, Any]) -> str:
        text = ""
        for key, value in chunk.items():
            if key != "response":
                self._values[key] = value
            elif "escalation" in self._values and not self._values["escalation"].escalate:
                text += value
            # a handoff's own text is dropped: outcome() gives the handoff message for the decision it reads
        return text

    def _read_until_decision(self) -> float:
        while "escalation" not in self._values and not self._finished:
            try:
                item = self._next()
            except TimeoutError:
                self._fail(timed_out=True)
                break
            if item is _DONE:
                self._fail(error=RuntimeError("the chain ended without a decision"))
            elif isinstance(item, BaseException):
                self._fail(error=item)
            else:
                self._absorb(item)
        return time.monotonic() - self._started

    # --- what the caller sees --------------------------------------------------------------------
    @property
    def escalation(self) -> EscalationDecision:
        if self._failure is not None:
            return decide_escalation(self._failure, self._policy)
        decision: EscalationDecision = self._values["escalation"]
        return decision

    @property
    def sentiment(self) -> Sentiment | None:
        sentiment: Sentiment | None = self._values.get("sentiment")
        return sentiment

    @property
    def sources(self) -> list[Source]:
        sources: list[Source] = self._values.get("sources", [])
        return sources

    def text(self) -> Iterator[str]:
        """Answer text as it is generated; nothing when the turn escalates. Stops at the deadline."""
        while not self._finished:
            try:
                item = self._next()
            except TimeoutError:
                self._fail(timed_out=True)
                return
            if item is _DONE:
                self._finished = True
            elif isinstance(item, BaseException):
                self._fail(error=item)
            else:
                piece = self._absorb(item)
                if piece:
                    if self._first_token_s is None:
                        self._first_token_s = time.monotonic() - self._started
                    self._answer_parts.append(piece)
                    yield piece

    def outcome(self) -> TurnOutcome:
        """Reads what is left, then what the turn produced."""
        for _ in self.text():
            pass
        escalation = self.escalation
        answer = "".join(self._answer_parts) or None
        if escalation.escalate:
            response = handoff_message(escalation.reason)
            withheld = answer is not None
        else:
            response = answer or ""
            withheld = False
        timings = TurnTimings(
            decision_s=self._decision_s,
            first_token_s=self._first_token_s,
            total_s=time.monotonic() - self._started,
            chunks=len(self._answer_parts),
        )
        return TurnOutcome(
            response=response,
            answer=answer,
            withheld=withheld,
            sentiment=self.sentiment,
            sources=[] if escalation.escalate and not withheld else self.sources,
            escalation=escalation,
            timings=timings,
        )


def run_turn(
    chain: Runnable[dict[str, Any], dict[str, Any]],
    inputs: dict[str, Any],
    policy: EscalationPolicy,
    timeout_s: float,
) -> TurnStream:
    """Starts the turn and returns once its escalation decision is known."""
    return TurnStream(chain, inputs, policy, timeout_s)
