"""What each chat-model family accepts, in one explicit table.

Bedrock's Converse API is uniform on the wire, but the models behind it are not: Titan Text rejects a
system prompt, Mistral 7B/Mixtral too, and only some families can be forced to call a tool (which is how
structured output works in ``ChatBedrockConverse``). Each chat model passes what it is given through
:func:`adapt_messages` for its own family, so the chain never needs to know which family answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ModelFamily:
    name: str
    system_prompt: bool
    """Accepts a system prompt (Converse ``system`` field, or a ``system`` role in the chat template)."""
    forced_tool_use: bool
    """Can be made to call a named tool, so structured output can go through tool use."""
    streaming: bool
    """Supports token streaming (ConverseStream)."""


TITAN_TEXT = ModelFamily("titan-text", system_prompt=False, forced_tool_use=False, streaming=True)
NOVA = ModelFamily("nova", system_prompt=True, forced_tool_use=True, streaming=True)
CLAUDE = ModelFamily("claude", system_prompt=True, forced_tool_use=True, streaming=True)
CLAUDE_LEGACY = ModelFamily("claude-legacy", system_prompt=True, forced_tool_use=False, streaming=True)
# Llama 3.1+ and Command R use tools, but Bedrock only lets them choose ("auto"), never forces one.
LLAMA = ModelFamily("llama", system_prompt=True, forced_tool_use=False, streaming=True)
COMMAND_R = ModelFamily("command-r", system_prompt=True, forced_tool_use=False, streaming=True)
MISTRAL = ModelFamily("mistral", system_prompt=True, forced_tool_use=True, streaming=True)
MISTRAL_INSTRUCT = ModelFamily("mistral-instruct", system_prompt=False, forced_tool_use=False, streaming=True)
SMOLLM2 = ModelFamily("smollm2", system_prompt=True, forced_tool_use=False, streaming=True)
# A model not in the table gets what every Converse model accepts: no system prompt, no tools, no stream.
UNKNOWN = ModelFamily("unknown", system_prompt=False, forced_tool_use=False, streaming=False)

# (provider, marker in the model name, family): the first row that matches wins, so specific rows come first.
BEDROCK_FAMILIES: tuple[tuple[str, str, ModelFamily], ...] = (
    ("amazon", "titan-text", TITAN_TEXT),
    ("amazon", "nova", NOVA),
    ("anthropic", "claude-v2", CLAUDE_LEGACY),
    ("anthropic", "claude-instant", CLAUDE_LEGACY),
    ("anthropic", "claude", CLAUDE),
    ("meta", "llama", LLAMA),
    ("cohere", "command-r", COMMAND_R),
    ("mistral", "mistral-7b", MISTRAL_INSTRUCT),
    ("mistral", "mixtral", MISTRAL_INSTRUCT),
    ("mistral", "", MISTRAL),
)

# Cross-region inference profiles prefix the model id with a geography: `us.anthropic.claude-...`.
_INFERENCE_PROFILE_PREFIXES = frozenset({"us", "eu", "apac", "us-gov", "jp", "au", "ca", "global"})


def provider_and_model(model_id: str) -> tuple[str, str]:
    """``("anthropic", "claude-3-haiku-20240307-v1:0")`` from a model id, inference profile id or ARN."""
    name = model_id.rsplit("/", 1)[-1]
    parts = name.split(".")
    if len(parts) > 2 and parts[0] in _INFERENCE_PROFILE_PREFIXES:
        parts = parts[1:]
    if len(parts) < 2:
        return "", name
    return parts[0], ".".join(parts[1:])


def bedrock_family(model_id: str) -> ModelFamily:
    provider, model = provider_and_model(model_id.lower())
    for family_provider, marker, family in BEDROCK_FAMILIES:
        if provider == family_provider and marker in model:
            return family
    log.warning("llm.family_unknown", model_id=model_id, assumed=UNKNOWN.name)
    return UNKNOWN


def adapt_messages(family: ModelFamily, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The same conversation in a form ``family`` accepts.

    For a family without system prompts, the system text goes at the top of the first user message
    (a user message is created when there is none), which is how Titan's own examples carry instructions.
    """
    if family.system_prompt or not any(isinstance(message, SystemMessage) for message in messages):
        return list(messages)
    system_text = "\n\n".join(message.text for message in messages if isinstance(message, SystemMessage))
    conversation = [message for message in messages if not isinstance(message, SystemMessage)]
    for index, message in enumerate(conversation):
        if isinstance(message, HumanMessage):
            conversation[index] = HumanMessage(content=f"{system_text}\n\n{message.text}")
            return conversation
    return [HumanMessage(content=system_text), *conversation]
