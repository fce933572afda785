"""What a support expert does with a case: claim it, answer the workflow, reply live, hand back, resolve.

The shared state store decides ownership (exactly one expert wins a claim); the workflow is told with the
task token of the latest notification. Every message and notice the expert causes is written like the
customer's: into the live store (the customer's page shows it) and the durable transcript.
"""

from __future__ import annotations

from typing import Any

import structlog

from chatbot.aws import client
from chatbot.chain.guard import validate_message
from chatbot.chain.prompts import EXPERT_JOINED_MESSAGE, EXPERT_LEFT_MESSAGE, RESOLVED_MESSAGE
from chatbot.config import Settings
from chatbot.conversation.recorder import TranscriptRecorder
from chatbot.conversation.state import (
    ConversationNotFoundError,
    ConversationState,
    ConversationStateStore,
    ConversationStatus,
    LiveMessage,
)
from chatbot.conversation.transcript import Role, Turn
from chatbot.errors import ChatbotError
from workflows.escalation import expert_actions
from workflows.escalation.errors import ExpertActionError

log = structlog.get_logger(__name__)

EXPERT_NAME_MAX_CHARS = 80


class ExpertDeskError(ChatbotError):
    """An expert's action cannot be done (no name, not the owner, nothing to answer)."""


def normalized_expert_name(name: str) -> str:
    """The name as the desk records it (a case's owner): outer and repeated whitespace collapsed."""
    return " ".join(name.split())


def checked_expert_name(name: str) -> str:
    cleaned = normalized_expert_name(name)
    if not cleaned:
        raise ExpertDeskError("enter your name first: customers see it next to your messages")
    if len(cleaned) > EXPERT_NAME_MAX_CHARS:
        raise ExpertDeskError(f"a name has at most {EXPERT_NAME_MAX_CHARS} characters")
    return cleaned


class ExpertDesk:
    def __init__(
        self,
        settings: Settings,
        state_store: ConversationStateStore,
        recorder: TranscriptRecorder,
        stepfunctions: Any | None = None,
    ) -> None:
        self._settings = settings
        self._store = state_store
        self._recorder = recorder
        self._stepfunctions = stepfunctions

    # --- reading ---------------------------------------------------------------------------------
    def queue(self) -> list[ConversationState]:
        return self._store.open_cases()

    def case(self, conversation_id: str) -> ConversationState:
        state = self._store.get(conversation_id)
        if state is None:
            raise ConversationNotFoundError(f"no conversation {conversation_id}")
        return state

    def messages(self, conversation_id: str, after_seq: int = 0) -> list[LiveMessage]:
        return self._store.messages_after(conversation_id, after_seq)

    # --- the workflow's offer ------------------------------------------------------------------
    def claim(self, conversation_id: str, expert: str) -> ConversationState:
        """Takes the case (raises ``CaseAlreadyClaimedError`` naming the owner), then accepts the offer."""
        name = checked_expert_name(expert)
        state = self._store.claim(conversation_id, name)
        self._note(state, f"{conversation_id}-e{state.escalation_number}-joined", EXPERT_JOINED_MESSAGE, name)
        self._accept_offer(conversation_id, name)
        return self.case(conversation_id)

    def decline(self, conversation_id: str, expert: str, why: str) -> None:
        name = checked_expert_name(expert)
        state = self.case(conversation_id)
        if state.status is not ConversationStatus.WAITING_FOR_EXPERT or not state.task_token:
            raise ExpertDeskError("there is no open offer for this case to decline")
        expert_actions.decline(
            state.task_token,
            name,
            why,
            settings=self._settings,
            stepfunctions=self._workflow(),
        )
        log.info("expert.declined", conversation_id=conversation_id, expert=name)

    def keep_offer_alive(self, state: ConversationState) -> bool:
        """Heartbeat while an expert reads a waiting case (``state``, just read); False when no live offer."""
        if state.status is not ConversationStatus.WAITING_FOR_EXPERT or not state.task_token:
            return False
        try:
            expert_actions.heartbeat(
                state.task_token, settings=self._settings, stepfunctions=self._workflow()
            )
        except ExpertActionError as error:
            log.info("expert.heartbeat_refused", conversation_id=state.conversation_id, error=str(error))
            return False
        return True

    # --- the conversation ------------------------------------------------------------------------
    def reply(self, conversation_id: str, expert: str, text: str) -> LiveMessage:
        name = checked_expert_name(expert)
        self._require_owner(conversation_id, name)
        message = validate_message(text, self._settings.max_message_chars)
        turn = Turn(role=Role.EXPERT, text=message, author=name)
        return self._keep(conversation_id, turn)

    def hand_back(self, conversation_id: str, expert: str) -> ConversationState:
        name = checked_expert_name(expert)
        state = self._store.hand_back(conversation_id, name)
        self._note(
            state, f"{conversation_id}-e{state.escalation_number}-handed-back", EXPERT_LEFT_MESSAGE, name
        )
        return state

    def resolve(self, conversation_id: str, expert: str) -> ConversationState:
        name = checked_expert_name(expert)
        state = self._store.resolve(conversation_id, name)
        self._note(state, f"{conversation_id}-e{state.escalation_number}-resolved", RESOLVED_MESSAGE, name)
        return state

    # --- internals -------------------------------------------------------------------------------
    def _workflow(self) -> Any:
        """The desk's one Step Functions client: the console sends a heartbeat every poll of a case."""
        if self._stepfunctions is None:
            self._stepfunctions = client("stepfunctions", self._settings)
        return self._stepfunctions

    def _require_owner(self, conversation_id: str, expert: str) -> None:
        state = self.case(conversation_id)
        if state.status is not ConversationStatus.EXPERT or state.owner != expert:
            owner = f"owned by {state.owner}" if state.owner else state.status.value.replace("_", " ")
            raise ExpertDeskError(f"claim the case before replying (it is {owner})")

    def _accept_offer(self, conversation_id: str, expert: str) -> None:
        """Tell the workflow; a stale token is retried once with the newest one the store has seen."""
        tried: set[str] = set()
        for _ in range(2):
            token = self.case(conversation_id).task_token
            if not token or token in tried:
                break
            tried.add(token)
            try:
                expert_actions.accept(token, expert, settings=self._settings, stepfunctions=self._workflow())
            except ExpertActionError as error:
                log.warning("expert.accept_refused", conversation_id=conversation_id, error=str(error))
                continue
            log.info("expert.accepted", conversation_id=conversation_id, expert=expert)
            return
        # The store already makes this expert the owner, which is what the chat follows; the workflow
        # offer, if any is still open, times out into `no expert available`, which an owned case ignores.
        log.warning("expert.offer_not_accepted", conversation_id=conversation_id, expert=expert)

    def _note(self, state: ConversationState, turn_id: str, text: str, expert: str) -> None:
        self._keep(state.conversation_id, Turn(turn_id=turn_id, role=Role.SYSTEM, text=text, author=expert))

    def _keep(self, conversation_id: str, turn: Turn) -> LiveMessage:
        message = self._store.append_message(
            conversation_id, turn.role, turn.text, turn_id=turn.turn_id, author=turn.author
        )
        self._recorder.record(conversation_id, turn)
        return message
