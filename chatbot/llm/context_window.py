"""Make a chat prompt fit a model's context window by shortening it, oldest content first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypedDict

from chatbot.errors import ModelBackendError

TRUNCATION_MARK = "…"


class PromptMessage(TypedDict):
    role: str
    content: str


class PromptTokenizer(Protocol):
    def count_prompt(self, messages: Sequence[PromptMessage]) -> int:
        """Tokens of the whole prompt as the model will see it (chat template included)."""
        ...

    def tokenize(self, text: str) -> list[int]: ...

    def detokenize(self, tokens: Sequence[int]) -> str: ...


def fit_to_context(
    messages: Sequence[PromptMessage], budget_tokens: int, tokenizer: PromptTokenizer
) -> list[PromptMessage]:
    """``messages`` shortened until the prompt takes at most ``budget_tokens``.

    In this order, stopping as soon as it fits:
    1. drop earlier turns, oldest first (the leading system message and the last message stay);
    2. cut the longest remaining message, which is where retrieved context sits: a system message loses
       its tail (its head holds the instructions and the best-ranked passages), any other its head (the
       question is at its end). Short instructions and a short question are never the ones cut.
    """
    fitted = list(messages)
    tokens = tokenizer.count_prompt(fitted)
    if tokens <= budget_tokens:
        return fitted

    first_turn = 1 if fitted and fitted[0]["role"] == "system" else 0
    while tokens > budget_tokens and len(fitted) - first_turn > 1:
        del fitted[first_turn]
        tokens = tokenizer.count_prompt(fitted)

    while tokens > budget_tokens:
        lengths = [len(tokenizer.tokenize(message["content"])) for message in fitted]
        longest = max(range(len(fitted)), key=lengths.__getitem__)
        if lengths[longest] == 0:
            break
        keep_head = fitted[longest]["role"] == "system"
        fitted[longest] = _shortened(fitted[longest], tokens - budget_tokens, keep_head, tokenizer)
        tokens = tokenizer.count_prompt(fitted)

    if tokens > budget_tokens:
        raise ModelBackendError(
            f"the prompt needs {tokens} tokens even emptied; the context window leaves {budget_tokens}"
        )
    return fitted


def _shortened(
    message: PromptMessage, excess_tokens: int, keep_head: bool, tokenizer: PromptTokenizer
) -> PromptMessage:
    content_tokens = tokenizer.tokenize(message["content"])
    # Re-tokenising a cut text can merge differently at the seam and the mark costs tokens: leave slack.
    keep = max(0, len(content_tokens) - excess_tokens - 4)
    if keep_head:
        content = tokenizer.detokenize(content_tokens[:keep]) + TRUNCATION_MARK
    else:
        content = TRUNCATION_MARK + tokenizer.detokenize(content_tokens[len(content_tokens) - keep :])
    return PromptMessage(role=message["role"], content=content if keep else "")
