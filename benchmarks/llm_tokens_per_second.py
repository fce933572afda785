"""Tokens per second of the local chat model, called from the main thread and from a worker thread.

Streamlit runs each page script in a thread, so the worker-thread figure is the one users see.
Usage: .venv/bin/python benchmarks/llm_tokens_per_second.py [--threads 2] [--max-tokens 128] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from langchain_core.messages import HumanMessage, SystemMessage

from chatbot.config import load_settings
from chatbot.llm.factory import make_chat_model
from chatbot.llm.local import LlamaCppChatModel

QUESTIONS = [
    "What is Amazon SageMaker?",
    "How do I deploy a trained model to a real-time endpoint?",
    "What is the difference between a notebook instance and SageMaker Studio?",
    "How can I reduce the cost of training jobs?",
]


def measure(model: LlamaCppChatModel, question: str) -> tuple[int, float, float]:
    """(generated tokens, seconds to the first token, seconds in total) for one streamed answer."""
    messages = [SystemMessage("You answer questions about Amazon SageMaker."), HumanMessage(question)]
    started = time.perf_counter()
    first_token_s = 0.0
    pieces: list[str] = []
    for chunk in model.stream(messages):
        if chunk.text and not pieces:
            first_token_s = time.perf_counter() - started
        if chunk.text:
            pieces.append(chunk.text)
    total_s = time.perf_counter() - started
    return len(model.runtime.tokenize("".join(pieces))), first_token_s, total_s


def run(model: LlamaCppChatModel, runs: int) -> list[tuple[int, float, float]]:
    return [measure(model, QUESTIONS[index % len(QUESTIONS)]) for index in range(runs)]


def report(label: str, results: list[tuple[int, float, float]]) -> None:
    tokens = sum(result[0] for result in results)
    seconds = sum(result[2] for result in results)
    first = statistics.median(result[1] for result in results)
    rate = tokens / seconds
    print(
        f"{label:<14} {tokens:>5} tokens in {seconds:6.2f} s = {rate:6.1f} tok/s, first token {first:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: settings)")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()

    overrides: dict[str, object] = {"llm_max_tokens": arguments.max_tokens}
    if arguments.threads:
        overrides["llm_threads"] = arguments.threads
    settings = load_settings(**overrides)
    model = make_chat_model(settings)
    assert isinstance(model, LlamaCppChatModel), "set CHATBOT_BACKEND=local"
    print(
        f"model {model.runtime.model_name}, threads {settings.llm_threads}, max tokens {arguments.max_tokens}"
    )

    measure(model, "Hello")  # warm-up: first use pages the weights in
    report("main thread", run(model, arguments.runs))

    worker_results: list[tuple[int, float, float]] = []
    worker = threading.Thread(target=lambda: worker_results.extend(run(model, arguments.runs)))
    worker.start()
    worker.join()
    report("worker thread", worker_results)


if __name__ == "__main__":
    main()
