"""The rules of conversation state, as pure functions that both stores apply inside their atomic write.

Each function takes the current state and returns the next one, or the *same object* when the change does
not apply (the store then writes nothing). Stores stamp ``version`` and ``updated_at`` with :func:`stamped`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime

import structlog

from chatbot.conversation.state import (
    OPEN_STATUSES,
    CaseAlreadyClaimedError,
    ConversationState,
    ConversationStatus,
    InvalidTransitionError,
    WorkflowStage,
)
from chatbot.conversation.transcript import as_utc, utc_now
from chatbot.models import EscalationReason, Sentiment

log = structlog.get_logger(__name__)

# stages after which the workflow has nothing left to say about this escalation
_GIVING_UP_STAGES = frozenset({WorkflowStage.NO_EXPERT_AVAILABLE, WorkflowStage.FAILED})


def sortable_timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order (SQLite column, DynamoDB sort key)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_state(conversation_id: str) -> ConversationState:
    return ConversationState(conversation_id=conversation_id)


def stamped(state: ConversationState, previous_version: int) -> ConversationState:
    return state.model_copy(update={"version": previous_version + 1, "updated_at": utc_now()})


def opened_escalation(
    state: ConversationState,
    reason: EscalationReason,
    summary: str,
    sentiment: Sentiment | None,
    requested_at: datetime | None,
) -> ConversationState:
    if state.status in OPEN_STATUSES:
        log.info("state.escalation_already_open", conversation_id=state.conversation_id, status=state.status)
        return state
    return state.model_copy(
        update={
            "status": ConversationStatus.WAITING_FOR_EXPERT,
            "owner": None,
            "escalation_number": state.escalation_number + 1,
            "reason": reason,
            "summary": summary,
            "sentiment": sentiment,
            "workflow_stage": WorkflowStage.REQUESTED,
            "tier": None,
            "task_token": None,
            "escalated_at": as_utc(requested_at or utc_now()),
        }
    )


def _ignored(state: ConversationState, stage: WorkflowStage, why: str) -> ConversationState:
    log.info(
        "state.workflow_event_ignored",
        conversation_id=state.conversation_id,
        stage=stage.value,
        status=state.status.value,
        why=why,
    )
    return state


def with_workflow_stage(
    state: ConversationState,
    escalation_number: int,
    stage: WorkflowStage,
    *,
    tier: int | None,
    task_token: str | None,
    expert: str | None,
) -> ConversationState:
    """Apply one workflow event. SQS does not keep order, so each rule also holds for late events."""
    if stage is WorkflowStage.NONE:
        raise InvalidTransitionError("a workflow event cannot set the stage back to `none`")
    if escalation_number < state.escalation_number:
        return _ignored(
            state, stage, f"escalation {escalation_number} is over, now {state.escalation_number}"
        )
    if escalation_number > state.escalation_number:
        # the chatbot opens an escalation before triggering it, so this is someone else's mistake
        log.warning(
            "state.workflow_event_from_future",
            conversation_id=state.conversation_id,
            event_escalation=escalation_number,
            current_escalation=state.escalation_number,
        )
        return _ignored(state, stage, "event of an escalation that was never opened")
    waiting = state.status is ConversationStatus.WAITING_FOR_EXPERT

    if stage in (WorkflowStage.REQUESTED, WorkflowStage.NOTIFIED):
        if not waiting:
            return _ignored(state, stage, "not waiting for an expert")
        if tier is not None and state.tier is not None and tier < state.tier:
            return _ignored(state, stage, f"tier {tier} is behind tier {state.tier}")
        # A declined or timed-out offer carries no token. It must not clear the current one: SQS does not keep
        # order, so the next offer's notification (with the live token) may already have been applied.
        # A stale token left behind is refused by Step Functions when an expert uses it.
        return state.model_copy(
            update={
                "workflow_stage": stage,
                "tier": tier or state.tier,
                "task_token": task_token or state.task_token,
            }
        )

    if stage is WorkflowStage.ASSIGNED:
        update: dict[str, object] = {"workflow_stage": stage, "task_token": None}
        if waiting and expert:
            update.update(status=ConversationStatus.EXPERT, owner=expert)
        elif state.status is not ConversationStatus.EXPERT and not waiting:
            return _ignored(state, stage, "conversation is no longer escalated")
        elif expert and state.owner and expert != state.owner:
            log.warning(
                "state.assigned_to_other_expert",
                conversation_id=state.conversation_id,
                owner=state.owner,
                assigned=expert,
            )
        return state.model_copy(update=update)

    # no expert available, or the workflow failed
    assert stage in _GIVING_UP_STAGES
    if not waiting:
        return _ignored(state, stage, "not waiting for an expert")
    return state.model_copy(
        update={
            "status": ConversationStatus.BOT,
            "owner": None,
            "workflow_stage": stage,
            "task_token": None,
        }
    )


def _checked_expert(expert: str) -> str:
    name = expert.strip()
    if not name:
        raise InvalidTransitionError("the expert's name must not be empty")
    return name


def claimed(state: ConversationState, expert: str) -> ConversationState:
    name = _checked_expert(expert)
    if state.status is ConversationStatus.EXPERT:
        if state.owner == name:
            return state
        raise CaseAlreadyClaimedError(state.conversation_id, state.owner or "another expert")
    if state.status is not ConversationStatus.WAITING_FOR_EXPERT:
        raise InvalidTransitionError(
            f"conversation {state.conversation_id} is {state.status.value}, not waiting for an expert"
        )
    # the task token stays: the console answers the workflow with it after the claim
    return state.model_copy(update={"status": ConversationStatus.EXPERT, "owner": name})


def _owned_by(state: ConversationState, expert: str, action: str) -> None:
    if state.status is not ConversationStatus.EXPERT:
        raise InvalidTransitionError(
            f"cannot {action} conversation {state.conversation_id}: it is {state.status.value}"
        )
    if state.owner != expert:
        raise InvalidTransitionError(
            f"cannot {action} conversation {state.conversation_id}: owned by {state.owner}, not {expert}"
        )


def handed_back(state: ConversationState, expert: str) -> ConversationState:
    name = _checked_expert(expert)
    _owned_by(state, name, "hand back")
    return state.model_copy(update={"status": ConversationStatus.BOT, "owner": None, "task_token": None})


def resolved(state: ConversationState, expert: str) -> ConversationState:
    name = _checked_expert(expert)
    if state.status is ConversationStatus.RESOLVED and state.owner == name:
        return state
    _owned_by(state, name, "resolve")
    return state.model_copy(update={"status": ConversationStatus.RESOLVED, "task_token": None})


Transition = Callable[[ConversationState], ConversationState]


class TransitionStore(abc.ABC):
    """The state-changing half of a store: every change is one rule above, applied atomically by ``_apply``.

    A store implements ``_apply`` (read, run the rule, write only if nobody wrote in between) and inherits
    the operations, so SQLite and DynamoDB follow exactly the same rules.
    """

    @abc.abstractmethod
    def _apply(
        self, conversation_id: str, transition: Transition, *, create: bool = False
    ) -> ConversationState: ...

    def open_escalation(
        self,
        conversation_id: str,
        reason: EscalationReason,
        summary: str,
        sentiment: Sentiment | None,
        *,
        requested_at: datetime | None = None,
    ) -> ConversationState:
        return self._apply(
            conversation_id,
            lambda state: opened_escalation(state, reason, summary, sentiment, requested_at),
            create=True,
        )

    def record_workflow_stage(
        self,
        conversation_id: str,
        escalation_number: int,
        stage: WorkflowStage,
        *,
        tier: int | None = None,
        task_token: str | None = None,
        expert: str | None = None,
    ) -> ConversationState:
        return self._apply(
            conversation_id,
            lambda state: with_workflow_stage(
                state, escalation_number, stage, tier=tier, task_token=task_token, expert=expert
            ),
        )

    def claim(self, conversation_id: str, expert: str) -> ConversationState:
        return self._apply(conversation_id, lambda state: claimed(state, expert))

    def hand_back(self, conversation_id: str, expert: str) -> ConversationState:
        return self._apply(conversation_id, lambda state: handed_back(state, expert))

    def resolve(self, conversation_id: str, expert: str) -> ConversationState:
        return self._apply(conversation_id, lambda state: resolved(state, expert))
