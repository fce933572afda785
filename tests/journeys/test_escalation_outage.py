"""Issue 3: Step Functions unreachable during an escalation. The local stack's moto server is stopped; an
angry customer is escalated by the real chain; the customer is told help is coming and the trigger waits in
the outbox; when a moto server is back on the same port, the real ``triggerWorkflow`` handler (retried by the
in-process invoker) starts the workflow, and the expert's email arrives (event pump and SMTP kept running).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbot.aws import client
from chatbot.chain.prompts import WAITING_MESSAGE, handoff_message
from chatbot.chain.turn import TurnComponents
from chatbot.conversation.session import ChatSession, ExpertBoundTurn
from chatbot.conversation.state import ConversationStatus, WorkflowStage
from chatbot.conversation.transcript import Role
from chatbot.models import EscalationReason
from chatbot.services import ChatServices
from infra.local.lambda_invoker import InProcessLambdaInvoker, OutboxEntry
from infra.local.moto_server import start_moto_server
from infra.local.stack import LocalStack
from lambdas.trigger_workflow.trigger import execution_arn
from tests.journeys.chat import ask
from tests.local.sqs_helpers import wait_until
from tests.support.chat_services import services_for
from tests.support.local_stack import running_local_stack
from workflows.escalation.execution import execution_name

pytestmark = [pytest.mark.models, pytest.mark.slow]

ANGRY_MESSAGE = "This is ridiculous, I have wasted my whole day and your useless bot keeps failing me!"
TRIGGER_HANDLER = "lambdas.trigger_workflow.handler.lambda_handler"


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """The local stack without the Streamlit apps: its own moto server, SMTP server and event pump."""
    with running_local_stack(tmp_path / "data", monkeypatch, "journey", stop_executions=True) as stack:
        yield stack


@pytest.fixture
def services(stack: LocalStack, components: TurnComponents) -> Iterator[ChatServices]:
    """The chat process of the stack: its state store and outbox, the real triggerWorkflow handler."""
    services = services_for(
        components,
        stack.settings.data_dir,
        trigger_handler=TRIGGER_HANDLER,
        aws_endpoint_url=stack.settings.aws_endpoint_url,
        transcript_bucket=stack.settings.transcript_bucket,
        expert_console_url=stack.settings.expert_console_url,
    )
    yield services
    services.close()


def outbox(services: ChatServices) -> list[OutboxEntry]:
    """What waits in the chat process's outbox, read as a second process would."""
    return InProcessLambdaInvoker(services.settings.outbox_path, {}, start=False).entries()


def test_an_escalation_while_step_functions_is_down_is_kept_and_delivered_when_it_returns(
    stack: LocalStack, services: ChatServices
) -> None:
    assert stack.moto is not None and stack.smtp is not None and stack.resources is not None
    port, mailbox = stack.moto.port, stack.smtp.mailbox
    session = ChatSession(services)

    stack.moto.stop()  # Step Functions, SNS and SQS are unreachable from now on
    outcome = ask(session, ANGRY_MESSAGE)

    # the customer is told that help is coming, as if nothing were wrong
    assert outcome.escalation.reason is EscalationReason.NEGATIVE_SENTIMENT
    expected = handoff_message(EscalationReason.NEGATIVE_SENTIMENT)
    assert outcome.response == expected
    shown = session.visible_turns()
    assert [(turn.role, turn.text) for turn in shown] == [
        (Role.CUSTOMER, ANGRY_MESSAGE),
        (Role.BOT, expected),
    ]
    state = session.state()
    assert (state.status, state.workflow_stage, state.escalation_number) == (
        ConversationStatus.WAITING_FOR_EXPERT,
        WorkflowStage.REQUESTED,
        1,
    )
    still_waiting = session.send("Hello? Is anyone coming?")  # the bot stays silent, the wait goes on
    assert isinstance(still_waiting, ExpertBoundTurn) and still_waiting.notice is not None
    assert still_waiting.notice.text == WAITING_MESSAGE
    # ... and the trigger sits in the outbox after a failed attempt
    wait_until(lambda: [entry.attempts >= 1 for entry in outbox(services)] == [True], timeout_s=30)
    (pending,) = outbox(services)
    assert pending.payload["conversation_id"] == session.conversation_id
    assert not pending.dead and pending.last_error is not None
    assert pending.last_error.startswith("WorkflowUnavailableError")
    assert mailbox.ids() == []

    # a moto server is back on the same port (in-process servers share their data); pump and SMTP kept on
    stack.moto = start_moto_server(port=port)
    wait_until(lambda: outbox(services) == [], timeout_s=60)

    stepfunctions = client("stepfunctions", stack.settings)
    arn = execution_arn(stack.resources.state_machine_arn, execution_name(session.conversation_id, 1))
    assert stepfunctions.describe_execution(executionArn=arn)["status"] == "RUNNING"  # waits for an expert
    wait_until(lambda: len(mailbox.ids()) == 1, timeout_s=60)
    mail = mailbox.read(mailbox.ids()[0])
    assert session.conversation_id in mail.subject
    assert f"conversation_id={session.conversation_id}" in mail.text
    assert mail.delivered_to == stack.settings.expert_emails_tier1
    wait_until(lambda: session.state().workflow_stage is WorkflowStage.NOTIFIED, timeout_s=30)
    assert session.state().task_token is not None
