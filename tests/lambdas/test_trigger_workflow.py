"""The ``triggerWorkflow`` Lambda: event fixtures, the expert email, the handler, errors, duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from botocore.config import Config
from botocore.stub import Stubber

from chatbot.aws import client
from chatbot.config import Settings, load_settings
from chatbot.errors import ConfigError, InvalidLambdaEventError, WorkflowStartError, WorkflowUnavailableError
from infra.local.bootstrap import LocalResources
from infra.local.moto_server import MotoServer
from infra.local.ports import free_port
from lambdas.trigger_workflow import handler
from lambdas.trigger_workflow.models import TriggerWorkflowConfig
from lambdas.trigger_workflow.notification import build_expert_notification
from lambdas.trigger_workflow.trigger import execution_input, parse_trigger_event, trigger_workflow
from tests.support.concurrency import run_at_once
from tests.workflows.helpers import (
    EVENTS_DIR,
    CaseQueueReader,
    bootstrap_stack,
    load_event,
    make_event,
    trigger_config,
)
from workflows.escalation.execution import MAX_SUBJECT_CHARS, EscalationExecutionInput, execution_name

VALID_EVENTS = sorted(path.name for path in EVENTS_DIR.glob("valid_*.json"))
# each malformed fixture, and the field its error must name
INVALID_EVENTS = {
    "invalid_missing_conversation_id.json": "event.conversation_id",
    "invalid_escalation_number_zero.json": "event.escalation_number",
    "invalid_unknown_reason.json": "event.reason",
    "invalid_reason_none.json": "event.reason",
    "invalid_javascript_console_link.json": "event.console_link",
    "invalid_bad_conversation_id.json": "event.conversation_id",
    "invalid_unexpected_field.json": "event.priority",
    "invalid_message_role.json": "event.last_messages.0.role",
    "invalid_not_an_object.json": "JSON object",
}
PLAIN_CONFIG = TriggerWorkflowConfig(
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:escalation",
    console_url="http://localhost:8502",
)


@pytest.fixture(scope="module")
def stack(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, LocalResources]:
    return bootstrap_stack(moto_server, tmp_path_factory.mktemp("trigger"), "trigger-tests")


def test_every_fixture_is_covered() -> None:
    assert len(VALID_EVENTS) >= 2
    assert {path.name for path in EVENTS_DIR.glob("invalid_*.json")} == set(INVALID_EVENTS)


@pytest.mark.parametrize("name", VALID_EVENTS)
def test_valid_events_parse(name: str) -> None:
    document = load_event(name)
    event = parse_trigger_event(document, PLAIN_CONFIG.model_copy(update={"console_url": None}))
    assert event.conversation_id == document["conversation_id"]
    assert event.escalation_number == document["escalation_number"]
    assert event.reason.value == document["reason"]
    assert len(event.last_messages) == len(document.get("last_messages", []))


@pytest.mark.parametrize(("name", "field"), sorted(INVALID_EVENTS.items()))
def test_malformed_events_raise_a_named_error_naming_the_field(name: str, field: str) -> None:
    with pytest.raises(InvalidLambdaEventError) as raised:
        parse_trigger_event(load_event(name), PLAIN_CONFIG.model_copy(update={"console_url": None}))
    assert field in str(raised.value)
    assert not isinstance(raised.value.__cause__, KeyError)


def test_a_link_outside_the_console_is_rejected() -> None:
    document = load_event("valid_human_requested_minimal.json")  # links to console.example.com
    with pytest.raises(InvalidLambdaEventError, match="console_link"):
        parse_trigger_event(document, PLAIN_CONFIG)


def test_expert_email_escapes_customer_html_and_has_what_experts_need() -> None:
    event = parse_trigger_event(load_event("valid_negative_sentiment.json"), PLAIN_CONFIG)
    notification = build_expert_notification(event)

    assert "<script>" not in notification.message and "<b>" not in notification.message
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in notification.message
    assert event.summary.split(":")[0] in notification.message
    assert event.console_link in notification.message
    customer_texts = [m.text for m in event.last_messages if m.role.value == "customer"]
    assert "My training job fails with ResourceLimitExceeded." in notification.message
    assert len(customer_texts) == 2
    assert "You can request a quota increase" not in notification.message  # bot turns are not listed
    assert notification.subject.startswith("Escalation: Unhappy customer")
    assert len(notification.subject) <= MAX_SUBJECT_CHARS and "\n" not in notification.subject


def test_long_and_control_character_text_is_cut_and_cleaned() -> None:
    event = make_event(summary="x" * 5_000 + "\x00\x1b[31m", detail="d" * 2000)
    notification = build_expert_notification(event)
    assert "\x00" not in notification.message and "\x1b" not in notification.message
    assert len(notification.message) < 10_000


def test_the_execution_input_is_deterministic_and_carries_the_timeouts() -> None:
    event = make_event()
    config = PLAIN_CONFIG.model_copy(update={"offer_heartbeat_seconds": 7, "offer_timeout_seconds": 9})
    first = execution_input(event, config).model_dump_json()
    assert first == execution_input(event, config).model_dump_json()
    parsed = EscalationExecutionInput.model_validate_json(first)
    assert (parsed.timeouts.offer_heartbeat_seconds, parsed.timeouts.offer_timeout_seconds) == (7, 9)
    assert execution_name(event.conversation_id, 1) == f"{event.conversation_id}-escalation-1"


def test_config_comes_from_the_environment_and_rejects_bad_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_ESCALATION_STATE_MACHINE_ARN", PLAIN_CONFIG.state_machine_arn)
    monkeypatch.setenv("CHATBOT_ESCALATION_OFFER_HEARTBEAT_SECONDS", "30")
    monkeypatch.setenv("CHATBOT_ESCALATION_OFFER_TIMEOUT_SECONDS", "60")
    config = handler.load_trigger_config()
    assert (config.offer_heartbeat_seconds, config.offer_timeout_seconds) == (30, 60)
    monkeypatch.setenv("CHATBOT_ESCALATION_OFFER_HEARTBEAT_SECONDS", "60")
    with pytest.raises(ConfigError, match="smaller"):
        handler.load_trigger_config()
    monkeypatch.delenv("CHATBOT_ESCALATION_STATE_MACHINE_ARN")
    with pytest.raises(ConfigError, match="CHATBOT_ESCALATION_STATE_MACHINE_ARN"):
        handler.load_trigger_config()


@pytest.fixture
def handler_environment(
    stack: tuple[Settings, LocalResources], monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalResources]:
    settings, resources = stack
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", str(settings.aws_endpoint_url))
    for name, value in resources.trigger_workflow_environment().items():
        monkeypatch.setenv(name, value)
    handler._runtime.cache_clear()
    yield resources
    handler._runtime.cache_clear()


def test_handler_starts_the_workflow(
    handler_environment: LocalResources, stack: tuple[Settings, Any]
) -> None:
    settings, _ = stack
    document = load_event("valid_negative_sentiment.json")
    document["conversation_id"] = make_event().conversation_id
    result = handler.lambda_handler(document, None)

    assert result["duplicate"] is False
    assert result["execution_name"] == f"{document['conversation_id']}-escalation-1"
    stepfunctions = client("stepfunctions", settings)
    described = stepfunctions.describe_execution(executionArn=result["execution_arn"])
    assert described["status"] == "RUNNING"
    sent = EscalationExecutionInput.model_validate_json(described["input"])
    assert sent.conversation_id == document["conversation_id"]
    assert "&lt;script&gt;" in sent.notification.message
    stepfunctions.stop_execution(executionArn=result["execution_arn"])


def test_handler_logs_and_raises_on_a_malformed_event(handler_environment: LocalResources) -> None:
    with (
        structlog.testing.capture_logs() as logs,
        pytest.raises(InvalidLambdaEventError, match="escalation_number"),
    ):
        handler.lambda_handler(load_event("invalid_escalation_number_zero.json"), None)
    [entry] = [entry for entry in logs if entry["event"] == "trigger_workflow.invalid_event"]
    assert entry["log_level"] == "error"
    assert "escalation_number" in entry["error"]


def test_unreachable_step_functions_raises_a_retryable_error(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port('127.0.0.1')}"  # nothing listens there
    settings = load_settings(data_dir=tmp_path, aws_endpoint_url=closed)
    stepfunctions = client(
        "stepfunctions",
        settings,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1),
    )
    with pytest.raises(WorkflowUnavailableError, match="unreachable"):
        trigger_workflow(make_event(), PLAIN_CONFIG, stepfunctions)


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("ThrottlingException", 400, True),
        ("InternalServerError", 500, True),
        ("AccessDeniedException", 400, False),
    ],
)
def test_service_errors_are_sorted_into_retryable_and_not(
    code: str, status: int, retryable: bool, tmp_path: Path
) -> None:
    # moto cannot throttle or deny: a Stubber plays Step Functions' answer
    stepfunctions = client("stepfunctions", load_settings(data_dir=tmp_path))
    with Stubber(stepfunctions) as stub:
        stub.add_client_error("start_execution", service_error_code=code, http_status_code=status)
        with pytest.raises(WorkflowStartError) as raised:
            trigger_workflow(make_event(), PLAIN_CONFIG, stepfunctions)
    assert isinstance(raised.value, WorkflowUnavailableError) is retryable


def test_unknown_state_machine_is_not_retryable(stack: tuple[Settings, LocalResources]) -> None:
    settings, _ = stack
    config = PLAIN_CONFIG.model_copy(
        update={"state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:nope"}
    )
    with pytest.raises(WorkflowStartError) as raised:
        trigger_workflow(make_event(), config, client("stepfunctions", settings))
    assert not isinstance(raised.value, WorkflowUnavailableError)


def test_hundred_concurrent_duplicate_triggers_start_one_execution(
    stack: tuple[Settings, LocalResources],
) -> None:
    settings, resources = stack
    stepfunctions = client("stepfunctions", settings, config=Config(max_pool_connections=100))
    event = make_event()
    config = trigger_config(resources, heartbeat=60, timeout=120)
    results: list[Any] = []

    def trigger() -> None:
        results.append(trigger_workflow(event, config, stepfunctions))

    errors = run_at_once([trigger] * 100)

    assert errors == []
    assert len(results) == 100
    assert len({result.execution_arn for result in results}) == 1
    name = execution_name(event.conversation_id, event.escalation_number)
    executions = stepfunctions.list_executions(stateMachineArn=resources.state_machine_arn, maxResults=1000)
    assert [execution["name"] for execution in executions["executions"]].count(name) == 1
    # and the experts got one email
    reader = CaseQueueReader(client("sqs", settings), resources.case_events_queue_url)
    reader.wait_for_count(event.conversation_id, 1)
    reader.drain(seconds=1.5)  # a second execution would have published by now
    assert len(reader.items(event.conversation_id)) == 1
    stepfunctions.stop_execution(executionArn=results[0].execution_arn)
