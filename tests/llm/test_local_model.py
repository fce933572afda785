"""The llama.cpp chat model with the real SmolLM2 weights (no assertions on the model's words)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from chatbot.config import load_settings
from chatbot.errors import ModelBackendError
from chatbot.llm.context_window import PromptMessage, fit_to_context
from chatbot.llm.factory import make_chat_model
from chatbot.llm.local import LlamaCppChatModel, load_llama_runtime
from chatbot.llm.messages import build_chat_messages

pytestmark = pytest.mark.models

SYSTEM_TEXT = "You are a concise assistant for Amazon SageMaker questions."


@pytest.fixture(scope="module")
def model() -> BaseChatModel:
    return make_chat_model(load_settings(llm_max_tokens=16, llm_context_tokens=1024, llm_threads=1))


def test_the_weights_are_loaded_once_per_process(model: BaseChatModel) -> None:
    again = make_chat_model(load_settings(llm_max_tokens=16, llm_context_tokens=1024, llm_threads=1))
    assert isinstance(model, LlamaCppChatModel)
    assert isinstance(again, LlamaCppChatModel)
    assert again.runtime is model.runtime


def test_stream_yields_several_chunks(model: BaseChatModel) -> None:
    messages = build_chat_messages(SYSTEM_TEXT, [], "What is Amazon SageMaker?")

    chunks = [chunk.text for chunk in model.stream(messages)]

    assert len([text for text in chunks if text]) > 3
    assert "".join(chunks).strip()


def test_invoke_reports_usage_within_the_token_limit(model: BaseChatModel) -> None:
    reply = model.invoke([HumanMessage("Name one AWS service.")])
    assert isinstance(reply, AIMessage)
    assert reply.text.strip()
    assert reply.usage_metadata is not None
    assert 0 < reply.usage_metadata["output_tokens"] <= 16
    assert reply.response_metadata["finish_reason"] in {"stop", "length"}


def test_works_in_an_lcel_pipe(model: BaseChatModel) -> None:
    chain = ChatPromptTemplate.from_messages([("system", SYSTEM_TEXT), ("human", "{question}")]) | model
    pieces = list((chain | StrOutputParser()).stream({"question": "What is a training job?"}))
    assert len(pieces) > 3
    assert (chain | StrOutputParser()).invoke({"question": "What is an endpoint?"}).strip()


def test_two_threads_at_once_both_get_answers(model: BaseChatModel) -> None:
    def ask(question: str) -> str:
        return "".join(chunk.text for chunk in model.stream([HumanMessage(question)]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(ask, ["What is SageMaker Studio?", "What is a SageMaker endpoint?"]))

    assert all(answer.strip() for answer in answers)


def test_a_stream_holds_the_model_until_it_ends(model: BaseChatModel) -> None:
    assert isinstance(model, LlamaCppChatModel)
    stream = model.stream([HumanMessage("What is SageMaker?")])
    next(stream)
    assert model.runtime.lock.locked(), "another thread must wait while this answer is produced"
    for _ in stream:
        pass
    assert not model.runtime.lock.locked()


def test_a_caller_waiting_too_long_for_the_model_gets_a_clear_error(model: BaseChatModel) -> None:
    assert isinstance(model, LlamaCppChatModel)
    impatient = LlamaCppChatModel(runtime=model.runtime, max_tokens=8, busy_timeout_s=0.2)
    with model.runtime.lock, pytest.raises(ModelBackendError, match="busy"):
        impatient.invoke([HumanMessage("hello")])


def test_a_conversation_longer_than_the_context_window_is_answered_not_refused(model: BaseChatModel) -> None:
    assert isinstance(model, LlamaCppChatModel)
    # each earlier turn alone overflows the window, so all are dropped and the prompt stays cheap to read
    long_turn = "SageMaker notebook instances run Jupyter on managed compute. " * 90
    history = [HumanMessage(long_turn), AIMessage(long_turn)]
    messages = build_chat_messages(SYSTEM_TEXT, history, "So what is it?")
    prompt = [PromptMessage(role="user", content=message.text) for message in messages]
    assert model.runtime.count_prompt(prompt) > model.runtime.context_tokens

    reply = model.invoke(messages)

    assert reply.text.strip()


@pytest.mark.parametrize("role", ["system", "user"])
def test_an_oversized_message_is_cut_to_fit_with_the_real_tokenizer(model: BaseChatModel, role: str) -> None:
    assert isinstance(model, LlamaCppChatModel)
    runtime = model.runtime
    huge = PromptMessage(
        role=role, content="Endpoints serve models over HTTPS; autoscaling adds instances. " * 120
    )
    prompt = [huge] if role == "user" else [huge, PromptMessage(role="user", content="Summarise.")]
    budget = runtime.context_tokens - 16

    fitted = fit_to_context(prompt, budget, runtime)

    assert runtime.count_prompt(prompt) > budget >= runtime.count_prompt(fitted)
    assert runtime.count_prompt(fitted) > budget - 40, "cut close to the budget, not far below it"
    assert fitted[-1]["content"].strip()


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelBackendError, match="no GGUF model"):
        load_llama_runtime(tmp_path / "absent.gguf", 1024, 1)
