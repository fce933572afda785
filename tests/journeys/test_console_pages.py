"""The expert console (``chatbot/console_app.py``) driven with Streamlit's AppTest: the case queue and a case
read from the shared state store, and the local labeling page reached through the console's navigation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from chatbot.config import PROJECT_ROOT, load_settings
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.state import ConversationStatus
from chatbot.conversation.state_factory import make_state_store
from chatbot.conversation.transcript import Role
from chatbot.models import EscalationReason, Sentiment, SentimentLabel
from tests.labeling.samples import sample_items, write_input_manifest
from workflows.labeling.local_labeling import labeling_dir
from workflows.labeling.output_manifest import LabelStatus, read_output_manifest

CONSOLE = PROJECT_ROOT / "chatbot" / "console_app.py"
LABELING_PAGE = "ui/labeling_page.py"  # relative to the console script, as st.navigation names it


@pytest.fixture(autouse=True)
def fresh_console_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The console keeps its settings and desk in ``st.cache_resource``, which outlives an AppTest: each test
    starts without the previous test's (other data directory)."""
    monkeypatch.setenv("CHATBOT_TRANSCRIPT_STORE", "local")  # an expert's reply is recorded in tmp_path
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def open_console() -> AppTest:
    console = AppTest.from_file(str(CONSOLE), default_timeout=60)
    console.run()
    assert not console.exception
    return console


def test_the_queue_lists_a_waiting_case_and_opening_it_shows_the_conversation(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    store = make_state_store(settings)
    conversation_id = new_conversation_id()
    store.open_escalation(
        conversation_id,
        EscalationReason.NEGATIVE_SENTIMENT,
        "Escalated: negative sentiment.\nFirst question: My endpoint keeps failing!",
        Sentiment(label=SentimentLabel.NEGATIVE, score=0.93, negative=0.93, judged_by="local"),
    )
    conversation = [
        (Role.CUSTOMER, "My endpoint keeps failing!", False),
        (Role.BOT, "I'm sorry this has been frustrating. An expert will join.", False),
        (Role.BOT, "Check the endpoint's CloudWatch logs.", True),  # the draft, withheld
    ]
    for index, (role, text, withheld) in enumerate(conversation):
        store.append_message(conversation_id, role, text, turn_id=f"t{index}", withheld=withheld)

    console = open_console()
    assert [title.value for title in console.title] == ["Expert console"]
    assert [code.value for code in console.code] == [conversation_id]  # the queue's one row
    shown = [element.value for element in console.markdown]
    assert "waiting for expert" in shown and "negative sentiment" in shown
    assert "negative (P(neg) 0.93)" in shown

    console.button(key=f"open-{conversation_id}").click().run()
    assert not console.exception
    assert console.query_params["conversation_id"] == conversation_id
    assert [header.value for header in console.subheader] == [f"Case {conversation_id}"]
    bubbles = [(bubble.name, [text.value for text in bubble.markdown]) for bubble in console.chat_message]
    assert bubbles == [
        ("user", [conversation[0][1]]),
        ("assistant", [conversation[1][1]]),
        ("assistant", [conversation[2][1]]),
    ]
    assert any("Withheld" in warning.value for warning in console.warning)

    # the expert claims the case and answers; the customer's side reads it from the same store
    console.sidebar.text_input(key="expert_name").input("Alice").run()
    console.button(key="claim").click().run()
    assert not console.exception
    assert any("You own this case" in message.value for message in console.success)
    console.chat_input(key="reply").set_value("Hi, Alice here. Which endpoint is it?").run()
    assert not console.exception
    state = store.get(conversation_id)
    assert state is not None and (state.status, state.owner) == (ConversationStatus.EXPERT, "Alice")
    last = store.messages_after(conversation_id, 0)[-1]
    assert (last.role, last.author, last.text) == (
        Role.EXPERT,
        "Alice",
        "Hi, Alice here. Which endpoint is it?",
    )


def test_an_expert_whose_name_has_extra_spaces_still_gets_the_owner_controls(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    store = make_state_store(settings)
    conversation_id = new_conversation_id()
    store.open_escalation(
        conversation_id, EscalationReason.HUMAN_REQUESTED, "Escalated: asked for a person.", None
    )
    store.append_message(conversation_id, Role.CUSTOMER, "A person please.", turn_id="t0")

    console = open_console()
    console.query_params["conversation_id"] = conversation_id
    console.sidebar.text_input(key="expert_name").input("  Ann   Lee ").run()
    console.button(key="claim").click().run()
    assert not console.exception
    state = store.get(conversation_id)
    assert state is not None and (state.status, state.owner) == (ConversationStatus.EXPERT, "Ann Lee")
    assert [button.key for button in console.button if button.key in ("hand_back", "resolve")] == [
        "hand_back",
        "resolve",
    ]
    console.chat_input(key="reply").set_value("Ann here.").run()
    assert not console.exception
    last = store.messages_after(conversation_id, 0)[-1]
    assert (last.role, last.author, last.text) == (Role.EXPERT, "Ann Lee", "Ann here.")


def test_the_labeling_page_in_the_console_rates_an_item_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = sample_items()
    manifest = write_input_manifest(tmp_path / "relevance.manifest", items)
    monkeypatch.setenv("CHATBOT_LABELING_LOCAL_MANIFEST", str(manifest))
    monkeypatch.setenv("CHATBOT_LABELING_WORKERS_PER_ITEM", "1")

    console = open_console()
    console.switch_page(LABELING_PAGE).run()
    assert not console.exception
    assert [title.value for title in console.title] == ["Rate bot answers"]
    console.text_input(key="annotator").input("alice").run()
    assert items[0].answer in [element.value for element in console.markdown]

    console.radio(key="rating").set_value(2)
    console.text_area(key="comment").input("explains, does not answer")
    console.button(key="submit").click().run()
    assert not console.exception
    assert any("Saved: 2 - Slightly relevant" in message.value for message in console.success)
    assert {metric.label: metric.value for metric in console.metric}["Your ratings"] == "1 / 4"
    assert items[1].answer in [element.value for element in console.markdown]  # the next item

    console.button(key="export").click().run()
    assert not console.exception
    (exported,) = (labeling_dir(load_settings(data_dir=tmp_path / "data")) / "output").glob("*.manifest")
    assert any(str(exported) in message.value for message in console.success)
    output = read_output_manifest(exported)
    assert output.errors == []
    assert [record.status for record in output.records] == [LabelStatus.LABELED] + [LabelStatus.UNLABELED] * 3
    label = output.records[0].label
    assert label is not None and label.consolidated_rating == 2.0
    assert [(rating.worker_id, rating.comment) for rating in label.ratings] == [
        ("alice", "explains, does not answer")
    ]
