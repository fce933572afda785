"""The customer's chat page, run by Streamlit's AppTest with the real local models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from chatbot.chain.turn import TurnComponents
from chatbot.config import PROJECT_ROOT
from chatbot.conversation.transcript import Rating, Role
from chatbot.services import ChatServices
from chatbot.ui import resources
from tests.support.chat_services import services_for

pytestmark = [pytest.mark.models, pytest.mark.slow]

APP = PROJECT_ROOT / "chatbot" / "app.py"
QUESTION = "How do I delete a SageMaker Studio domain?"
ANGRY = "This is ridiculous, I have wasted my whole day and your useless bot keeps failing me!"


@pytest.fixture
def services(
    tmp_path: Path, components: TurnComponents, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ChatServices]:
    services = services_for(components, tmp_path / "data")
    # the page takes its process-wide objects from these two cached functions
    monkeypatch.setattr(resources, "chat_services", lambda: services)
    monkeypatch.setattr(resources, "settings", lambda: services.settings)
    yield services
    services.close()


@pytest.fixture
def page(services: ChatServices) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    assert not app.exception, app.exception
    return app


def conversation_id(page: AppTest) -> str:
    caption = next(caption.value for caption in page.caption if "Conversation ID" in caption.value)
    return caption.split("`")[1]


def ask(page: AppTest, text: str) -> None:
    page.chat_input[0].set_value(text).run()
    assert not page.exception, page.exception


def test_the_page_opens_a_conversation_with_a_visible_id(page: AppTest) -> None:
    assert page.title[0].value == "Amazon SageMaker support"
    assert conversation_id(page)
    assert "chatting with the SageMaker assistant" in page.caption[0].value
    assert page.button(key="talk-to-person").disabled is False


def test_an_answer_shows_its_sources_and_takes_thumbs_feedback(page: AppTest, services: ChatServices) -> None:
    ask(page, QUESTION)

    user, assistant = page.chat_message
    assert user.name == "user" and user.markdown[0].value == QUESTION
    assert assistant.name == "assistant" and assistant.markdown[0].value.strip()
    assert any(caption.value.startswith("Sources:") for caption in assistant.caption)
    titles = [expander.label for expander in assistant.expander]
    assert any("Delete an Amazon SageMaker Domain" in title for title in titles)

    page.feedback[0].set_value(0).run()  # thumbs down

    transcript = services.recorder.transcript(conversation_id(page))
    answer = [turn for turn in transcript.turns if turn.role is Role.BOT][-1]
    assert answer.feedback is not None and answer.feedback.rating is Rating.THUMBS_DOWN


def test_an_angry_message_gets_the_handoff_and_no_answer(page: AppTest, services: ChatServices) -> None:
    ask(page, ANGRY)

    assistant = page.chat_message[-1]
    assert "support expert" in assistant.markdown[0].value
    assert not [caption for caption in assistant.caption if caption.value.startswith("Sources:")]
    assert len(page.feedback) == 0  # a handoff message is not an answer to rate
    assert "A support expert has been asked to join." in page.caption[0].value
    assert page.button(key="talk-to-person").disabled is True


def test_the_talk_to_a_person_button_hands_over(page: AppTest, services: ChatServices) -> None:
    page.button(key="talk-to-person").click().run()

    assert "support expert" in page.chat_message[-1].markdown[0].value
    state = services.state_store.get(conversation_id(page))
    assert state is not None and state.status.value == "waiting_for_expert"


def test_the_chat_box_limits_message_length(page: AppTest) -> None:
    assert page.chat_input[0].max_chars == 4000


def test_a_binary_message_is_refused_with_a_clear_error(page: AppTest, services: ChatServices) -> None:
    ask(page, "\x00\x01\x02\x03\x04\x05\x06\x07")

    assert page.error and page.error[0].value
    assert len(page.chat_message) == 1  # only the echo of what was typed; nothing answered
    assert services.state_store.messages_after(conversation_id(page), 0) == []
