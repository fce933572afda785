"""The whole local escalation path with the real ``triggerWorkflow`` handler.

escalate -> outbox -> ``lambdas.trigger_workflow.handler`` -> Step Functions (moto) -> experts topic ->
case-events queue -> event pump -> state store ``notified`` (token) and email-relay queue -> SMTP -> mailbox;
the expert claims and accepts -> ``assigned`` case event -> state store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.aws import client
from chatbot.conversation.escalation import EscalationRequest, MessageExcerpt
from chatbot.conversation.ids import new_conversation_id
from chatbot.conversation.lambda_escalator import make_lambda_escalator
from chatbot.conversation.state import ConversationState, ConversationStatus, WorkflowStage
from chatbot.conversation.state_sqlite import SqliteStateStore
from chatbot.conversation.transcript import Role
from chatbot.models import EscalationReason
from chatbot.notify.mailer import SmtpMailer
from chatbot.notify.relay import ExpertEmailRelay
from infra.local.email_relay import ensure_email_relay_queue
from infra.local.event_pump import EventPump, case_events_route, email_relay_route
from infra.local.lambda_invoker import InProcessLambdaInvoker
from infra.local.moto_server import MotoServer
from infra.local.smtp import start_smtp_server
from lambdas.trigger_workflow import handler as trigger_handler
from tests.local.sqs_helpers import unique, wait_until
from tests.workflows import helpers as workflow_helpers
from workflows.escalation.expert_actions import accept


@pytest.fixture
def fresh_trigger_runtime() -> Iterator[None]:
    """The handler builds its configuration once per process; each test has its own stack."""
    trigger_handler._runtime.cache_clear()
    yield
    trigger_handler._runtime.cache_clear()


def test_an_escalation_reaches_the_expert_and_the_acceptance_comes_back(
    moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_trigger_runtime: None
) -> None:
    settings, resources = workflow_helpers.bootstrap_stack(moto_server, tmp_path / "data", unique("flow"))
    assert settings.aws_endpoint_url is not None
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", settings.aws_endpoint_url)
    for name, value in resources.trigger_workflow_environment().items():
        monkeypatch.setenv(name, value)
    sqs, sns = client("sqs", settings), client("sns", settings)
    relay_queue = ensure_email_relay_queue(
        sqs, sns, [resources.experts_topic_arn, resources.second_tier_topic_arn], unique("email-relay")
    )
    store = SqliteStateStore(settings.state_db_path)
    smtp = start_smtp_server(settings.mail_dir)
    relay = ExpertEmailRelay.from_settings(settings, SmtpMailer("127.0.0.1", smtp.port))
    pump = EventPump(
        sqs,
        [case_events_route(resources.case_events_queue_url, store), email_relay_route(relay_queue, relay)],
        wait_time_s=1,
    )
    invoker = InProcessLambdaInvoker(
        settings.outbox_path,
        {settings.trigger_workflow_function: settings.trigger_workflow_handler},
        confirm_within_s=15,
    )
    escalator = make_lambda_escalator(settings, store, invoker)
    conversation_id = new_conversation_id()
    request = EscalationRequest(
        conversation_id=conversation_id,
        reason=EscalationReason.HUMAN_REQUESTED,
        summary="Customer wants a person about endpoint autoscaling.",
        last_messages=[
            MessageExcerpt(
                role=Role.CUSTOMER, text="<script>alert(1)</script> a human please", at=datetime.now(UTC)
            )
        ],
    )

    def state() -> ConversationState:
        current = store.get(conversation_id)
        assert current is not None
        return current

    try:
        pump.start()
        receipt = escalator.escalate(request)
        wait_until(lambda: state().task_token is not None)
        wait_until(lambda: len(smtp.mailbox.ids()) == 1)
        notified = state()
        [mail_id] = smtp.mailbox.ids()
        mail = smtp.mailbox.read(mail_id)

        store.claim(conversation_id, "alice")
        assert notified.task_token is not None
        accept(notified.task_token, "alice", settings=settings)
        wait_until(lambda: state().workflow_stage is WorkflowStage.ASSIGNED)
    finally:
        pump.stop()
        invoker.stop()
        smtp.stop()

    assert receipt.queued is False
    assert (notified.status, notified.workflow_stage, notified.tier) == (
        ConversationStatus.WAITING_FOR_EXPERT,
        WorkflowStage.NOTIFIED,
        1,
    )
    assert mail.delivered_to == settings.expert_emails_tier1
    assert conversation_id in mail.subject
    assert f"?conversation_id={conversation_id}" in mail.text
    assert mail.html is not None and "<script" not in mail.html.lower()
    final = state()
    assert (final.status, final.owner, final.task_token) == (ConversationStatus.EXPERT, "alice", None)
