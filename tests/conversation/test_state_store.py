"""The conversation-state contract, run against SQLite and DynamoDB (moto) alike."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest

from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.state import (
    CaseAlreadyClaimedError,
    ConversationNotFoundError,
    ConversationStateStore,
    ConversationStatus,
    InvalidTransitionError,
    WorkflowStage,
)
from chatbot.conversation.transcript import Role
from chatbot.models import EscalationReason, Sentiment, SentimentLabel
from tests.support.concurrency import run_at_once

ANGRY = Sentiment(label=SentimentLabel.NEGATIVE, score=0.9, negative=0.9, judged_by="test")


def escalate(store: ConversationStateStore, conversation_id: str, at: datetime | None = None) -> int:
    state = store.open_escalation(
        conversation_id, EscalationReason.NEGATIVE_SENTIMENT, "customer is stuck", ANGRY, requested_at=at
    )
    return state.escalation_number


def test_unknown_conversation_has_no_state(state_store: ConversationStateStore) -> None:
    assert state_store.get(new_conversation_id()) is None


def test_open_escalation_waits_for_an_expert_and_records_the_request(
    state_store: ConversationStateStore,
) -> None:
    conversation_id = new_conversation_id()
    requested_at = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)

    state = state_store.open_escalation(
        conversation_id, EscalationReason.HUMAN_REQUESTED, "wants a person", ANGRY, requested_at=requested_at
    )

    assert state.status is ConversationStatus.WAITING_FOR_EXPERT
    assert state.escalation_number == 1
    assert state.workflow_stage is WorkflowStage.REQUESTED
    assert state.reason is EscalationReason.HUMAN_REQUESTED
    assert state.sentiment == ANGRY
    assert state.escalated_at == requested_at
    assert state_store.get(conversation_id) == state


def test_a_second_escalation_while_waiting_changes_nothing(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    first = state_store.open_escalation(conversation_id, EscalationReason.HUMAN_REQUESTED, "one", None)

    again = state_store.open_escalation(conversation_id, EscalationReason.REPEATED_FAILURE, "two", None)

    assert again == first
    assert again.summary == "one"
    assert again.version == first.version


def test_every_write_bumps_the_version(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    opened = state_store.open_escalation(conversation_id, EscalationReason.HUMAN_REQUESTED, "", None)
    claimed = state_store.claim(conversation_id, "alice")

    assert claimed.version == opened.version + 1
    assert claimed.updated_at >= opened.updated_at


def test_notification_records_tier_and_task_token(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)

    state = state_store.record_workflow_stage(
        conversation_id, number, WorkflowStage.NOTIFIED, tier=1, task_token="token-1"
    )

    assert state.status is ConversationStatus.WAITING_FOR_EXPERT
    assert (state.workflow_stage, state.tier, state.task_token) == (WorkflowStage.NOTIFIED, 1, "token-1")


def test_a_decline_keeps_waiting_and_keeps_the_last_token(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(
        conversation_id, number, WorkflowStage.NOTIFIED, tier=1, task_token="t1"
    )

    state = state_store.record_workflow_stage(conversation_id, number, WorkflowStage.NOTIFIED, tier=1)

    assert state.status is ConversationStatus.WAITING_FOR_EXPERT
    assert state.task_token == "t1"
    assert state.tier == 1


def test_a_late_decline_does_not_wipe_the_next_offers_token(state_store: ConversationStateStore) -> None:
    """SQS reorders: the re-offer's notification can arrive before the decline of the first offer."""
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(
        conversation_id, number, WorkflowStage.NOTIFIED, tier=1, task_token="t1"
    )
    state_store.record_workflow_stage(
        conversation_id, number, WorkflowStage.NOTIFIED, tier=1, task_token="t2"
    )

    state = state_store.record_workflow_stage(conversation_id, number, WorkflowStage.NOTIFIED, tier=1)

    assert state.task_token == "t2"


def test_a_late_event_of_a_lower_tier_does_not_undo_the_next_tier(
    state_store: ConversationStateStore,
) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(
        conversation_id, number, WorkflowStage.NOTIFIED, tier=2, task_token="t2"
    )

    state = state_store.record_workflow_stage(conversation_id, number, WorkflowStage.NOTIFIED, tier=1)

    assert (state.tier, state.task_token) == (2, "t2")


def test_no_expert_available_hands_the_conversation_back_to_the_bot(
    state_store: ConversationStateStore,
) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(conversation_id, number, WorkflowStage.NOTIFIED, tier=2, task_token="t")

    state = state_store.record_workflow_stage(conversation_id, number, WorkflowStage.NO_EXPERT_AVAILABLE)

    assert state.status is ConversationStatus.BOT
    assert state.workflow_stage is WorkflowStage.NO_EXPERT_AVAILABLE
    assert state.task_token is None
    assert state.owner is None


def test_a_failed_workflow_hands_the_conversation_back_to_the_bot(
    state_store: ConversationStateStore,
) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)

    state = state_store.record_workflow_stage(conversation_id, number, WorkflowStage.FAILED)

    assert (state.status, state.workflow_stage) == (ConversationStatus.BOT, WorkflowStage.FAILED)


def test_events_of_an_older_escalation_are_ignored(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    first = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(conversation_id, first, WorkflowStage.NO_EXPERT_AVAILABLE)
    second = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(
        conversation_id, second, WorkflowStage.NOTIFIED, tier=1, task_token="new"
    )
    before = state_store.get(conversation_id)

    after_stale_notification = state_store.record_workflow_stage(
        conversation_id, first, WorkflowStage.NOTIFIED, tier=2, task_token="old"
    )
    after_stale_giving_up = state_store.record_workflow_stage(conversation_id, first, WorkflowStage.FAILED)

    assert second == first + 1
    assert after_stale_notification == before
    assert after_stale_giving_up == before
    assert state_store.get(conversation_id) == before
    assert before is not None and before.task_token == "new"


def test_an_assigned_event_gives_a_waiting_case_to_the_expert(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)

    state = state_store.record_workflow_stage(conversation_id, number, WorkflowStage.ASSIGNED, expert="bob")

    assert (state.status, state.owner, state.workflow_stage) == (
        ConversationStatus.EXPERT,
        "bob",
        WorkflowStage.ASSIGNED,
    )


def test_an_assigned_event_after_the_claim_keeps_the_owner(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(conversation_id, number, WorkflowStage.NOTIFIED, tier=1, task_token="t")
    claimed = state_store.claim(conversation_id, "alice")

    state = state_store.record_workflow_stage(conversation_id, number, WorkflowStage.ASSIGNED, expert="alice")

    assert claimed.task_token == "t"  # the console answers the workflow with it after claiming
    assert (state.owner, state.workflow_stage, state.task_token) == ("alice", WorkflowStage.ASSIGNED, None)


def test_workflow_events_for_an_unknown_conversation_are_an_error(
    state_store: ConversationStateStore,
) -> None:
    with pytest.raises(ConversationNotFoundError):
        state_store.record_workflow_stage(new_conversation_id(), 1, WorkflowStage.NOTIFIED, tier=1)


def test_claim_makes_the_expert_the_owner(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    escalate(state_store, conversation_id)

    state = state_store.claim(conversation_id, "alice")

    assert (state.status, state.owner) == (ConversationStatus.EXPERT, "alice")
    assert state_store.claim(conversation_id, "alice") == state  # a repeated click is harmless


def test_a_claimed_case_cannot_be_claimed_by_someone_else(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    escalate(state_store, conversation_id)
    state_store.claim(conversation_id, "alice")

    with pytest.raises(CaseAlreadyClaimedError, match=r"^already taken by alice$") as raised:
        state_store.claim(conversation_id, "bob")

    assert raised.value.owner == "alice"
    stored = state_store.get(conversation_id)
    assert stored is not None and stored.owner == "alice"


@pytest.mark.parametrize("expert", ["", "   "])
def test_a_claim_needs_a_name(state_store: ConversationStateStore, expert: str) -> None:
    conversation_id = new_conversation_id()
    escalate(state_store, conversation_id)

    with pytest.raises(InvalidTransitionError, match="name"):
        state_store.claim(conversation_id, expert)


def test_only_waiting_conversations_can_be_claimed(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    number = escalate(state_store, conversation_id)
    state_store.record_workflow_stage(conversation_id, number, WorkflowStage.NO_EXPERT_AVAILABLE)

    with pytest.raises(InvalidTransitionError, match="not waiting"):
        state_store.claim(conversation_id, "alice")
    with pytest.raises(ConversationNotFoundError):
        state_store.claim(new_conversation_id(), "alice")


def test_hand_back_and_resolve_belong_to_the_owner(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    escalate(state_store, conversation_id)
    state_store.claim(conversation_id, "alice")

    with pytest.raises(InvalidTransitionError, match="owned by alice"):
        state_store.hand_back(conversation_id, "bob")
    with pytest.raises(InvalidTransitionError, match="owned by alice"):
        state_store.resolve(conversation_id, "bob")
    resolved = state_store.resolve(conversation_id, "alice")

    assert resolved.status is ConversationStatus.RESOLVED
    assert state_store.resolve(conversation_id, "alice") == resolved
    with pytest.raises(InvalidTransitionError, match="resolved"):
        state_store.hand_back(conversation_id, "alice")


def test_handing_back_returns_to_the_bot_and_allows_a_new_escalation(
    state_store: ConversationStateStore,
) -> None:
    conversation_id = new_conversation_id()
    escalate(state_store, conversation_id)
    state_store.claim(conversation_id, "alice")

    handed_back = state_store.hand_back(conversation_id, "alice")
    second = escalate(state_store, conversation_id)

    assert (handed_back.status, handed_back.owner) == (ConversationStatus.BOT, None)
    assert second == 2
    stored = state_store.get(conversation_id)
    assert stored is not None and stored.status is ConversationStatus.WAITING_FOR_EXPERT


def test_open_cases_lists_waiting_and_owned_conversations_oldest_first(
    state_store: ConversationStateStore,
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    newest, oldest, middle, handed_back, resolved = (new_conversation_id() for _ in range(5))
    escalate(state_store, newest, start + timedelta(minutes=30))
    escalate(state_store, oldest, start)
    escalate(state_store, middle, start + timedelta(minutes=10))
    state_store.claim(middle, "alice")
    for conversation_id in (handed_back, resolved):
        escalate(state_store, conversation_id, start + timedelta(minutes=5))
        state_store.claim(conversation_id, "bob")
    state_store.hand_back(handed_back, "bob")
    state_store.resolve(resolved, "bob")

    cases = state_store.open_cases()

    assert [case.conversation_id for case in cases] == [oldest, middle, newest]
    assert [case.status for case in cases] == [
        ConversationStatus.WAITING_FOR_EXPERT,
        ConversationStatus.EXPERT,
        ConversationStatus.WAITING_FOR_EXPERT,
    ]


def test_messages_get_gapless_seqs_and_are_read_after_a_seq(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    other_conversation = new_conversation_id()
    texts = ["hello", "an answer", "I need a person", "Hi, Alice here"]
    roles = [Role.CUSTOMER, Role.BOT, Role.CUSTOMER, Role.EXPERT]
    for index, (role, text) in enumerate(zip(roles, texts, strict=True)):
        state_store.append_message(conversation_id, role, text, turn_id=f"turn-{index}")
    state_store.append_message(other_conversation, Role.CUSTOMER, "elsewhere", turn_id="turn-0")

    everything = state_store.messages_after(conversation_id, 0)
    latest = state_store.messages_after(conversation_id, 2)

    assert [message.seq for message in everything] == [1, 2, 3, 4]
    assert [message.text for message in everything] == texts
    assert [message.role for message in everything] == roles
    assert [message.seq for message in latest] == [3, 4]
    assert state_store.messages_after(conversation_id, 4) == []
    assert [message.seq for message in state_store.messages_after(other_conversation, 0)] == [1]


def test_append_is_idempotent_on_turn_id(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    first = state_store.append_message(
        conversation_id, Role.EXPERT, "on it", turn_id="t-1", author="alice", withheld=False
    )

    retried = state_store.append_message(conversation_id, Role.EXPERT, "on it", turn_id="t-1", author="alice")

    assert retried == first
    assert len(state_store.messages_after(conversation_id, 0)) == 1
    assert first.author == "alice"


def test_two_experts_claiming_at_once_leave_exactly_one_owner(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    escalate(state_store, conversation_id)
    experts = [f"expert-{index}" for index in range(6)]
    winners: list[str] = []
    refusals: list[str] = []

    def attempt(expert: str) -> None:
        try:
            state_store.claim(conversation_id, expert)
            winners.append(expert)
        except CaseAlreadyClaimedError as error:
            refusals.append(str(error))

    unexpected = run_at_once([functools.partial(attempt, expert) for expert in experts], timeout_s=60)

    assert unexpected == []
    assert len(winners) == 1
    assert refusals == [f"already taken by {winners[0]}"] * (len(experts) - 1)
    stored = state_store.get(conversation_id)
    assert stored is not None and stored.owner == winners[0]


def test_concurrent_appends_get_unique_gapless_seqs(state_store: ConversationStateStore) -> None:
    conversation_id = new_conversation_id()
    writers, per_writer = 4, 5

    def write(writer: int) -> None:
        for index in range(per_writer):
            state_store.append_message(
                conversation_id, Role.CUSTOMER, f"{writer}:{index}", turn_id=f"w{writer}-{index}"
            )

    # every writer runs twice at once, like a retried request racing the original
    unexpected = run_at_once([functools.partial(write, writer % writers) for writer in range(writers * 2)])

    messages = state_store.messages_after(conversation_id, 0)
    assert unexpected == []
    assert [message.seq for message in messages] == list(range(1, writers * per_writer + 1))
    assert sorted(message.turn_id for message in messages) == sorted(
        f"w{writer}-{index}" for writer in range(writers) for index in range(per_writer)
    )
    for writer in range(writers):  # each writer's messages keep their order
        own = [message.text for message in messages if message.text.startswith(f"{writer}:")]
        assert own == [f"{writer}:{index}" for index in range(per_writer)]
