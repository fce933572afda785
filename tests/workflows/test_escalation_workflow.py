"""The escalation state machine executed by moto: accept, decline, timeouts, no expert, failure, duplicates.

Each test starts a real execution through ``trigger_workflow`` and plays the expert with
``expert_actions``; it asserts on the execution's status and output and on what reached the case-events
queue (the notifications with their task tokens, and the case events).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from chatbot.aws import client
from chatbot.config import Settings
from infra.local.bootstrap import LocalResources
from infra.local.moto_server import MotoServer
from lambdas.trigger_workflow.models import TriggerWorkflowConfig
from lambdas.trigger_workflow.trigger import trigger_workflow
from tests.workflows.helpers import (
    CaseQueueReader,
    bootstrap_stack,
    make_event,
    start_escalation,
    wait_for_execution,
)
from workflows.escalation import expert_actions
from workflows.escalation.definition import DefinitionSubstitutions, render_definition
from workflows.escalation.errors import ExpertActionError, InvalidTaskTokenError, TaskTimedOutError
from workflows.escalation.events import CaseEventKind
from workflows.escalation.execution import EscalationExecutionOutput, EscalationOutcome

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def stack(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, LocalResources]:
    return bootstrap_stack(moto_server, tmp_path_factory.mktemp("escalation"), "escalation-tests")


@pytest.fixture(scope="module")
def settings_(stack: tuple[Settings, LocalResources]) -> Settings:
    return stack[0]


@pytest.fixture(scope="module")
def resources(stack: tuple[Settings, LocalResources]) -> LocalResources:
    return stack[1]


@pytest.fixture(scope="module")
def reader(settings_: Settings, resources: LocalResources) -> CaseQueueReader:
    return CaseQueueReader(client("sqs", settings_), resources.case_events_queue_url)


@pytest.fixture(scope="module")
def stepfunctions(settings_: Settings) -> Any:
    return client("stepfunctions", settings_)


def output_of(described: dict[str, Any]) -> EscalationExecutionOutput:
    assert described["status"] == "SUCCEEDED", described
    return EscalationExecutionOutput.model_validate_json(described["output"])


def kinds(reader: CaseQueueReader, conversation_id: str) -> list[CaseEventKind]:
    return [event.kind for event in reader.case_events(conversation_id)]


def test_accept_assigns_the_expert(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    started = start_escalation(settings_, resources, event)

    notification = reader.next_notification(event.conversation_id, 0)
    assert notification.tier == 1
    assert notification.topic_arn == resources.experts_topic_arn
    assert notification.escalation_number == 1
    assert notification.task_token
    assert "Unhappy customer" in notification.subject
    assert event.console_link in notification.message

    expert_actions.accept(notification.task_token, "Ana Expert", settings=settings_)

    output = output_of(wait_for_execution(stepfunctions, started.execution_arn))
    assert output.outcome is EscalationOutcome.ASSIGNED
    assert (output.expert, output.tier, output.conversation_id) == ("Ana Expert", 1, event.conversation_id)
    [assigned] = reader.wait_for_case_events(event.conversation_id)
    assert (assigned.kind, assigned.expert, assigned.tier, assigned.escalation_number) == (
        CaseEventKind.ASSIGNED,
        "Ana Expert",
        1,
        1,
    )


def test_notification_keeps_customer_html_inert(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    started = start_escalation(settings_, resources, event)
    notification = reader.next_notification(event.conversation_id, 0)
    # the fixture's customer message holds a <script> tag: it arrives escaped
    assert "<script>" not in notification.message
    assert "&lt;script&gt;" in notification.message
    expert_actions.accept(notification.task_token, "Ana", settings=settings_)
    wait_for_execution(stepfunctions, started.execution_arn)


def test_decline_then_accept_reoffers_to_the_same_tier(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    started = start_escalation(settings_, resources, event)

    first = reader.next_notification(event.conversation_id, 0)
    expert_actions.decline(first.task_token, "Bo", "in a meeting", settings=settings_)
    second = reader.next_notification(event.conversation_id, 1)
    assert second.tier == 1
    assert second.task_token != first.task_token
    expert_actions.accept(second.task_token, "Cy", settings=settings_)

    output = output_of(wait_for_execution(stepfunctions, started.execution_arn))
    assert (output.outcome, output.expert, output.tier) == (EscalationOutcome.ASSIGNED, "Cy", 1)
    declined, assigned = reader.wait_for_case_events(event.conversation_id, 2)
    assert (declined.kind, declined.tier) == (CaseEventKind.DECLINED, 1)
    # AWS carries the decline's cause ("Bo declined: in a meeting"); moto drops it, the workflow fills a text
    assert declined.detail
    assert (assigned.kind, assigned.expert) == (CaseEventKind.ASSIGNED, "Cy")


def test_two_declines_move_the_case_to_the_second_tier(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    started = start_escalation(settings_, resources, event)
    for seen, expert in enumerate(("Bo", "Di")):
        offer = reader.next_notification(event.conversation_id, seen)
        assert offer.tier == 1
        expert_actions.decline(offer.task_token, expert, "busy", settings=settings_)
    tier2 = reader.next_notification(event.conversation_id, 2)
    assert (tier2.tier, tier2.topic_arn) == (2, resources.second_tier_topic_arn)
    expert_actions.accept(tier2.task_token, "Senior Sam", settings=settings_)

    output = output_of(wait_for_execution(stepfunctions, started.execution_arn))
    assert (output.expert, output.tier) == ("Senior Sam", 2)
    reader.wait_for_case_events(event.conversation_id, 3)
    assert kinds(reader, event.conversation_id) == [
        CaseEventKind.DECLINED,
        CaseEventKind.DECLINED,
        CaseEventKind.ASSIGNED,
    ]


def test_timeout_moves_the_case_to_the_second_tier(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    started = start_escalation(settings_, resources, event, heartbeat=2, timeout=3)

    tier1 = reader.next_notification(event.conversation_id, 0)
    assert tier1.tier == 1  # nobody answers it
    tier2 = reader.next_notification(event.conversation_id, 1)
    assert tier2.tier == 2
    expert_actions.accept(tier2.task_token, "Senior Sam", settings=settings_)

    output = output_of(wait_for_execution(stepfunctions, started.execution_arn))
    assert (output.outcome, output.expert, output.tier) == (EscalationOutcome.ASSIGNED, "Senior Sam", 2)
    timed_out, assigned = reader.wait_for_case_events(event.conversation_id, 2)
    assert (timed_out.kind, timed_out.tier) == (CaseEventKind.TIMED_OUT, 1)
    assert (assigned.kind, assigned.tier) == (CaseEventKind.ASSIGNED, 2)


def test_nobody_answers_means_no_expert_available(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    started = start_escalation(settings_, resources, event, heartbeat=1, timeout=2)

    output = output_of(wait_for_execution(stepfunctions, started.execution_arn))
    assert output.outcome is EscalationOutcome.NO_EXPERT_AVAILABLE
    assert (output.expert, output.tier) == (None, 2)
    reader.wait_for_count(event.conversation_id, 5)
    assert [item.tier for item in reader.notifications(event.conversation_id)] == [1, 2]
    assert kinds(reader, event.conversation_id) == [
        CaseEventKind.TIMED_OUT,
        CaseEventKind.TIMED_OUT,
        CaseEventKind.NO_EXPERT_AVAILABLE,
    ]


def test_heartbeats_keep_an_offer_open_past_its_heartbeat_interval(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    # seconds, not fractions: a heartbeat sent late on a loaded machine must not end the offer
    started = start_escalation(settings_, resources, event, heartbeat=3, timeout=12)
    offer = reader.next_notification(event.conversation_id, 0)
    held_until = time.monotonic() + 6.5  # over twice the heartbeat interval
    while time.monotonic() < held_until:
        expert_actions.heartbeat(offer.task_token, settings=settings_)
        time.sleep(0.3)
    expert_actions.accept(offer.task_token, "Ana", settings=settings_)

    output = output_of(wait_for_execution(stepfunctions, started.execution_arn))
    assert (output.outcome, output.tier) == (EscalationOutcome.ASSIGNED, 1)
    assert [item.tier for item in reader.notifications(event.conversation_id)] == [1]


def test_duplicate_trigger_starts_one_execution(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    first = start_escalation(settings_, resources, event)
    again = start_escalation(settings_, resources, event)  # same name, same input, still running
    assert again.execution_arn == first.execution_arn

    offer = reader.next_notification(event.conversation_id, 0)
    expert_actions.accept(offer.task_token, "Ana", settings=settings_)
    wait_for_execution(stepfunctions, first.execution_arn)

    after_end = start_escalation(settings_, resources, event)  # the execution has ended
    assert after_end.duplicate
    assert after_end.execution_arn == first.execution_arn
    executions = stepfunctions.list_executions(stateMachineArn=resources.state_machine_arn)["executions"]
    assert [execution["name"] for execution in executions].count(first.execution_name) == 1
    reader.wait_for(event.conversation_id, lambda items: len(items) >= 2)
    reader.drain(seconds=1.5)  # a second execution would have published by now
    assert len(reader.notifications(event.conversation_id)) == 1

    # the next escalation of the same conversation is a new execution
    next_escalation = start_escalation(
        settings_, resources, make_event(event.conversation_id, escalation_number=2)
    )
    assert not next_escalation.duplicate
    assert next_escalation.execution_arn != first.execution_arn
    offer = reader.next_notification(event.conversation_id, 1)
    assert offer.escalation_number == 2
    expert_actions.accept(offer.task_token, "Ana", settings=settings_)
    wait_for_execution(stepfunctions, next_escalation.execution_arn)


def test_answered_token_is_rejected_with_a_named_error(
    settings_: Settings, resources: LocalResources, reader: CaseQueueReader, stepfunctions: Any
) -> None:
    event = make_event()
    started = start_escalation(settings_, resources, event)
    offer = reader.next_notification(event.conversation_id, 0)
    expert_actions.accept(offer.task_token, "Ana", settings=settings_)
    wait_for_execution(stepfunctions, started.execution_arn)

    # moto answers InvalidToken once the execution has ended (AWS: TaskTimedOut or InvalidToken)
    with pytest.raises(ExpertActionError) as raised:
        expert_actions.accept(offer.task_token, "Bo", settings=settings_)
    assert isinstance(raised.value, InvalidTaskTokenError | TaskTimedOutError)
    with pytest.raises(InvalidTaskTokenError):
        expert_actions.decline("not-a-token", "Bo", "typo", settings=settings_)


@pytest.fixture(scope="module")
def broken_state_machine(settings_: Settings, resources: LocalResources, stepfunctions: Any) -> Iterator[str]:
    """The same definition with an experts topic that does not exist: publishing fails."""
    substitutions = DefinitionSubstitutions(
        ExpertsTopicArn=resources.experts_topic_arn + "-missing",
        SecondTierTopicArn=resources.second_tier_topic_arn,
        CaseEventsQueueUrl=resources.case_events_queue_url,
    )
    created = stepfunctions.create_state_machine(
        name="escalation-tests-broken",
        definition=render_definition(substitutions),
        roleArn="arn:aws:iam::123456789012:role/escalation-tests-broken",
    )
    yield created["stateMachineArn"]
    stepfunctions.delete_state_machine(stateMachineArn=created["stateMachineArn"])


def test_failing_step_records_failed_and_fails_the_execution(
    reader: CaseQueueReader, stepfunctions: Any, broken_state_machine: str
) -> None:
    event = make_event()
    config = TriggerWorkflowConfig(state_machine_arn=broken_state_machine)
    started = trigger_workflow(event, config, stepfunctions)

    described = wait_for_execution(stepfunctions, started.execution_arn)
    assert described["status"] == "FAILED"
    assert described.get("error") == "EscalationWorkflowFailed"
    [failed] = reader.wait_for_case_events(event.conversation_id)
    assert failed.kind is CaseEventKind.FAILED
    assert "SNS" in failed.detail  # which error stopped it
    assert reader.notifications(event.conversation_id) == []
