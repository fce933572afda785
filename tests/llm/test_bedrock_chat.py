"""The Bedrock chat model against a real HTTP endpoint speaking the bedrock-runtime protocol."""

from __future__ import annotations

import asyncio

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from chatbot.llm.bedrock import BedrockChatModel
from chatbot.llm.factory import make_chat_model
from chatbot.llm.families import CLAUDE, TITAN_TEXT
from chatbot.llm.messages import build_chat_messages
from tests.llm.conftest import MakeSettings
from tests.support.fake_bedrock import ErrorReply, FakeBedrock, TextReply

SYSTEM_TEXT = "You answer questions about Amazon SageMaker from its documentation."
HISTORY = [HumanMessage("What is a notebook instance?"), AIMessage("A managed Jupyter server.")]


def test_titan_requests_carry_no_system_field_and_fold_it_into_the_first_user_turn(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock
) -> None:
    settings = make_aws_settings(llm_max_tokens=64, llm_temperature=0.3)
    model = make_chat_model(settings)
    assert isinstance(model, BedrockChatModel) and model.family == TITAN_TEXT

    reply = model.invoke(build_chat_messages(SYSTEM_TEXT, HISTORY, "How do I stop it?"))

    assert reply.text
    (request,) = fake_bedrock.requests_for("converse")
    assert request.model_id == "amazon.titan-text-express-v1"
    assert "system" not in request.body
    first_turn, *_, last_turn = request.body["messages"]
    assert first_turn["role"] == "user"
    assert first_turn["content"][0]["text"].startswith(SYSTEM_TEXT)
    assert first_turn["content"][0]["text"].endswith("What is a notebook instance?")
    assert last_turn == {"role": "user", "content": [{"text": "How do I stop it?"}]}
    assert request.body["inferenceConfig"] == {"maxTokens": 64, "temperature": 0.3}


def test_a_system_message_from_a_prompt_template_is_folded_for_titan_too(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock
) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_TEXT), ("human", "{question}")])
    chain = prompt | make_chat_model(make_aws_settings()) | StrOutputParser()

    answer = chain.invoke({"question": "What is SageMaker?"})

    assert answer == TextReply().text
    (request,) = fake_bedrock.requests_for("converse")
    assert "system" not in request.body
    assert request.body["messages"][0]["content"][0]["text"] == f"{SYSTEM_TEXT}\n\nWhat is SageMaker?"


def test_claude_and_nova_requests_carry_the_system_prompt(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock
) -> None:
    for model_id in ("anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0"):
        settings = make_aws_settings(bedrock_model_id=model_id)
        make_chat_model(settings).invoke(build_chat_messages(SYSTEM_TEXT, HISTORY, "How do I stop it?"))

    requests = fake_bedrock.requests_for("converse")
    assert [request.model_id for request in requests] == [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "amazon.nova-lite-v1:0",
    ]
    for request in requests:
        assert request.body["system"] == [{"text": SYSTEM_TEXT}]
        assert [turn["role"] for turn in request.body["messages"]] == ["user", "assistant", "user"]
        assert request.body["messages"][0]["content"] == [{"text": "What is a notebook instance?"}]
        assert request.body["inferenceConfig"]["maxTokens"] == settings.llm_max_tokens


def test_streaming_yields_several_chunks_through_converse_stream(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock
) -> None:
    settings = make_aws_settings()
    model = make_chat_model(settings)

    texts = [chunk.text for chunk in model.stream(build_chat_messages(SYSTEM_TEXT, [], "What is SageMaker?"))]

    assert len([text for text in texts if text]) >= 5
    assert "".join(texts) == TextReply().text
    (request,) = fake_bedrock.requests_for("converse-stream")
    assert "system" not in request.body
    assert not fake_bedrock.requests_for("converse")


def test_claude_streams_in_an_lcel_pipe(make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock) -> None:
    settings = make_aws_settings(bedrock_model_id="anthropic.claude-3-haiku-20240307-v1:0")
    model = make_chat_model(settings)
    assert isinstance(model, BedrockChatModel) and model.family == CLAUDE
    fake_bedrock.reply_with(TextReply("Use the StopNotebookInstance API or the console."))
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_TEXT), ("human", "{question}")])
    chain = prompt | model | StrOutputParser()

    pieces = list(chain.stream({"question": "How do I stop a notebook?"}))

    assert len(pieces) > 3
    assert "".join(pieces) == "Use the StopNotebookInstance API or the console."
    (request,) = fake_bedrock.requests_for("converse-stream")
    assert request.body["system"] == [{"text": SYSTEM_TEXT}]


def test_async_calls_are_reshaped_for_titan_too(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock
) -> None:
    settings = make_aws_settings()
    model = make_chat_model(settings)
    messages = [SystemMessage(SYSTEM_TEXT), HumanMessage("hi")]

    reply = asyncio.run(model.ainvoke(messages))

    assert reply.text == TextReply().text
    (request,) = fake_bedrock.requests_for("converse")
    assert "system" not in request.body
    assert request.body["messages"][0]["content"][0]["text"] == f"{SYSTEM_TEXT}\n\nhi"


def test_a_server_error_is_retried_then_answered(
    make_aws_settings: MakeSettings, fake_bedrock: FakeBedrock
) -> None:
    fake_bedrock.reply_with(ErrorReply(status=503, error_type="ServiceUnavailableException"))
    settings = make_aws_settings()

    reply = make_chat_model(settings).invoke(build_chat_messages(SYSTEM_TEXT, [], "hi"))

    assert reply.text == TextReply().text
    assert len(fake_bedrock.requests_for("converse")) == 2
