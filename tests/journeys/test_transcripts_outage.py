"""Issue 4: transcripts survive an S3 outage during a chat. The moto server stops mid-conversation; the
customer keeps chatting (and changes a thumbs rating) without noticing; when S3 is back the background
replay writes every turn, and S3 holds each exactly once, in order, with the feedback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.aws import client
from chatbot.chain.turn import TurnComponents
from chatbot.conversation.session import ChatSession, ExpertBoundTurn
from chatbot.conversation.transcript import Rating, Role
from chatbot.services import ChatServices
from infra.local.moto_server import MotoServer, start_moto_server
from tests.journeys.chat import ask, last_answer
from tests.local.sqs_helpers import unique, wait_until
from tests.support.chat_services import services_for

pytestmark = [pytest.mark.models, pytest.mark.slow]


@pytest.fixture
def services(
    components: TurnComponents, own_moto: list[MotoServer], tmp_path: Path
) -> Iterator[ChatServices]:
    # moto servers in one process share their data: a bucket of this test's own
    bucket = unique("outage-transcripts")
    services = services_for(
        components,
        tmp_path / "data",
        transcript_store="s3",
        transcript_bucket=bucket,
        aws_endpoint_url=own_moto[0].endpoint_url,
    )
    client("s3", services.settings).create_bucket(Bucket=bucket)
    replay = services.recorder.start_background_replay(interval_s=0.2)  # as ChatServices.load starts it
    yield services
    replay.stop()
    services.close()


def test_every_turn_reaches_s3_exactly_once_in_order_after_an_outage(
    services: ChatServices, own_moto: list[MotoServer]
) -> None:
    recorder = services.recorder
    session = ChatSession(services)

    # before: a question and its answer, written straight through
    ask(session, "How do I delete a SageMaker Studio domain?")
    first_answer = last_answer(session)
    assert recorder.pending() == 0
    stored_before = recorder.store.load(session.conversation_id)
    assert len(stored_before.turns) == 2

    # during: S3 is gone; the customer asks, rates, changes a rating, asks for a person, keeps writing
    own_moto[0].stop()
    outcome = ask(session, "How do serverless endpoints scale?")
    assert outcome.response.strip() and not outcome.escalation.escalate  # answered as usual
    second_answer = last_answer(session)
    session.give_feedback(first_answer.turn_id, Rating.THUMBS_UP)
    session.give_feedback(first_answer.turn_id, Rating.THUMBS_DOWN)  # changed their mind
    session.give_feedback(second_answer.turn_id, Rating.THUMBS_UP)
    handoff = session.request_human()
    waiting = session.send("Hello? Is anyone there?")
    assert isinstance(waiting, ExpertBoundTurn) and waiting.notice is not None
    during = session.transcript.turns[2:]
    assert [turn.role for turn in during] == [Role.CUSTOMER, Role.BOT, Role.BOT, Role.CUSTOMER, Role.SYSTEM]
    assert during[2].text == handoff
    assert recorder.pending() >= len(during)  # safe in the spool, not in S3

    # S3 comes back on the same port; the background replay drains the spool without a new turn
    own_moto.append(start_moto_server(port=own_moto[0].port))
    wait_until(lambda: recorder.pending() == 0, timeout_s=30)

    # after: the chat goes on and is written straight through again
    after = session.send("I am still here, take your time.")
    assert isinstance(after, ExpertBoundTurn) and after.notice is None
    assert recorder.pending() == 0

    stored = recorder.store.load(session.conversation_id)
    turn_ids = [turn.turn_id for turn in stored.turns]
    assert len(turn_ids) == len(set(turn_ids)) == 8  # every turn exactly once
    assert turn_ids == [turn.turn_id for turn in session.transcript.turns]  # in the order they happened
    assert [(turn.role, turn.text) for turn in stored.turns] == [
        (turn.role, turn.text) for turn in session.transcript.turns
    ]
    feedback = {turn.turn_id: turn.feedback.rating for turn in stored.turns if turn.feedback is not None}
    assert feedback == {first_answer.turn_id: Rating.THUMBS_DOWN, second_answer.turn_id: Rating.THUMBS_UP}
