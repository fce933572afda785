"""The whole product on one machine: ``python -m infra.local.stack`` (what ``make run`` starts).

moto server (S3, Step Functions executing state machines, SNS, SQS, DynamoDB, CloudFormation) with the
resources of ``infra/template.yaml``, an SMTP server with a mailbox, the event pump that runs the
``case_events`` Lambda and the email relay in-process, and the two Streamlit apps: the customer chat and the
expert console. Ctrl-C stops all of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import structlog

from chatbot.aws import client
from chatbot.config import PROJECT_ROOT, Settings, load_settings
from chatbot.conversation.state_factory import make_state_store
from chatbot.errors import ChatbotError
from chatbot.logging import configure_logging
from chatbot.notify.mailer import SmtpMailer
from chatbot.notify.relay import ExpertEmailRelay
from infra.local.bootstrap import DEFAULT_STACK_NAME, LocalResources, bootstrap
from infra.local.email_relay import ensure_email_relay_queue
from infra.local.event_pump import EventPump, case_events_route, email_relay_route
from infra.local.moto_server import MotoServer, start_moto_server
from infra.local.ports import wait_for_port
from infra.local.smtp import SmtpServer, start_smtp_server

log = structlog.get_logger(__name__)

CUSTOMER_APP = PROJECT_ROOT / "chatbot" / "app.py"
CONSOLE_APP = PROJECT_ROOT / "chatbot" / "console_app.py"
STREAMLIT_START_TIMEOUT_S = 120.0


def streamlit_command(script: Path, port: int, host: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


@dataclass
class LocalStack:
    """Starts in dependency order, stops in reverse; usable from tests with other ports and a tmp data dir."""

    settings: Settings
    host: str = "127.0.0.1"
    with_apps: bool = True
    stack_name: str = DEFAULT_STACK_NAME
    moto: MotoServer | None = None
    resources: LocalResources | None = None
    smtp: SmtpServer | None = None
    pump: EventPump | None = None
    apps: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.moto = start_moto_server(self.host, self.settings.local_aws_port or None)
        self.settings = self.settings.model_copy(update={"aws_endpoint_url": self.moto.endpoint_url})
        self.resources = bootstrap(self.settings, stack_name=self.stack_name)
        self.settings = self.settings.model_copy(
            update={
                "transcript_bucket": self.resources.transcript_bucket,
                "state_table": self.resources.state_table,
            }
        )
        sqs, sns = client("sqs", self.settings), client("sns", self.settings)
        relay_queue = ensure_email_relay_queue(
            sqs,
            sns,
            [self.resources.experts_topic_arn, self.resources.second_tier_topic_arn],
            queue_name=f"{self.stack_name}-email-relay",  # two stacks on one moto never share a queue
        )
        self.smtp = start_smtp_server(
            self.settings.mail_dir, self.settings.smtp_host, self.settings.smtp_port
        )
        relay = ExpertEmailRelay.from_settings(
            self.settings, SmtpMailer(self.settings.smtp_host, self.smtp.port)
        )
        self.pump = EventPump(
            sqs,
            [
                case_events_route(self.resources.case_events_queue_url, make_state_store(self.settings)),
                email_relay_route(relay_queue, relay),
            ],
            wait_time_s=1,
        )
        self.pump.start()
        if self.with_apps:
            environment = self.child_environment()
            for script, port in (
                (CUSTOMER_APP, self.settings.app_port),
                (CONSOLE_APP, self.settings.console_port),
            ):
                self.apps.append(
                    subprocess.Popen(streamlit_command(script, port, self.host), env=environment)
                )
            for port in (self.settings.app_port, self.settings.console_port):
                wait_for_port(self.host, port, STREAMLIT_START_TIMEOUT_S)
        log.info(
            "local_stack.up",
            chat=f"http://localhost:{self.settings.app_port}",
            console=f"http://localhost:{self.settings.console_port}",
            aws=self.moto.endpoint_url,
            smtp=f"{self.settings.smtp_host}:{self.smtp.port}",
        )

    def child_environment(self) -> dict[str, str]:
        """What the Streamlit processes need to find the local services (settings are read from it)."""
        assert self.moto is not None and self.resources is not None and self.smtp is not None
        environment = dict(os.environ)
        environment.update(
            {
                "CHATBOT_BACKEND": self.settings.backend,
                "CHATBOT_DATA_DIR": str(Path(self.settings.data_dir).resolve()),
                "CHATBOT_AWS_ENDPOINT_URL": self.moto.endpoint_url,
                "CHATBOT_TRANSCRIPT_BUCKET": self.resources.transcript_bucket,
                "CHATBOT_STATE_TABLE": self.resources.state_table,
                "CHATBOT_SMTP_PORT": str(self.smtp.port),
                "CHATBOT_EXPERT_CONSOLE_URL": self.settings.expert_console_url,
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false",
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
                ),
            }
        )
        environment.update(self.resources.trigger_workflow_environment())
        return environment

    def stop(self) -> None:
        for app in self.apps:
            if app.poll() is None:
                app.terminate()
        for app in self.apps:
            try:
                app.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.kill()
        self.apps.clear()
        if self.pump is not None:
            self.pump.stop()
            self.pump = None
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        log.info("local_stack.down")


def main() -> None:
    try:
        settings = load_settings()
    except ChatbotError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    configure_logging(settings.log_level, settings.log_format)
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("local_stack.stopping", signal=signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = LocalStack(settings).start()
    print(
        f"\n  Customer chat:  http://localhost:{stack.settings.app_port}\n"
        f"  Expert console: http://localhost:{stack.settings.console_port}\n"
        f"  Mail:           chatbot mail list (SMTP {stack.settings.smtp_host}:{stack.settings.smtp_port})\n"
        "  Stop with Ctrl-C.\n",
        flush=True,
    )
    try:
        while not stopping.wait(1.0):
            if any(app.poll() is not None for app in stack.apps):
                log.error("local_stack.app_exited")
                break
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
