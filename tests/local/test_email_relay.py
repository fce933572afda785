"""Local "SNS email transport": experts topic -> email-relay queue -> event pump -> real SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.notify.mailer import SmtpMailer
from chatbot.notify.relay import ExpertEmailRelay
from infra.local.email_relay import ensure_email_relay_queue, relay_sqs_event
from infra.local.event_pump import EventPump, email_relay_route
from infra.local.smtp import SmtpServer, start_smtp_server
from tests.local.sqs_helpers import publish_notification, queue_depth, unique, wait_until

CONVERSATION_ID = "20250301-0a1b2c3d4e5f"
TIER1 = ["alice@example.com", "bob@example.com"]
TIER2 = ["carol@example.com"]


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    server = start_smtp_server(tmp_path / "mail")
    yield server
    server.stop()


@pytest.fixture
def relay(smtp_server: SmtpServer) -> ExpertEmailRelay:
    return ExpertEmailRelay(
        SmtpMailer("127.0.0.1", smtp_server.port), "bot@example.com", {1: TIER1, 2: TIER2}
    )


@pytest.fixture
def topics(settings: Settings) -> tuple[Any, Any, list[str], str]:
    sqs, sns = client("sqs", settings), client("sns", settings)
    topic_arns = [sns.create_topic(Name=unique(f"experts-tier{tier}"))["TopicArn"] for tier in (1, 2)]
    queue_url = ensure_email_relay_queue(sqs, sns, topic_arns, queue_name=unique("email-relay"))
    return sqs, sns, topic_arns, queue_url


def test_each_notification_is_emailed_to_its_tier(
    topics: tuple[Any, Any, list[str], str], relay: ExpertEmailRelay, smtp_server: SmtpServer
) -> None:
    sqs, sns, (tier1_topic, tier2_topic), queue_url = topics
    publish_notification(
        sns, tier1_topic, conversation_id=CONVERSATION_ID, escalation_number=1, tier=1, task_token="t1",
        subject="Escalation: Unhappy customer", message="Customer wrote: <script>alert(1)</script>",
    )  # fmt: skip
    publish_notification(
        sns, tier2_topic, conversation_id=CONVERSATION_ID, escalation_number=1, tier=2, task_token="t2",
        subject="Escalation: second tier", message="Nobody of tier 1 answered.",
    )  # fmt: skip

    with EventPump(sqs, [email_relay_route(queue_url, relay)], wait_time_s=1):
        wait_until(lambda: len(smtp_server.mailbox.ids()) == 2)

    mails = {summary.subject: summary for summary in smtp_server.mailbox.summaries()}
    assert mails["Escalation: Unhappy customer"].delivered_to == TIER1
    assert mails["Escalation: second tier"].delivered_to == TIER2
    assert queue_depth(sqs, queue_url) == (0, 0)
    first = smtp_server.mailbox.read(mails["Escalation: Unhappy customer"].id)
    assert first.html is not None
    assert "<script" not in first.html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in first.html


def test_a_mail_that_cannot_be_sent_stays_in_the_queue(
    topics: tuple[Any, Any, list[str], str], smtp_server: SmtpServer
) -> None:
    sqs, sns, (tier1_topic, _), queue_url = topics
    unreachable = ExpertEmailRelay(SmtpMailer("127.0.0.1", smtp_server.port), "bot@example.com", {1: TIER1})
    smtp_server.stop()
    publish_notification(
        sns, tier1_topic, conversation_id=CONVERSATION_ID, escalation_number=1, tier=1, task_token="t"
    )
    pump = EventPump(sqs, [], wait_time_s=1, visibility_timeout_s=30)

    outcome = pump.pump_once(email_relay_route(queue_url, unreachable))

    assert (outcome.received, outcome.failed) == (1, 1)
    assert queue_depth(sqs, queue_url) == (0, 1)


def test_a_record_that_is_not_a_notification_is_reported(
    relay: ExpertEmailRelay, smtp_server: SmtpServer
) -> None:
    case_event = json.dumps({"kind": "failed", "conversation_id": CONVERSATION_ID, "escalation_number": 1})
    event = {
        "Records": [{"messageId": "m-1", "receiptHandle": "r", "body": case_event, "eventSource": "aws:sqs"}]
    }

    result = relay_sqs_event(event, relay).as_lambda_result()

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert smtp_server.mailbox.ids() == []
