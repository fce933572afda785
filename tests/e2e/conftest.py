"""The real local stack (moto, SMTP, event pump, both Streamlit apps) and headless Chromium.

The apps answer from the fixture corpus; the index, the ONNX embedder and the sentiment classifier are
built once in this process before the apps start, so the apps only load them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from chatbot.config import Settings, load_settings
from chatbot.rag.knowledge_base import ensure_knowledge_base
from infra.local.ports import free_port
from infra.local.stack import LocalStack
from tests.conftest import FIXTURES
from tests.local.sqs_helpers import unique
from tests.sentiment.local_models import local_models

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    models = local_models(tmp_path_factory)
    data_dir = tmp_path_factory.mktemp("e2e") / "data"
    # the models the session already built: the ONNX embedder and the trained sentiment classifier
    shutil.copytree(models.settings.data_dir, data_dir)
    console_port = free_port()
    name = unique("e2e")
    settings: Settings = load_settings(
        backend="local",
        data_dir=data_dir,
        corpus_dir=FIXTURES / "corpus",
        local_aws_port=0,
        smtp_port=free_port(),
        app_port=free_port(),
        console_port=console_port,
        expert_console_url=f"http://127.0.0.1:{console_port}",
        transcript_bucket=f"{name}-transcripts",
        state_table=f"{name}-state",
        llm_max_tokens=48,
    )
    ensure_knowledge_base(settings, models.embedder)
    stack = LocalStack(settings, stack_name=name)
    # the apps read their settings from the environment the stack gives them
    with pytest.MonkeyPatch.context() as environment:
        for variable, value in {
            "CHATBOT_CORPUS_DIR": str(settings.corpus_dir),
            "CHATBOT_LLM_MAX_TOKENS": str(settings.llm_max_tokens),
            "CHATBOT_APP_PORT": str(settings.app_port),
            "CHATBOT_CONSOLE_PORT": str(settings.console_port),
            "CHATBOT_LOG_FORMAT": "json",
        }.items():
            environment.setenv(variable, value)
        stack.start()
    yield stack
    stack.stop()


# module scope: Playwright's sync API keeps an event loop on the main thread while it runs, which
# later tests calling asyncio.run() must not find
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
