from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from chatbot.conversation.transcript import Role, Turn
from chatbot.llm.families import (
    CLAUDE,
    CLAUDE_LEGACY,
    LLAMA,
    MISTRAL,
    MISTRAL_INSTRUCT,
    NOVA,
    SMOLLM2,
    TITAN_TEXT,
    UNKNOWN,
    adapt_messages,
    bedrock_family,
    provider_and_model,
)
from chatbot.llm.messages import build_chat_messages, history_from_turns


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("amazon.titan-text-express-v1", TITAN_TEXT),
        ("amazon.titan-text-premier-v1:0", TITAN_TEXT),
        ("amazon.nova-lite-v1:0", NOVA),
        ("us.amazon.nova-pro-v1:0", NOVA),
        ("anthropic.claude-3-haiku-20240307-v1:0", CLAUDE),
        ("eu.anthropic.claude-sonnet-4-20250514-v1:0", CLAUDE),
        ("anthropic.claude-v2:1", CLAUDE_LEGACY),
        ("meta.llama3-1-8b-instruct-v1:0", LLAMA),
        ("mistral.mistral-large-2407-v1:0", MISTRAL),
        ("mistral.mistral-7b-instruct-v0:2", MISTRAL_INSTRUCT),
        ("mistral.mixtral-8x7b-instruct-v0:1", MISTRAL_INSTRUCT),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-lite-v1", TITAN_TEXT),
        ("someone.new-model-v1", UNKNOWN),
    ],
)
def test_model_ids_map_to_their_family(model_id: str, family: object) -> None:
    assert bedrock_family(model_id) == family


def test_provider_is_read_past_an_inference_profile_prefix() -> None:
    assert provider_and_model("us.anthropic.claude-3-5-haiku-20241022-v1:0") == (
        "anthropic",
        "claude-3-5-haiku-20241022-v1:0",
    )


def test_unknown_family_assumes_only_what_every_model_accepts() -> None:
    assert not UNKNOWN.system_prompt
    assert not UNKNOWN.forced_tool_use
    assert not UNKNOWN.streaming


def test_titan_gets_the_system_text_at_the_top_of_the_first_user_message() -> None:
    messages = [
        SystemMessage("Answer from the context."),
        HumanMessage("first question"),
        AIMessage("first answer"),
        HumanMessage("second question"),
    ]
    adapted = adapt_messages(TITAN_TEXT, messages)
    assert not any(isinstance(message, SystemMessage) for message in adapted)
    assert adapted[0].text == "Answer from the context.\n\nfirst question"
    assert [message.text for message in adapted[1:]] == ["first answer", "second question"]


def test_families_with_system_prompts_keep_them() -> None:
    messages = [SystemMessage("rules"), HumanMessage("question")]
    assert adapt_messages(CLAUDE, messages) == messages


def test_system_text_alone_becomes_a_user_message_for_titan() -> None:
    adapted = adapt_messages(TITAN_TEXT, [SystemMessage("rules")])
    assert len(adapted) == 1
    assert isinstance(adapted[0], HumanMessage)
    assert adapted[0].text == "rules"


def test_build_chat_messages_opens_with_the_customer_and_ends_with_the_new_question() -> None:
    history = [AIMessage("Hello! How can I help?"), HumanMessage("q1"), AIMessage("a1")]
    messages = build_chat_messages("rules", history, "q2")
    for_claude = adapt_messages(CLAUDE, messages)
    assert [type(message) for message in for_claude] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert for_claude[-1].text == "q2"

    for_titan = adapt_messages(TITAN_TEXT, messages)
    assert [type(message) for message in for_titan] == [HumanMessage, AIMessage, HumanMessage]
    assert for_titan[0].text == "rules\n\nq1"


def test_build_chat_messages_without_history_folds_into_the_question_for_titan() -> None:
    (only,) = adapt_messages(TITAN_TEXT, build_chat_messages("rules", [], "What is SageMaker?"))
    assert only.text == "rules\n\nWhat is SageMaker?"
    assert adapt_messages(SMOLLM2, build_chat_messages("", [], "hi")) == [HumanMessage("hi")]


def test_history_keeps_what_the_customer_saw() -> None:
    turns = [
        Turn(role=Role.CUSTOMER, text="my endpoint fails"),
        Turn(role=Role.BOT, text="draft never shown", withheld=True),
        Turn(role=Role.SYSTEM, text="an expert joined"),
        Turn(role=Role.EXPERT, text="let me look"),
        Turn(role=Role.BOT, text="see the logs"),
    ]
    history = history_from_turns(turns)
    assert [(type(message), message.text) for message in history] == [
        (HumanMessage, "my endpoint fails"),
        (AIMessage, "let me look"),
        (AIMessage, "see the logs"),
    ]
