"""Tokens per second inside the running customer app, next to the same model in a plain script.

Streamlit runs each page script in a worker thread and the turn's chain runs in another (``run_turn``);
this measures what a customer gets there. The real local stack (moto, SMTP, event pump) runs in a
temporary data folder whose index, models and sentiment classifier are links to the real ones under
``.data``; the customer app (``chatbot/app.py``) is started on the stack's environment with
``CHATBOT_LOG_FORMAT=json``, and headless Chromium asks each question in a new conversation. The app's
``turn.completed`` log lines give the per-turn figures (``tokens_per_s``, ``first_token_s``, ``total_s``,
``chunks``).

The same questions then run in this script, as first turns with the same settings (greedy decoding,
same ``max_tokens``), so the prompts and the generated tokens are the same: once with the chain streamed
on the main thread, once through ``run_turn`` (the chain in a worker thread, as in the app).
Tokens/s is ``(chunks - 1) / (total - first token)`` everywhere: generation only, prompt excluded.
All of it for ``CHATBOT_LLM_THREADS`` 2 and 1 (``--threads``).

Run: ``.venv/bin/python benchmarks/app_tokens.py [--threads 2 1] [--max-tokens 128]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from _common import empty_kv_cache, load_average, turn_questions
from playwright.sync_api import Browser, expect, sync_playwright

from chatbot.chain.runner import run_turn
from chatbot.chain.turn import TurnComponents, build_turn_chain, turn_input
from chatbot.config import Settings, load_settings
from chatbot.llm.local import LlamaCppChatModel
from chatbot.logging import configure_logging
from chatbot.services import load_turn_components
from infra.local.ports import free_port, wait_for_port
from infra.local.stack import CUSTOMER_APP, STREAMLIT_START_TIMEOUT_S, LocalStack, streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# what the app reads from an existing data folder; the rest (state, outbox, spool, mail) is the stack's
SHARED_DATA = ("index", "models", "sentiment", "cache")
TURN_TIMEOUT_S = 180.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class TurnFigures:
    tokens_per_s: float | None
    first_token_s: float | None
    total_s: float
    chunks: int


def median_rate(figures: list[TurnFigures]) -> float:
    rates = [figure.tokens_per_s for figure in figures if figure.tokens_per_s is not None]
    return statistics.median(rates) if rates else float("nan")


# --- where the CPU goes while the app answers ---------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


@dataclass
class CpuMeter:
    """CPU seconds of the app process and of the browser (Chromium and Playwright's driver) while metered."""

    app_pid: int
    app_s: float = 0.0
    browser_s: float = 0.0
    _start: dict[int, float] = field(default_factory=dict)

    def _now(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in descendants(os.getpid())}

    def start(self) -> None:
        self._start = self._now()

    def stop(self) -> None:
        for pid, seconds in self._now().items():
            used = seconds - self._start.get(pid, 0.0)
            if pid == self.app_pid:
                self.app_s += used
            else:
                self.browser_s += used


# --- the app ------------------------------------------------------------------------------------


def linked_data_dir(folder: Path, real: Path) -> Path:
    data_dir = folder / "data"
    data_dir.mkdir()
    for name in SHARED_DATA:
        if (real / name).exists():
            (data_dir / name).symlink_to((real / name).resolve())
    return data_dir


@contextmanager
def customer_app(stack: LocalStack, overrides: dict[str, str], log_path: Path) -> Iterator[tuple[str, int]]:
    """The customer page, its stderr (JSON log lines) in ``log_path``; yields its URL and process id."""
    port = free_port()
    environment = stack.child_environment() | overrides | {"CHATBOT_LOG_FORMAT": "json"}
    with log_path.open("wb") as log_file:
        app = subprocess.Popen(
            streamlit_command(CUSTOMER_APP, port, stack.host),
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            wait_for_port(stack.host, port, STREAMLIT_START_TIMEOUT_S)
            yield f"http://{stack.host}:{port}/", app.pid
        finally:
            app.terminate()
            try:
                app.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.kill()


def completed_turns(log: TextIO) -> Iterator[dict[str, Any]]:
    """``turn.completed`` records among the lines written since the last call."""
    for line in log.readlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # Streamlit's own lines, tracebacks
        if isinstance(record, dict) and record.get("event") == "turn.completed":
            yield record


def ask_in_page(
    browser: Browser, url: str, question: str, log: TextIO, meter: CpuMeter | None = None
) -> TurnFigures:
    """One question in a new conversation; waits for the app to log the completed turn."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(TURN_TIMEOUT_S * 1000)
        page.goto(url)
        caption = page.get_by_text("Conversation ID")
        expect(caption).to_be_visible(timeout=TURN_TIMEOUT_S * 1000)
        found = re.search(r"\d{8}-[0-9a-f]{12}", caption.inner_text())
        assert found, "no conversation id on the page"
        conversation_id = found.group(0)
        box = page.get_by_placeholder("Ask a question about Amazon SageMaker")
        box.fill(question)
        if meter is not None:
            meter.start()
        box.press("Enter")
        deadline = time.monotonic() + TURN_TIMEOUT_S
        while time.monotonic() < deadline:
            for record in completed_turns(log):
                if record.get("conversation_id") == conversation_id:
                    if meter is not None:
                        meter.stop()
                    if record.get("escalate"):
                        raise SystemExit(f"the app escalated a calm question: {question!r}")
                    return TurnFigures(
                        tokens_per_s=record.get("tokens_per_s"),
                        first_token_s=record.get("first_token_s"),
                        total_s=float(record["total_s"]),
                        chunks=int(record.get("chunks", 0)),
                    )
            time.sleep(0.05)
        raise SystemExit(f"the app logged no completed turn for {conversation_id} in {TURN_TIMEOUT_S:.0f} s")
    finally:
        context.close()


# --- the same in this script --------------------------------------------------------------------


def on_main_thread(components: TurnComponents, question: str) -> TurnFigures:
    """The turn chain streamed right here, timed as ``run_turn`` times it."""
    started = time.monotonic()
    first_token_s: float | None = None
    chunks = 0
    for chunk in build_turn_chain(components).stream(turn_input(question, [], [])):
        if chunk.get("response"):
            chunks += 1
            if first_token_s is None:
                first_token_s = time.monotonic() - started
    total_s = time.monotonic() - started
    rate = None
    if first_token_s is not None and chunks >= 2 and total_s > first_token_s:
        rate = (chunks - 1) / (total_s - first_token_s)
    return TurnFigures(tokens_per_s=rate, first_token_s=first_token_s, total_s=total_s, chunks=chunks)


def in_worker_thread(components: TurnComponents, question: str) -> TurnFigures:
    """Through ``run_turn``: the chain in its worker thread, as the app runs it."""
    stream = run_turn(build_turn_chain(components), turn_input(question, [], []), components.policy, 120.0)
    timings = stream.outcome().timings
    return TurnFigures(
        tokens_per_s=timings.tokens_per_s,
        first_token_s=timings.first_token_s,
        total_s=timings.total_s,
        chunks=timings.chunks,
    )


class ScriptTurns:
    """The same turns in this process: models loaded once, llama.cpp's KV cache emptied before each run."""

    def __init__(self, settings: Settings) -> None:
        self.components = load_turn_components(settings)
        model = self.components.chat_model
        assert isinstance(model, LlamaCppChatModel), "set CHATBOT_BACKEND=local"
        self._model = model
        on_main_thread(self.cold(), "What is Amazon SageMaker?")  # warm-up

    def cold(self) -> TurnComponents:
        empty_kv_cache(self._model)
        return self.components


# --- the report ---------------------------------------------------------------------------------


def rate_text(figure: TurnFigures) -> str:
    return f"{figure.tokens_per_s:.1f}" if figure.tokens_per_s is not None else "-"


def report(
    threads: int,
    questions: list[str],
    app: list[TurnFigures],
    main: list[TurnFigures],
    worker: list[TurnFigures],
    load: str,
) -> float:
    print(f"\nCHATBOT_LLM_THREADS={threads} ({load})")
    print(
        f"{'#':>2}  {'app tok/s':>9}  {'main tok/s':>10}  {'worker tok/s':>12}  {'chunks app/main':>15}  "
        f"{'first token app/main s':>22}  question"
    )
    for number, (question, a, m, w) in enumerate(zip(questions, app, main, worker, strict=True), 1):
        first = f"{a.first_token_s or float('nan'):.3f}/{m.first_token_s or float('nan'):.3f}"
        print(
            f"{number:>2}  {rate_text(a):>9}  {rate_text(m):>10}  {rate_text(w):>12}  "
            f"{a.chunks:>7}/{m.chunks:<7}  {first:>22}  {question[:50]}"
        )
    app_rate, main_rate, worker_rate = median_rate(app), median_rate(main), median_rate(worker)
    print(
        f"median tokens/s: in the app {app_rate:.1f}, script main thread {main_rate:.1f}, "
        f"script run_turn worker thread {worker_rate:.1f}; app/main = {app_rate / main_rate:.2f}, "
        f"worker/main = {worker_rate / main_rate:.2f}"
    )
    app_turn = statistics.median(figure.total_s for figure in app)
    main_turn = statistics.median(figure.total_s for figure in main)
    print(
        f"median first token: app {statistics.median(f.first_token_s or 0.0 for f in app):.3f} s, "
        f"main {statistics.median(f.first_token_s or 0.0 for f in main):.3f} s; "
        f"median turn: app {app_turn:.2f} s, main {main_turn:.2f} s"
    )
    return app_rate


def compare(
    stack: LocalStack, browser: Browser, threads: int, max_tokens: int, questions: list[str], folder: Path
) -> float:
    """App and script alternate question by question, so machine drift hits both alike."""
    script = ScriptTurns(load_settings(llm_temperature=0.0, llm_max_tokens=max_tokens, llm_threads=threads))
    overrides = {
        "CHATBOT_LLM_TEMPERATURE": "0",
        "CHATBOT_LLM_MAX_TOKENS": str(max_tokens),
        "CHATBOT_LLM_THREADS": str(threads),
    }
    log_path = folder / f"app-threads-{threads}.log"
    load_before = load_average()
    app: list[TurnFigures] = []
    main: list[TurnFigures] = []
    worker: list[TurnFigures] = []
    with customer_app(stack, overrides, log_path) as (url, app_pid), log_path.open(encoding="utf-8") as log:
        ask_in_page(browser, url, "What is Amazon SageMaker?", log)  # warm-up: the app loads its models
        meter = CpuMeter(app_pid)
        for question in questions:
            app.append(ask_in_page(browser, url, question, log, meter))
            main.append(on_main_thread(script.cold(), question))
            worker.append(in_worker_thread(script.cold(), question))
    load = f"{load_before} before, {load_average()} after"
    app_rate = report(threads, questions, app, main, worker, load)
    wall_s = sum(figure.total_s for figure in app)
    print(
        f"CPU while the app answered ({wall_s:.1f} s of turns): app process {meter.app_s:.1f} CPU-s "
        f"({meter.app_s / wall_s:.2f} cores), browser {meter.browser_s:.1f} CPU-s "
        f"({meter.browser_s / wall_s:.2f} cores)"
    )
    return app_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1], help="CHATBOT_LLM_THREADS to try")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--limit", type=int, default=6, help="questions asked (>= 5)")
    arguments = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is missing (apt-get install chromium); no browser is downloaded")
    configure_logging("WARNING", "console")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
    questions = turn_questions(arguments.limit)
    real = load_settings()
    print(
        f"{len(questions)} questions, each in a new conversation; temperature 0, max tokens "
        f"{arguments.max_tokens}; index {real.index_dir}; other jobs may share the 2 cores"
    )

    with tempfile.TemporaryDirectory(prefix="app-tokens-") as folder:
        name = f"apptok-{uuid.uuid4().hex[:8]}"
        settings = load_settings(
            data_dir=linked_data_dir(Path(folder), real.data_dir),
            local_aws_port=0,
            smtp_port=free_port(),
            transcript_bucket=f"{name}-transcripts",
            state_table=f"{name}-state",
        )
        stack = LocalStack(settings, with_apps=False, stack_name=name).start()
        results: dict[int, float] = {}
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                try:
                    for threads in arguments.threads:
                        results[threads] = compare(
                            stack, browser, threads, arguments.max_tokens, questions, Path(folder)
                        )
                finally:
                    browser.close()
        finally:
            stack.stop()
    if len(results) > 1:
        best = max(results, key=lambda threads: results[threads])
        print(
            "\nin the app: "
            + ", ".join(f"{threads} thread(s) {rate:.1f} tok/s" for threads, rate in results.items())
            + f"; faster here: CHATBOT_LLM_THREADS={best}"
        )


if __name__ == "__main__":
    main()
