"""One customer's conversation: turns through the chain, escalation, live expert messages, transcripts.

Every turn is written twice, for two readers: the transcript (S3, through the spooling recorder) is the
durable record; the shared state store carries the messages live between the customer's page and the
expert console. While an expert is asked for or owns the conversation the bot stays silent and the
customer's messages go to the expert.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import structlog

from chatbot.chain.guard import validate_message
from chatbot.chain.prompts import NO_EXPERT_MESSAGE, WAITING_MESSAGE, handoff_message
from chatbot.chain.runner import TurnOutcome, TurnStream, run_turn
from chatbot.chain.turn import turn_input
from chatbot.conversation.escalation import EscalationRequest, MessageExcerpt
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.state import (
    OPEN_STATUSES,
    ConversationState,
    ConversationStatus,
    LiveMessage,
    WorkflowStage,
)
from chatbot.conversation.transcript import Feedback, Rating, Role, Transcript, Turn
from chatbot.errors import ChatbotError
from chatbot.llm.messages import history_from_turns
from chatbot.logging import bind_conversation
from chatbot.models import EscalationDecision, EscalationReason
from chatbot.services import ChatServices

log = structlog.get_logger(__name__)

LAST_MESSAGES_FOR_EXPERT = 6
SUMMARY_QUESTION_CHARS = 200


def _excerpt(turn: Turn) -> MessageExcerpt:
    return MessageExcerpt(role=turn.role, text=turn.text, at=turn.created_at, withheld=turn.withheld)


def case_summary(transcript: Transcript, decision: EscalationDecision) -> str:
    """A few lines for the expert's email and queue: what the customer wants and why they are escalated."""
    questions = transcript.customer_texts()
    first = questions[0] if questions else "(no message yet)"
    if len(first) > SUMMARY_QUESTION_CHARS:
        first = first[:SUMMARY_QUESTION_CHARS].rsplit(" ", 1)[0] + " …"
    return (
        f"Escalated: {decision.reason.value.replace('_', ' ')}. {decision.detail}\n"
        f"First question: {first}\n"
        f"Customer messages so far: {len(questions)}"
    )


@dataclass
class BotTurn:
    """A customer turn the bot handles. Read ``escalation`` first; stream ``text()``; then ``finish()``."""

    session: ChatSession
    customer_turn: Turn
    stream: TurnStream
    outcome: TurnOutcome | None = None

    @property
    def escalation(self) -> EscalationDecision:
        return self.stream.escalation

    def text(self) -> Iterator[str]:
        """The answer as it is generated; nothing when the turn escalates."""
        if self.stream.escalation.escalate:
            return
        yield from self.stream.text()

    def finish(self) -> TurnOutcome:
        if self.outcome is None:
            self.outcome = self.stream.outcome()
            self.session.complete_bot_turn(self)
        return self.outcome


@dataclass
class ExpertBoundTurn:
    """A customer message while an expert is asked for or in charge: the bot stays silent."""

    customer_turn: Turn
    notice: Turn | None = None


@dataclass
class ChatSession:
    services: ChatServices
    transcript: Transcript = field(default_factory=lambda: Transcript(conversation_id=new_conversation_id()))
    _live_seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def conversation_id(self) -> str:
        return self.transcript.conversation_id

    # --- what the customer sees ------------------------------------------------------------------
    def visible_turns(self) -> list[Turn]:
        return [turn for turn in self.transcript.turns if not turn.withheld]

    def state(self) -> ConversationState:
        state = self.services.state_store.get(self.conversation_id)
        return state or ConversationState(conversation_id=self.conversation_id)

    # --- a customer message ----------------------------------------------------------------------
    def send(self, text: str) -> BotTurn | ExpertBoundTurn:
        """Validates the message (raises :class:`~chatbot.errors.InvalidMessageError`) and starts its turn."""
        bind_conversation(self.conversation_id)
        message = validate_message(text, self.services.settings.max_message_chars)
        customer_turn = Turn(role=Role.CUSTOMER, text=message)
        state = self.state()
        if state.status in OPEN_STATUSES:
            self._keep(customer_turn)
            notice = None
            waiting_key = f"{self.conversation_id}-e{state.escalation_number}-waiting"
            waiting = state.status is ConversationStatus.WAITING_FOR_EXPERT
            if waiting and not self.transcript.has_turn(waiting_key):
                notice = self._system_note(waiting_key, WAITING_MESSAGE)
            return ExpertBoundTurn(customer_turn=customer_turn, notice=notice)
        previous = self.transcript.customer_texts()
        history = history_from_turns(self.transcript.turns)
        stream = run_turn(
            self.services.turn_chain,
            turn_input(message, previous, history),
            self.services.components.policy,
            self.services.settings.turn_timeout_s,
        )
        # the customer's turn goes into the transcript now, so a page refresh mid-answer keeps it
        customer_turn.sentiment = stream.sentiment
        customer_turn.escalation = stream.escalation
        self._keep(customer_turn)
        return BotTurn(session=self, customer_turn=customer_turn, stream=stream)

    def complete_bot_turn(self, turn: BotTurn) -> None:
        outcome = turn.outcome
        assert outcome is not None
        if outcome.escalation != turn.customer_turn.escalation:  # failed mid-answer: escalated late
            turn.customer_turn.escalation = outcome.escalation
            self._keep(turn.customer_turn)
        author = self.services.components.chat_model.get_name()
        if outcome.answer is not None and outcome.withheld:
            self._keep(
                Turn(
                    role=Role.BOT, text=outcome.answer, sources=outcome.sources, withheld=True, author=author
                )
            )
        escalated = outcome.escalation.escalate
        self._keep(
            Turn(
                role=Role.BOT,
                text=outcome.response,
                sources=[] if escalated else outcome.sources,
                escalation=outcome.escalation if escalated else None,  # marks the handoff message
                author=author,
            )
        )
        log.info(
            "turn.completed",
            escalate=outcome.escalation.escalate,
            reason=outcome.escalation.reason.value,
            decision_s=round(outcome.timings.decision_s, 4),
            first_token_s=outcome.timings.first_token_s,
            total_s=round(outcome.timings.total_s, 3),
            tokens_per_s=outcome.timings.tokens_per_s,
            chunks=outcome.timings.chunks,
        )
        if outcome.escalation.escalate:
            self._escalate(outcome.escalation)
            if outcome.answer is None:
                self._draft_answer_for_expert(turn.customer_turn)

    def request_human(self) -> str:
        """The "Talk to a person" button: escalates at once; returns what the customer is told."""
        bind_conversation(self.conversation_id)
        status = self.state().status
        if status in OPEN_STATUSES:
            return WAITING_MESSAGE
        decision = EscalationDecision(
            escalate=True,
            reason=EscalationReason.HUMAN_REQUESTED,
            detail="the customer pressed 'Talk to a person'",
        )
        message = handoff_message(decision.reason)
        self._keep(Turn(role=Role.BOT, text=message, escalation=decision))
        self._escalate(decision)
        return message

    def give_feedback(self, turn_id: str, rating: Rating | None) -> None:
        """Thumbs on a bot answer, stored with the turn (None takes it back)."""
        turn = self.transcript.turn(turn_id)
        if turn.role is not Role.BOT:
            raise ChatbotError("feedback applies to the bot's answers only")
        turn.feedback = None if rating is None else Feedback(rating=rating)
        self.services.recorder.record(self.conversation_id, turn)

    # --- what others write: the expert's messages, the workflow's outcome ---------------------------
    def poll(self) -> list[Turn]:
        """New turns for the customer's page since the last poll (expert messages, notices)."""
        store = self.services.state_store
        fresh: list[Turn] = []
        with self._lock:
            known = {turn.turn_id for turn in self.transcript.turns}
            for message in store.messages_after(self.conversation_id, self._live_seq):
                self._live_seq = max(self._live_seq, message.seq)
                if message.turn_id in known:
                    continue
                turn = _turn_of(message)
                self.transcript.append(turn)
                known.add(turn.turn_id)
                if not turn.withheld:
                    fresh.append(turn)
        state = self.state()
        if (
            state.workflow_stage is WorkflowStage.NO_EXPERT_AVAILABLE
            and state.status is ConversationStatus.BOT
        ):
            key = f"{self.conversation_id}-e{state.escalation_number}-no-expert"
            if key not in known:
                fresh.append(self._system_note(key, NO_EXPERT_MESSAGE))
        return fresh

    # --- internals -------------------------------------------------------------------------------
    def _system_note(self, turn_id: str, text: str) -> Turn:
        """A notice from the system; its id is deterministic so other processes write it only once.

        From here on the notice is in the transcript: that is how ``send`` and ``poll`` know it was given.
        """
        turn = Turn(turn_id=turn_id, role=Role.SYSTEM, text=text)
        self._keep(turn)
        return turn

    def _keep(self, turn: Turn) -> None:
        """Into the session, the live store (for the expert) and the durable transcript."""
        with self._lock:
            if not self.transcript.has_turn(turn.turn_id):
                self.transcript.append(turn)
            self.services.state_store.append_message(
                self.conversation_id,
                turn.role,
                turn.text,
                turn_id=turn.turn_id,
                author=turn.author,
                withheld=turn.withheld,
            )
        self.services.recorder.record(self.conversation_id, turn)

    def _escalate(self, decision: EscalationDecision) -> None:
        last = [_excerpt(turn) for turn in self.transcript.turns[-LAST_MESSAGES_FOR_EXPERT:]]
        request = EscalationRequest(
            conversation_id=self.conversation_id,
            reason=decision.reason,
            detail=decision.detail,
            sentiment=next(
                (turn.sentiment for turn in reversed(self.transcript.turns) if turn.sentiment is not None),
                None,
            ),
            summary=case_summary(self.transcript, decision),
            last_messages=last,
        )
        try:
            receipt = self.services.escalator.escalate(request)
        except ChatbotError:
            # the escalator already put the conversation back with the bot; the customer is told so
            log.exception("escalation.failed")
            self._system_note(
                f"{self.conversation_id}-escalation-failed-{len(self.transcript.turns)}", NO_EXPERT_MESSAGE
            )
            return
        log.info("escalation.requested", reference=receipt.reference, queued=receipt.queued)

    def _draft_answer_for_expert(self, customer_turn: Turn) -> None:
        """What the bot would have answered, kept withheld in the transcript for the expert to see."""
        services = self.services
        history = history_from_turns(
            [t for t in self.transcript.turns if t.created_at < customer_turn.created_at]
        )

        def draft() -> None:
            bind_conversation(self.conversation_id)
            try:
                result = services.answer_chain.invoke(turn_input(customer_turn.text, [], history))
            except Exception:  # a draft is a courtesy: its failure is logged, nothing is lost
                if services.closing:  # the process is shutting down under the draft
                    log.info("draft.abandoned_at_shutdown")
                else:
                    log.exception("draft.failed")
                return
            self._keep(
                Turn(
                    role=Role.BOT,
                    text=result["response"],
                    sources=result["sources"],
                    withheld=True,
                    author=services.components.chat_model.get_name(),
                )
            )

        services.background.submit(draft)


def _turn_of(message: LiveMessage) -> Turn:
    return Turn(
        turn_id=message.turn_id,
        role=message.role,
        text=message.text,
        created_at=message.created_at,
        author=message.author,
        withheld=message.withheld,
    )
