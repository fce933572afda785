from __future__ import annotations

from collections.abc import Sequence

import pytest

from chatbot.errors import ModelBackendError
from chatbot.llm.context_window import TRUNCATION_MARK, PromptMessage, fit_to_context

TEMPLATE_TOKENS_PER_MESSAGE = 3


class WordTokenizer:
    """One token per word, plus a fixed chat-template cost per message: easy to reason about."""

    def __init__(self) -> None:
        self.vocabulary: list[str] = []

    def tokenize(self, text: str) -> list[int]:
        ids = []
        for word in text.split():
            if word not in self.vocabulary:
                self.vocabulary.append(word)
            ids.append(self.vocabulary.index(word))
        return ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        return " ".join(self.vocabulary[token] for token in tokens)

    def count_prompt(self, messages: Sequence[PromptMessage]) -> int:
        return sum(TEMPLATE_TOKENS_PER_MESSAGE + len(message["content"].split()) for message in messages)


def words(prefix: str, count: int) -> str:
    return " ".join(f"{prefix}{index}" for index in range(count))


def conversation() -> list[PromptMessage]:
    return [
        PromptMessage(role="system", content=words("rule", 20)),
        PromptMessage(role="user", content=words("oldq", 30)),
        PromptMessage(role="assistant", content=words("olda", 30)),
        PromptMessage(role="user", content=words("newq", 10)),
    ]


def test_a_prompt_that_fits_is_unchanged() -> None:
    tokenizer = WordTokenizer()
    messages = conversation()
    assert fit_to_context(messages, tokenizer.count_prompt(messages), tokenizer) == messages


def test_oldest_turns_go_first_and_the_system_prompt_and_question_stay() -> None:
    tokenizer = WordTokenizer()
    fitted = fit_to_context(conversation(), 70, tokenizer)
    assert [message["role"] for message in fitted] == ["system", "assistant", "user"]
    assert fitted[0]["content"] == words("rule", 20)
    assert fitted[-1]["content"] == words("newq", 10)
    assert tokenizer.count_prompt(fitted) <= 70


def test_an_oversized_question_keeps_its_end() -> None:
    tokenizer = WordTokenizer()
    messages = [
        PromptMessage(role="system", content="be brief"),
        PromptMessage(role="user", content=words("w", 100)),
    ]
    fitted = fit_to_context(messages, 50, tokenizer)
    assert tokenizer.count_prompt(fitted) <= 50
    assert fitted[0]["content"] == "be brief"
    assert fitted[1]["content"].startswith(TRUNCATION_MARK)
    assert fitted[1]["content"].endswith("w99")


def test_an_oversized_system_prompt_keeps_its_head() -> None:
    tokenizer = WordTokenizer()
    messages = [
        PromptMessage(role="system", content=words("ctx", 200)),
        PromptMessage(role="user", content=""),
    ]
    fitted = fit_to_context(messages, 60, tokenizer)
    assert tokenizer.count_prompt(fitted) <= 60
    assert fitted[0]["content"].startswith("ctx0 ctx1")
    assert fitted[0]["content"].endswith(TRUNCATION_MARK)


def test_the_long_message_is_cut_and_short_instructions_and_question_survive() -> None:
    tokenizer = WordTokenizer()
    context_in_system = [
        PromptMessage(role="system", content="rules: " + words("ctx", 200)),
        PromptMessage(role="user", content="what is it?"),
    ]
    fitted = fit_to_context(context_in_system, 80, tokenizer)
    assert fitted[1]["content"] == "what is it?"
    assert fitted[0]["content"].startswith("rules: ctx0")

    context_in_question = [
        PromptMessage(role="system", content="answer briefly"),
        PromptMessage(role="user", content=words("ctx", 200) + " what is it?"),
    ]
    fitted = fit_to_context(context_in_question, 80, tokenizer)
    assert fitted[0]["content"] == "answer briefly"
    assert fitted[1]["content"].endswith("what is it?")
    assert tokenizer.count_prompt(fitted) <= 80


def test_a_budget_smaller_than_the_template_is_a_clear_error() -> None:
    with pytest.raises(ModelBackendError, match="context window"):
        fit_to_context(conversation(), 2, WordTokenizer())
