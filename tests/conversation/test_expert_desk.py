"""The expert's side of an escalation, against the real local stack (moto, Step Functions, SMTP, pump)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.config import Settings
from chatbot.conversation.escalation import EscalationRequest, MessageExcerpt
from chatbot.conversation.expert_desk import ExpertDesk, ExpertDeskError
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.lambda_escalator import make_lambda_escalator
from chatbot.conversation.recorder import TranscriptRecorder
from chatbot.conversation.state import (
    CaseAlreadyClaimedError,
    ConversationState,
    ConversationStatus,
    WorkflowStage,
)
from chatbot.conversation.state_factory import make_state_store
from chatbot.conversation.transcript import Role
from chatbot.models import EscalationReason
from infra.local.lambda_invoker import InProcessLambdaInvoker
from infra.local.stack import LocalStack
from tests.local.sqs_helpers import wait_until
from tests.support.local_stack import running_local_stack

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    with running_local_stack(tmp_path / "data", monkeypatch, "desk") as stack:
        yield stack


def escalate(settings: Settings, invoker: InProcessLambdaInvoker) -> str:
    store = make_state_store(settings)
    conversation_id = new_conversation_id()
    make_lambda_escalator(settings, store, invoker).escalate(
        EscalationRequest(
            conversation_id=conversation_id,
            reason=EscalationReason.NEGATIVE_SENTIMENT,
            summary="Customer is upset about a failing endpoint.",
            last_messages=[MessageExcerpt(role=Role.CUSTOMER, text="Nothing works!", at=datetime.now(UTC))],
        )
    )
    return conversation_id


@pytest.fixture
def desk_and_case(stack: LocalStack) -> Iterator[tuple[ExpertDesk, str]]:
    settings = stack.settings
    invoker = InProcessLambdaInvoker(
        settings.outbox_path, {settings.trigger_workflow_function: settings.trigger_workflow_handler}
    )
    store = make_state_store(settings)
    desk = ExpertDesk(settings, store, TranscriptRecorder.from_settings(settings))
    try:
        conversation_id = escalate(settings, invoker)
        wait_until(lambda: desk.case(conversation_id).task_token is not None, timeout_s=20)
        yield desk, conversation_id
    finally:
        invoker.stop()


def test_the_email_reaches_the_local_smtp_server(
    stack: LocalStack, desk_and_case: tuple[ExpertDesk, str]
) -> None:
    _, conversation_id = desk_and_case
    assert stack.smtp is not None
    wait_until(lambda: len(stack.smtp.mailbox.ids()) >= 1 if stack.smtp else False, timeout_s=20)
    mail = stack.smtp.mailbox.read(stack.smtp.mailbox.ids()[0])
    assert conversation_id in mail.subject
    assert f"conversation_id={conversation_id}" in mail.text


def test_claiming_makes_one_owner_tells_the_customer_and_accepts_the_workflow_offer(
    desk_and_case: tuple[ExpertDesk, str],
) -> None:
    desk, conversation_id = desk_and_case

    state = desk.claim(conversation_id, "Alice")

    assert (state.status, state.owner) == (ConversationStatus.EXPERT, "Alice")
    notes = [message for message in desk.messages(conversation_id) if message.role is Role.SYSTEM]
    assert [note.text for note in notes] == ["An expert has joined the conversation."]
    wait_until(lambda: desk.case(conversation_id).workflow_stage is WorkflowStage.ASSIGNED, timeout_s=20)
    with pytest.raises(CaseAlreadyClaimedError, match="already taken by Alice"):
        desk.claim(conversation_id, "Bob")


def test_only_the_owner_replies_and_the_reply_is_live_and_in_the_transcript(
    desk_and_case: tuple[ExpertDesk, str], stack: LocalStack
) -> None:
    desk, conversation_id = desk_and_case
    desk.claim(conversation_id, "Alice")

    with pytest.raises(ExpertDeskError, match="claim the case"):
        desk.reply(conversation_id, "Bob", "I'll take it from here")
    reply = desk.reply(conversation_id, "Alice", "Hi, I'm Alice. Let's look at your endpoint.")

    assert (reply.role, reply.author) == (Role.EXPERT, "Alice")
    assert reply in desk.messages(conversation_id)
    transcript = TranscriptRecorder.from_settings(stack.settings).transcript(conversation_id)
    assert [(turn.role, turn.author) for turn in transcript.turns][-1] == (Role.EXPERT, "Alice")


def test_handing_back_returns_the_conversation_to_the_bot(desk_and_case: tuple[ExpertDesk, str]) -> None:
    desk, conversation_id = desk_and_case
    desk.claim(conversation_id, "Alice")

    state = desk.hand_back(conversation_id, "Alice")

    assert (state.status, state.owner) == (ConversationStatus.BOT, None)
    assert desk.messages(conversation_id)[-1].text.startswith("The expert has handed the conversation back")


def test_a_decline_reoffers_the_case_with_a_new_token(desk_and_case: tuple[ExpertDesk, str]) -> None:
    desk, conversation_id = desk_and_case
    first_token = desk.case(conversation_id).task_token

    desk.decline(conversation_id, "Bob", "in a meeting")

    def reoffered() -> ConversationState | None:
        state = desk.case(conversation_id)
        return state if state.task_token not in (None, first_token) else None

    wait_until(lambda: reoffered() is not None, timeout_s=20)
    assert desk.claim(conversation_id, "Alice").owner == "Alice"


def test_an_expert_needs_a_name(desk_and_case: tuple[ExpertDesk, str]) -> None:
    desk, conversation_id = desk_and_case
    with pytest.raises(ExpertDeskError, match="enter your name"):
        desk.claim(conversation_id, "   ")
