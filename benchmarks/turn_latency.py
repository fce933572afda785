"""What the sentiment and decision steps add to answering: answer-only vs the full turn, as a ratio.

Same local models (SmolLM2 on llama.cpp, int8 ONNX MiniLM, the trained sentiment classifier), same
calm questions (``benchmarks/data/turn_questions.jsonl``: none escalates), same ``max_tokens``, greedy
decoding (temperature 0), so both variants generate the same tokens; the script checks that they do.

* answer-only: retrieval + generation (``build_answer_chain``), with a fixed "stay with the bot"
  decision in front so it runs through the same ``run_turn`` worker thread and deadline as a turn;
* full turn: ``build_turn_chain`` (sentiment + signals + decision + retrieval + generation) via
  ``run_turn``.

The variants alternate per question (A B, then B A on the next) to cancel drift. Before every run the
embedding cache and the judge's memory are fresh and llama.cpp's KV cache is emptied, so no run reuses
work of the one before. Also printed: the sentiment + decision steps alone, and what the seeds' second
sequential LLM call (SmolLM2 asked to classify the sentiment) costs on the same questions.

Run: ``.venv/bin/python benchmarks/turn_latency.py [--max-tokens 256] [--limit 12]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from _common import empty_kv_cache, load_average, turn_questions
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from chatbot.chain.decision import EscalationPolicy, decide_escalation
from chatbot.chain.embedding_cache import CachedEmbedder
from chatbot.chain.runner import run_turn
from chatbot.chain.signals import SignalReader
from chatbot.chain.turn import TurnComponents, build_answer_chain, build_turn_chain, turn_input
from chatbot.config import Settings, load_settings
from chatbot.llm.factory import make_chat_model
from chatbot.llm.local import LlamaCppChatModel
from chatbot.logging import configure_logging
from chatbot.models import EscalationDecision
from chatbot.rag.embedder import Embedder, Vectors
from chatbot.rag.embeddings import make_embedder
from chatbot.rag.knowledge_base import ensure_knowledge_base
from chatbot.sentiment.classifier import LinearSentimentModel
from chatbot.sentiment.local_judge import LocalSentimentJudge
from chatbot.sentiment.store import load_or_train

# the seeds' way: a second chat call that asks the answering model for the label
LLM_SENTIMENT_SYSTEM = "You classify the sentiment of customer support messages."
LLM_SENTIMENT_PROMPT = (
    "Classify the sentiment of this customer message as positive, neutral or negative. "
    "Answer with one word.\n\nMessage: {message}\nSentiment:"
)


class FreshCacheEmbedder:
    """The product's :class:`CachedEmbedder`, replaced by an empty one on :meth:`forget` (between runs)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._cached = CachedEmbedder(embedder)

    @property
    def model_id(self) -> str:
        return self._embedder.model_id

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    def forget(self) -> None:
        self._cached = CachedEmbedder(self._embedder)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._cached.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._cached.embed_query(text)


@dataclass
class Bench:
    settings: Settings
    embedder: FreshCacheEmbedder
    components: TurnComponents
    sentiment_model: LinearSentimentModel
    chat_model: LlamaCppChatModel

    def fresh_components(self) -> TurnComponents:
        """Empty embedding cache, a judge with no memory, an empty KV cache: a run as a first turn."""
        self.embedder.forget()
        empty_kv_cache(self.chat_model)
        return TurnComponents(
            settings=self.settings,
            retriever=self.components.retriever,
            judge=LocalSentimentJudge(self.sentiment_model, self.embedder),
            signal_reader=SignalReader(self.embedder, self.settings.repeat_similarity_threshold),
            policy=self.components.policy,
            chat_model=self.chat_model,
        )


@dataclass(frozen=True)
class Run:
    seconds: float
    decision_s: float
    first_token_s: float | None
    response: str
    tokens: int
    escalated: bool


def load_bench(max_tokens: int, threads: int | None) -> Bench:
    overrides: dict[str, object] = {"llm_temperature": 0.0, "llm_max_tokens": max_tokens}
    if threads is not None:
        overrides["llm_threads"] = threads
    settings = load_settings(**overrides)
    embedder = FreshCacheEmbedder(make_embedder(settings))
    chat_model = make_chat_model(settings)
    assert isinstance(chat_model, LlamaCppChatModel), "set CHATBOT_BACKEND=local"
    trained = load_or_train(settings, embedder)
    components = TurnComponents(
        settings=settings,
        retriever=ensure_knowledge_base(settings, embedder, progress=False),
        judge=LocalSentimentJudge(trained.model, embedder),
        signal_reader=SignalReader(embedder, settings.repeat_similarity_threshold),
        policy=EscalationPolicy.from_settings(settings),
        chat_model=chat_model,
    )
    return Bench(settings, embedder, components, trained.model, chat_model)


def answer_only_chain(components: TurnComponents) -> Runnable[dict[str, Any], dict[str, Any]]:
    """Retrieval + generation behind a constant decision, so ``run_turn`` can drive it like a turn."""
    stay = EscalationDecision.stay_with_bot()
    return RunnablePassthrough.assign(escalation=RunnableLambda(lambda _: stay)) | build_answer_chain(
        components
    )


def run_variant(bench: Bench, question: str, *, full: bool) -> Run:
    components = bench.fresh_components()
    chain = build_turn_chain(components) if full else answer_only_chain(components)
    started = time.perf_counter()
    stream = run_turn(chain, turn_input(question, [], []), components.policy, 120.0)
    outcome = stream.outcome()
    seconds = time.perf_counter() - started
    text = outcome.answer or ""
    return Run(
        seconds=seconds,
        decision_s=outcome.timings.decision_s,
        first_token_s=outcome.timings.first_token_s,
        response=text,
        tokens=len(bench.chat_model.runtime.tokenize(text)),
        escalated=outcome.escalation.escalate,
    )


def decision_steps_ms(bench: Bench, question: str) -> float:
    """Sentiment + signals + decision alone, on a fresh judge and embedding cache (as on a first turn)."""
    components = bench.fresh_components()
    started = time.perf_counter()
    sentiment = components.judge.judge(question, [])
    signals = components.signal_reader.read(question, [], sentiment)
    decide_escalation(signals, components.policy)
    return (time.perf_counter() - started) * 1000


def llm_sentiment_call(bench: Bench, question: str) -> tuple[float, int]:
    """(seconds, generated tokens) of the seeds' second call: SmolLM2 asked for the sentiment label."""
    bench.fresh_components()
    messages = [
        SystemMessage(LLM_SENTIMENT_SYSTEM),
        HumanMessage(LLM_SENTIMENT_PROMPT.format(message=question)),
    ]
    started = time.perf_counter()
    reply = bench.chat_model.invoke(messages)
    seconds = time.perf_counter() - started
    return seconds, len(bench.chat_model.runtime.tokenize(reply.text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-tokens", type=int, default=256, help="most tokens per answer (both variants)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: settings)")
    parser.add_argument("--limit", type=int, default=12, help="how many questions of the list to ask")
    parser.add_argument("--llm-sentiment-runs", type=int, default=6, help="questions for the seeds' call")
    arguments = parser.parse_args()
    configure_logging("WARNING", "console")
    questions = turn_questions(arguments.limit)

    bench = load_bench(arguments.max_tokens, arguments.threads)
    runtime = bench.chat_model.runtime
    print(
        f"model {runtime.model_name}, llama.cpp threads {bench.settings.llm_threads}, temperature 0, "
        f"max tokens {arguments.max_tokens}, {len(questions)} calm questions, "
        f"index {bench.settings.index_dir}"
    )
    print(f"before: {load_average()}")
    # warm-up: pages in the weights, the ONNX graph and the index
    run_variant(bench, "What is Amazon SageMaker?", full=True)

    print(
        f"\n{'#':>2}  {'answer-only s':>13}  {'full turn s':>11}  {'full/answer':>11}  {'tokens A/F':>10}  "
        f"{'decision ms':>11}  question"
    )
    answer_runs: list[Run] = []
    full_runs: list[Run] = []
    for number, question in enumerate(questions, 1):
        order = (False, True) if number % 2 else (True, False)
        runs = {full: run_variant(bench, question, full=full) for full in order}
        answer, full_turn = runs[False], runs[True]
        answer_runs.append(answer)
        full_runs.append(full_turn)
        same = "" if answer.response == full_turn.response else "  (texts differ!)"
        flag = "  (ESCALATED: not calm?)" if full_turn.escalated else ""
        print(
            f"{number:>2}  {answer.seconds:>13.3f}  {full_turn.seconds:>11.3f}  "
            f"{full_turn.seconds / answer.seconds:>11.3f}  {answer.tokens:>4}/{full_turn.tokens:<5}  "
            f"{full_turn.decision_s * 1000:>11.1f}  {question[:60]}{same}{flag}"
        )

    answer_total = sum(run.seconds for run in answer_runs)
    full_total = sum(run.seconds for run in full_runs)
    answer_tokens = sum(run.tokens for run in answer_runs)
    full_tokens = sum(run.tokens for run in full_runs)
    matching = sum(a.response == f.response for a, f in zip(answer_runs, full_runs, strict=True))
    print(
        f"\ntotal: answer-only {answer_total:.2f} s ({answer_tokens} tokens), "
        f"full turn {full_total:.2f} s ({full_tokens} tokens); identical answers {matching}/{len(questions)}"
    )
    print(
        f"RATIO full/answer-only = {full_total / answer_total:.3f} "
        f"({(full_total / answer_total - 1) * 100:+.1f}%); per-question median ratio "
        f"{statistics.median(f.seconds / a.seconds for a, f in zip(answer_runs, full_runs, strict=True)):.3f}"
    )
    print(
        "time to the decision inside the full turn (run_turn, thread start included): median "
        f"{statistics.median(run.decision_s for run in full_runs) * 1000:.1f} ms; answer-only's constant "
        f"decision: median {statistics.median(run.decision_s for run in answer_runs) * 1000:.1f} ms"
    )

    # generation time swings with other jobs on the two cores; the decision's cost does not need it
    extra_s = statistics.median(run.decision_s for run in full_runs) - statistics.median(
        run.decision_s for run in answer_runs
    )
    answer_median_all_s = statistics.median(run.seconds for run in answer_runs)
    print(
        f"without the generation noise: the full turn decides {extra_s * 1000:.1f} ms later "
        f"(median) = {extra_s / answer_median_all_s * 100:+.2f}% of the median answer-only turn "
        f"({answer_median_all_s:.2f} s)"
    )
    steps = [decision_steps_ms(bench, question) for question in questions]
    print(
        f"sentiment + signals + decision steps alone (main thread, fresh caches): median "
        f"{statistics.median(steps):.1f} ms per turn, max {max(steps):.1f} ms"
    )

    llm_calls = [
        llm_sentiment_call(bench, question) for question in questions[: arguments.llm_sentiment_runs]
    ]
    llm_median_s = statistics.median(seconds for seconds, _ in llm_calls)
    answer_median_s = statistics.median(run.seconds for run in answer_runs[: arguments.llm_sentiment_runs])
    print(
        f"for comparison, the seeds' second sequential LLM call (SmolLM2 asked for the label, up to "
        f"{arguments.max_tokens} tokens) on {len(llm_calls)} of the questions: median "
        f"{llm_median_s * 1000:.0f} ms, {statistics.median(tokens for _, tokens in llm_calls):.0f} tokens "
        f"generated; +{llm_median_s / answer_median_s * 100:.1f}% of the median answer-only time "
        f"of those questions ({answer_median_s:.2f} s)"
    )
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
