"""What several benchmark scripts share. They run as scripts, so ``benchmarks/`` is on ``sys.path``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatbot.llm.local import LlamaCppChatModel

TURN_QUESTIONS = Path(__file__).parent / "data" / "turn_questions.jsonl"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return (
        f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs;"
        " other jobs may share them"
    )


def turn_questions(limit: int) -> list[str]:
    """The first ``limit`` calm questions of ``data/turn_questions.jsonl``."""
    rows = [json.loads(line) for line in TURN_QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    return [str(row["question"]) for row in rows][:limit]


def empty_kv_cache(model: LlamaCppChatModel) -> None:
    """Empties llama.cpp's KV cache, so the next run reuses no work of the one before."""
    with model.runtime.exclusive(60.0) as llama:
        llama.reset()  # type: ignore[no-untyped-call]  # llama-cpp-python leaves it untyped
