"""The local chat model: a GGUF model (SmolLM2-135M-Instruct by default) on llama.cpp, as a LangChain model.

The weights are loaded once per process (:func:`load_llama_runtime` is cached). A llama.cpp context holds
one KV cache and is not thread-safe, so every generation takes the runtime's lock; Streamlit sessions run
in threads and queue on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import structlog
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    UsageMetadata,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from pydantic import ConfigDict, Field

from chatbot.errors import ModelBackendError
from chatbot.llm.context_window import PromptMessage, fit_to_context
from chatbot.llm.families import SMOLLM2, ModelFamily, adapt_messages

log = structlog.get_logger(__name__)


class LlamaRuntime:
    """One loaded model, its chat template and the lock that serialises use of its context."""

    def __init__(self, llama: Llama, model_name: str, formatter: Jinja2ChatFormatter) -> None:
        self.llama = llama
        self.model_name = model_name
        self.formatter = formatter
        self.lock = threading.Lock()

    @property
    def context_tokens(self) -> int:
        return int(self.llama.n_ctx())

    @contextmanager
    def exclusive(self, timeout_s: float) -> Iterator[Llama]:
        if not self.lock.acquire(timeout=timeout_s):
            raise ModelBackendError(f"the local model stayed busy for {timeout_s:.0f}s")
        try:
            yield self.llama
        finally:
            self.lock.release()

    # --- PromptTokenizer ---------------------------------------------------------------------
    def count_prompt(self, messages: Sequence[PromptMessage]) -> int:
        rendered = self.formatter(messages=cast(Any, list(messages)))
        prompt = rendered.prompt.encode("utf-8")
        return len(self.llama.tokenize(prompt, add_bos=not rendered.added_special, special=True))

    def tokenize(self, text: str) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.llama.detokenize(list(tokens)).decode("utf-8", errors="ignore")


@lru_cache(maxsize=2)
def load_llama_runtime(model_path: Path, context_tokens: int, threads: int) -> LlamaRuntime:
    """Load a GGUF model once per process and parameter set."""
    if not model_path.is_file():
        raise ModelBackendError(f"no GGUF model at {model_path} (set CHATBOT_LOCAL_LLM_PATH)")
    started = time.perf_counter()
    try:
        llama = Llama(
            model_path=str(model_path),
            n_ctx=context_tokens,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    except ValueError as error:
        raise ModelBackendError(f"llama.cpp cannot load {model_path}: {error}") from error
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise ModelBackendError(f"{model_path.name} carries no chat template")
    eos_id, bos_id = llama.token_eos(), llama.token_bos()
    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=llama.detokenize([eos_id], special=True).decode() if eos_id != -1 else "",
        bos_token=llama.detokenize([bos_id], special=True).decode() if bos_id != -1 else "",
        stop_token_ids=[eos_id],
    )
    log.info(
        "llm.loaded",
        model=model_path.name,
        context_tokens=context_tokens,
        threads=threads,
        seconds=round(time.perf_counter() - started, 2),
    )
    return LlamaRuntime(llama=llama, model_name=model_path.stem, formatter=formatter)


def _to_prompt_message(message: BaseMessage) -> PromptMessage:
    if isinstance(message, SystemMessage):
        return PromptMessage(role="system", content=message.text)
    if isinstance(message, HumanMessage):
        return PromptMessage(role="user", content=message.text)
    if isinstance(message, AIMessage):
        return PromptMessage(role="assistant", content=message.text)
    raise ModelBackendError(f"the local model cannot read a {type(message).__name__}")


class LlamaCppChatModel(BaseChatModel):
    """A LangChain chat model over a :class:`LlamaRuntime`; ``.stream()`` yields tokens as they are made."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    runtime: LlamaRuntime = Field(exclude=True)
    family: ModelFamily = SMOLLM2
    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.2, ge=0.0)
    repeat_penalty: float = Field(1.1, ge=1.0, description="Tiny models loop without it.")
    busy_timeout_s: float = Field(60.0, gt=0.0, description="Longest wait for another generation to end.")

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.runtime.model_name,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def _fitted_prompt(self, messages: Sequence[BaseMessage], max_tokens: int) -> list[PromptMessage]:
        prompt = [_to_prompt_message(message) for message in adapt_messages(self.family, messages)]
        budget = self.runtime.context_tokens - max_tokens
        fitted = fit_to_context(prompt, budget, self.runtime)
        if fitted != prompt:
            log.warning("llm.prompt_truncated", budget_tokens=budget, messages_kept=len(fitted))
        return fitted

    def _options(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_tokens": int(kwargs.get("max_tokens", self.max_tokens)),
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "repeat_penalty": float(kwargs.get("repeat_penalty", self.repeat_penalty)),
            "stop": stop or [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        options = self._options(stop, kwargs)
        with self.runtime.exclusive(self.busy_timeout_s) as llama:
            prompt = self._fitted_prompt(messages, options["max_tokens"])
            try:
                completion = cast(
                    dict[str, Any], llama.create_chat_completion(cast(Any, prompt), stream=False, **options)
                )
            except (ValueError, RuntimeError) as error:
                raise ModelBackendError(f"llama.cpp failed: {error}") from error
        choice = completion["choices"][0]
        usage = completion.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={
                "finish_reason": choice.get("finish_reason"),
                "model_name": self.runtime.model_name,
            },
            usage_metadata=UsageMetadata(
                input_tokens=int(usage.get("prompt_tokens", 0)),
                output_tokens=int(usage.get("completion_tokens", 0)),
                total_tokens=int(usage.get("total_tokens", 0)),
            ),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        options = self._options(stop, kwargs)
        with self.runtime.exclusive(self.busy_timeout_s) as llama:
            prompt = self._fitted_prompt(messages, options["max_tokens"])
            started = time.perf_counter()
            pieces = 0
            finish_reason: str | None = None
            try:
                stream = cast(
                    Iterator[dict[str, Any]],
                    llama.create_chat_completion(cast(Any, prompt), stream=True, **options),
                )
                for event in stream:
                    choice = event["choices"][0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    text = choice["delta"].get("content")
                    if not text:
                        continue
                    pieces += 1
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
            except (ValueError, RuntimeError) as error:
                raise ModelBackendError(f"llama.cpp failed: {error}") from error
        seconds = time.perf_counter() - started
        log.debug("llm.streamed", pieces=pieces, seconds=round(seconds, 3), finish_reason=finish_reason)
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                response_metadata={"finish_reason": finish_reason, "model_name": self.runtime.model_name},
            )
        )
