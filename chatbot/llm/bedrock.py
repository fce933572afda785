"""The AWS chat model: Bedrock's Converse API through ``langchain-aws``, aware of its model family."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.config import Config
from langchain_aws import ChatBedrockConverse
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from chatbot import aws
from chatbot.config import Settings
from chatbot.llm.families import ModelFamily, adapt_messages, bedrock_family

_CONVERSE_OPERATIONS = ("Converse", "ConverseStream")


def _drop_empty_system(params: dict[str, Any], **_: Any) -> None:
    # ChatBedrockConverse always sends `system`, an empty list when there is none; a model without
    # system-prompt support should not see the field at all.
    if not params.get("system"):
        params.pop("system", None)


def bedrock_runtime_client(settings: Settings, *, read_timeout_s: float, max_attempts: int) -> Any:
    """A ``bedrock-runtime`` client for the configured region and endpoint (a local server in tests).

    ``max_attempts`` counts every attempt, the first included: 1 means no retry.
    """
    config = Config(
        connect_timeout=min(5.0, read_timeout_s),
        read_timeout=read_timeout_s,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
    )
    runtime = aws.client(
        "bedrock-runtime", settings, endpoint_url=settings.bedrock_endpoint_url, config=config
    )
    for operation in _CONVERSE_OPERATIONS:
        runtime.meta.events.register(
            f"before-parameter-build.bedrock-runtime.{operation}", _drop_empty_system
        )
    return runtime


class BedrockChatModel(ChatBedrockConverse):
    """``ChatBedrockConverse`` that reshapes messages for its family (Titan: system text in the user turn)."""

    family: ModelFamily

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return super()._generate(adapt_messages(self.family, messages), stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        return super()._stream(adapt_messages(self.family, messages), stop, run_manager, **kwargs)


def make_bedrock_chat_model(
    settings: Settings,
    model_id: str,
    *,
    max_tokens: int,
    temperature: float,
    read_timeout_s: float,
    max_attempts: int = 3,
) -> BedrockChatModel:
    family = bedrock_family(model_id)
    return BedrockChatModel(
        model_id=model_id,
        family=family,
        client=bedrock_runtime_client(settings, read_timeout_s=read_timeout_s, max_attempts=max_attempts),
        region_name=settings.aws_region,
        max_tokens=max_tokens,
        temperature=temperature,
        disable_streaming=not family.streaming,
    )
