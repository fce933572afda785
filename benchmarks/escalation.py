"""From an angry customer message to the expert's email: p50/p95 over real escalations on the local stack.

The real local stack without the Streamlit apps (moto with Step Functions executing, SNS, SQS, the SMTP
server, the event pump with the case-events Lambda and the email relay) in a temporary data folder on
free ports, and a real :class:`~chatbot.services.ChatServices` (``ChatServices.load``) over the real
local models, loaded once. Each conversation is a new :class:`~chatbot.conversation.session.ChatSession`
whose first message is angry; the clock runs from ``session.send(...)`` (then ``finish()``, as the
customer page does) until the email naming that conversation is in the SMTP mailbox (polled every 10 ms).

Breakdown per escalation, from the same start: the handoff decision (``send`` returned), the workflow
started (``triggerWorkflow`` got Step Functions' answer), notified (the case-events Lambda recorded the
expert notification in the state store), the email relayed to SMTP, the email seen in the mailbox.
After each email the script waits for the background draft answer of that conversation (the product
drafts one for the expert with the LLM), so every escalation starts on an idle process.

Run: ``.venv/bin/python benchmarks/escalation.py [--conversations 20]``
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from _common import load_average

from chatbot.config import load_settings
from chatbot.conversation.session import BotTurn, ChatSession
from chatbot.notify.mailbox import Mailbox
from chatbot.services import ChatServices, load_turn_components
from infra.local.ports import free_port
from infra.local.stack import LocalStack
from lambdas.trigger_workflow import handler as trigger_handler

ANGRY_MESSAGES = [
    "This is ridiculous, I have wasted my whole day and your useless bot keeps failing me!",
    "I am furious. My endpoint has been down for hours and nobody helps. This is unacceptable!",
    "Your documentation is garbage and this stupid chatbot is worse. I'm fed up!",
    "Terrible service. I've been charged twice for a training job and I'm really angry about it.",
    "This is the third time I ask and still nothing works. I hate this, absolutely awful experience!",
]
POLL_INTERVAL_S = 0.01
EMAIL_TIMEOUT_S = 60.0
# the log events that mark each stage, and the stage name they stand for
STAGE_EVENTS = {"workflow.started": "workflow started", "mail.relayed": "email relayed"}


@dataclass
class StageClock:
    """Records, per conversation, when the product logged each stage (a structlog processor)."""

    marks: dict[str, dict[str, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, _logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        event = event_dict.get("event")
        stage = STAGE_EVENTS.get(str(event))
        if event == "case_events.applied" and event_dict.get("kind") == "notified":
            stage = "notified in state store"
        conversation_id = event_dict.get("conversation_id")
        if stage is not None and isinstance(conversation_id, str):
            with self.lock:
                self.marks.setdefault(conversation_id, {}).setdefault(stage, time.perf_counter())
        if method in ("debug", "info"):
            raise structlog.DropEvent
        return event_dict


def configure_quiet_logging(clock: StageClock) -> None:
    """INFO events reach the clock; only warnings and errors are printed."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            clock,
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(20),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def email_for(mailbox: Mailbox, conversation_id: str, seen: set[str]) -> str | None:
    """The id of a new mail whose subject names the conversation, if one arrived."""
    for mail_id in mailbox.ids():
        if mail_id in seen:
            continue
        if conversation_id in mailbox.summary(mail_id).subject:
            return mail_id
        seen.add(mail_id)  # another conversation's mail: not read again
    return None


@dataclass(frozen=True)
class Escalation:
    conversation_id: str
    decision_s: float
    finished_s: float
    email_s: float
    stages: dict[str, float]


def escalate_once(services: ChatServices, mailbox: Mailbox, clock: StageClock, text: str) -> Escalation:
    session = ChatSession(services)
    seen = set(mailbox.ids())
    started = time.perf_counter()
    turn = session.send(text)
    decided = time.perf_counter()
    assert isinstance(turn, BotTurn), "a new conversation is with the bot"
    outcome = turn.finish()
    finished = time.perf_counter()
    if not outcome.escalation.escalate:
        raise SystemExit(f"not escalated ({outcome.escalation.reason.value}): {text!r}")
    deadline = started + EMAIL_TIMEOUT_S
    while (mail_id := email_for(mailbox, session.conversation_id, seen)) is None:
        if time.perf_counter() > deadline:
            raise SystemExit(f"no email for {session.conversation_id} within {EMAIL_TIMEOUT_S:.0f} s")
        time.sleep(POLL_INTERVAL_S)
    emailed = time.perf_counter()
    del mail_id
    # the expert's draft answer runs in the background worker: let it end before the next customer
    services.background.submit(lambda: None).result()
    with clock.lock:
        marks = dict(clock.marks.get(session.conversation_id, {}))
    return Escalation(
        conversation_id=session.conversation_id,
        decision_s=decided - started,
        finished_s=finished - started,
        email_s=emailed - started,
        stages={stage: at - started for stage, at in marks.items()},
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20, help="escalations to measure (>= 20)")
    arguments = parser.parse_args()
    clock = StageClock()
    configure_quiet_logging(clock)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log

    components = load_turn_components(load_settings())  # the real index and models under .data
    with tempfile.TemporaryDirectory(prefix="escalation-bench-") as folder:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        settings = load_settings(
            data_dir=Path(folder) / "data",
            local_aws_port=0,
            smtp_port=free_port(),
            transcript_bucket=f"{name}-transcripts",
            state_table=f"{name}-state",
        )
        stack = LocalStack(settings, with_apps=False, stack_name=name).start()
        try:
            # the in-process triggerWorkflow reads its configuration from the environment, as in Lambda
            for variable, value in stack.child_environment().items():
                if variable.startswith("CHATBOT_"):
                    os.environ[variable] = value
            trigger_handler._runtime.cache_clear()
            assert stack.smtp is not None
            services = ChatServices.load(stack.settings, components)
            try:
                run(services, stack.smtp.mailbox, clock, arguments.conversations)
            finally:
                services.close()
        finally:
            stack.stop()


def run(services: ChatServices, mailbox: Mailbox, clock: StageClock, conversations: int) -> None:
    print(f"before: {load_average()}")
    warm_up = escalate_once(services, mailbox, clock, "This is useless, I am so angry and fed up!")
    print(f"first escalation of the process (imports, clients; not counted): {warm_up.email_s:.3f} s")
    stages = ["workflow started", "notified in state store", "email relayed"]
    print(
        f"\n{'#':>2}  {'decision':>8}  {'finish()':>8}  " + "  ".join(f"{s:>11.11}" for s in stages), end=""
    )
    print(f"  {'EMAIL s':>8}  conversation")
    results: list[Escalation] = []
    for number in range(1, conversations + 1):
        result = escalate_once(services, mailbox, clock, ANGRY_MESSAGES[number % len(ANGRY_MESSAGES)])
        results.append(result)
        marks = "  ".join(
            f"{result.stages[stage]:>11.3f}" if stage in result.stages else f"{'-':>11}" for stage in stages
        )
        print(
            f"{number:>2}  {result.decision_s:>8.3f}  {result.finished_s:>8.3f}  {marks}  "
            f"{result.email_s:>8.3f}  {result.conversation_id}"
        )
    emails = [result.email_s for result in results]
    print(
        f"\nmessage -> email over {len(emails)} escalations: p50 {percentile(emails, 50):.3f} s, "
        f"p95 {percentile(emails, 95):.3f} s, max {max(emails):.3f} s (target p95 <= 2 s)"
    )
    print("median time of each stage from the customer's message:")
    print(f"  handoff decision (send returned)     {statistics.median(r.decision_s for r in results):.3f} s")
    print(f"  finish() returned (trigger answered) {statistics.median(r.finished_s for r in results):.3f} s")
    for stage in stages:
        values = [result.stages[stage] for result in results if stage in result.stages]
        if values:
            print(f"  {stage:<36} {statistics.median(values):.3f} s (p95 {percentile(values, 95):.3f})")
    print(f"  {'email in the mailbox':<36} {statistics.median(emails):.3f} s")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
