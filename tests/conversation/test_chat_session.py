"""A customer's conversation with the real local models: answers, escalation, the expert, transcripts.

Models: MiniLM (index of the fixture corpus), the trained sentiment classifier, SmolLM2 with short outputs.
Escalations go through the real in-process Lambda invoker to a recording handler; the Step Functions path is
covered by the workflow and end-to-end tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.chain.turn import TurnComponents
from chatbot.config import Settings
from chatbot.conversation.expert_desk import ExpertDesk
from chatbot.conversation.session import BotTurn, ChatSession, ExpertBoundTurn
from chatbot.conversation.state import ConversationStatus
from chatbot.conversation.transcript import Rating, Role
from chatbot.errors import InvalidMessageError
from chatbot.models import EscalationReason
from chatbot.services import ChatServices
from tests.local import handlers
from tests.local.sqs_helpers import wait_until
from tests.support.chat_services import services_for

pytestmark = [pytest.mark.models, pytest.mark.slow]

CALM_QUESTION = "How do I delete a SageMaker Studio domain?"
ANGRY_MESSAGE = "This is ridiculous, I have wasted my whole day and your useless bot keeps failing me!"


@pytest.fixture
def services(tmp_path: Path, components: TurnComponents) -> Iterator[ChatServices]:
    handlers.calls.clear()
    services = services_for(components, tmp_path / "data")
    yield services
    services.close()


@pytest.fixture
def settings(services: ChatServices) -> Settings:
    return services.settings


def ask(session: ChatSession, text: str) -> tuple[BotTurn, str]:
    turn = session.send(text)
    assert isinstance(turn, BotTurn)
    streamed = "".join(turn.text())
    turn.finish()
    return turn, streamed


def test_a_question_gets_a_streamed_answer_citing_the_documentation(services: ChatServices) -> None:
    session = ChatSession(services)

    turn, streamed = ask(session, CALM_QUESTION)

    assert turn.outcome is not None and not turn.outcome.escalation.escalate
    assert streamed.strip() and turn.outcome.response == streamed
    assert turn.outcome.timings.chunks > 1
    assert "gs-studio-delete-domain.md" in [source.doc for source in turn.outcome.sources]
    customer, bot = session.transcript.turns
    assert customer.role is Role.CUSTOMER and customer.sentiment is not None
    assert bot.role is Role.BOT and bot.sources and not bot.withheld
    stored = services.recorder.transcript(session.conversation_id)
    assert [stored_turn.turn_id for stored_turn in stored.turns] == [customer.turn_id, bot.turn_id]
    live = services.state_store.messages_after(session.conversation_id, 0)
    assert [message.role for message in live] == [Role.CUSTOMER, Role.BOT]


def test_an_upset_customer_is_handed_to_an_expert_and_the_bot_drafts_a_withheld_answer(
    services: ChatServices,
) -> None:
    session = ChatSession(services)

    turn, streamed = ask(session, ANGRY_MESSAGE)

    assert turn.escalation.escalate and turn.escalation.reason is EscalationReason.NEGATIVE_SENTIMENT
    assert streamed == ""
    assert turn.outcome is not None and "expert" in turn.outcome.response.lower()
    assert session.state().status is ConversationStatus.WAITING_FOR_EXPERT
    wait_until(lambda: len(handlers.calls) == 1, timeout_s=10)
    event = handlers.calls[0]["event"]
    assert (event["conversation_id"], event["reason"]) == (session.conversation_id, "negative_sentiment")
    assert any(message["text"] == ANGRY_MESSAGE for message in event["last_messages"])
    # the expert sees what the bot would have said, kept out of the customer's view
    wait_until(
        lambda: any(t.withheld for t in services.recorder.transcript(session.conversation_id).turns),
        timeout_s=60.0,
    )
    assert all(not t.withheld for t in session.visible_turns())


def test_while_an_expert_is_coming_the_bot_stays_silent(services: ChatServices) -> None:
    session = ChatSession(services)
    session.request_human()

    first = session.send("Hello? Is anyone there?")
    second = session.send("Still waiting")

    assert isinstance(first, ExpertBoundTurn) and first.notice is not None
    assert isinstance(second, ExpertBoundTurn) and second.notice is None
    assert [turn.role for turn in session.transcript.turns].count(Role.BOT) == 1  # the handoff message only


def test_the_expert_takes_over_live_and_hands_back_to_the_bot(
    services: ChatServices, settings: Settings
) -> None:
    session = ChatSession(services)
    session.request_human()
    desk = ExpertDesk(settings, services.state_store, services.recorder)

    desk.claim(session.conversation_id, "Alice")
    desk.reply(session.conversation_id, "Alice", "Hi, Alice here. What is the endpoint's name?")
    arrived = session.poll()

    assert [turn.role for turn in arrived] == [Role.SYSTEM, Role.EXPERT]
    assert arrived[1].author == "Alice"
    assert session.state().owner == "Alice"
    assert isinstance(session.send("It is called prod-endpoint"), ExpertBoundTurn)

    desk.hand_back(session.conversation_id, "Alice")
    assert [turn.role for turn in session.poll()] == [Role.SYSTEM]
    turn, streamed = ask(session, CALM_QUESTION)
    assert not turn.escalation.escalate and streamed.strip()


def test_thumbs_feedback_is_stored_with_the_answer(services: ChatServices) -> None:
    session = ChatSession(services)
    ask(session, CALM_QUESTION)
    answer = session.transcript.turns[-1]

    session.give_feedback(answer.turn_id, Rating.THUMBS_DOWN)

    stored = services.recorder.transcript(session.conversation_id).turn(answer.turn_id)
    assert stored.feedback is not None and stored.feedback.rating is Rating.THUMBS_DOWN
    assert len(services.recorder.transcript(session.conversation_id).turns) == 2


@pytest.mark.parametrize("message", ["", "   \n\t ", "x" * 100_000, "\x00\x01\x02binary\x00"])
def test_unusable_messages_are_refused_clearly_and_nothing_is_recorded(
    services: ChatServices, message: str
) -> None:
    session = ChatSession(services)

    with pytest.raises(InvalidMessageError) as refused:
        session.send(message)

    assert str(refused.value)
    assert session.transcript.turns == []
    assert services.state_store.messages_after(session.conversation_id, 0) == []
