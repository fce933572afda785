"""The ASL definition: valid for the real validator (npm ``asl-validator``), and built the way we rely on."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chatbot.config import PROJECT_ROOT
from infra.template import load_template
from workflows.escalation.definition import (
    DEFINITION_PATH,
    DefinitionSubstitutions,
    definition_template,
    placeholders,
    render_definition,
)
from workflows.escalation.errors import WorkflowDefinitionError
from workflows.escalation.events import (
    EXPERT_DECLINED_ERROR,
    NOTIFICATION_ATTRIBUTES,
    CaseEvent,
    CaseEventKind,
)

ASL_VALIDATOR = PROJECT_ROOT / "node_modules" / ".bin" / "asl-validator"
SUBSTITUTIONS = DefinitionSubstitutions(
    ExpertsTopicArn="arn:aws:sns:us-east-1:123456789012:experts",
    SecondTierTopicArn="arn:aws:sns:us-east-1:123456789012:experts-tier2",
    CaseEventsQueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/case-events",
)


def validate(definition: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not ASL_VALIDATOR.exists():
        pytest.fail("asl-validator is not installed: run `npm ci` in the repository root")
    path = tmp_path / "definition.asl.json"
    path.write_text(definition, encoding="utf-8")
    return subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def definition() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render_definition(SUBSTITUTIONS))
    return loaded


def test_the_stored_and_the_rendered_definition_are_valid_asl(tmp_path: Path) -> None:
    for text in (definition_template(), render_definition(SUBSTITUTIONS)):
        result = validate(text, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        ("dangling_next", "target: RecordFailed"),
        ("task_without_resource", "/States/NotifyExperts"),
        ("unknown_state_type", "/States/OfferToTier2"),
    ],
)
def test_the_validator_rejects_a_broken_definition(
    definition: dict[str, Any], breakage: str, complaint: str, tmp_path: Path
) -> None:
    broken = copy.deepcopy(definition)
    states = broken["States"]
    if breakage == "dangling_next":
        del states["RecordFailed"]  # every Catch-all points at it
    elif breakage == "task_without_resource":
        del states["NotifyExperts"]["Resource"]
    else:
        states["OfferToTier2"]["Type"] = "Offer"
    result = validate(json.dumps(broken), tmp_path)
    assert result.returncode == 1
    assert complaint in result.stdout + result.stderr


def test_placeholders_match_the_template_substitutions() -> None:
    template = load_template()
    [machine] = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    in_template = set(machine["Properties"]["DefinitionSubstitutions"])
    assert placeholders(definition_template()) == in_template == set(SUBSTITUTIONS.as_mapping())


def test_render_refuses_a_missing_value_or_one_that_breaks_the_json() -> None:
    partial = {
        "ExpertsTopicArn": "arn:aws:sns:us-east-1:1:e",
        "SecondTierTopicArn": "arn:aws:sns:us-east-1:1:s",
    }
    with pytest.raises(WorkflowDefinitionError, match="CaseEventsQueueUrl"):
        render_definition(partial)
    with pytest.raises(WorkflowDefinitionError, match="quotes"):
        render_definition({**SUBSTITUTIONS.as_mapping(), "CaseEventsQueueUrl": 'x", "Injected": "y'})
    rendered = render_definition(SUBSTITUTIONS)
    assert "${" not in rendered
    assert SUBSTITUTIONS.case_events_queue_url in rendered
    assert DEFINITION_PATH.read_text(encoding="utf-8") == definition_template()


def tasks(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}


def test_every_task_retries_transient_errors_and_catches_everything(definition: dict[str, Any]) -> None:
    for name, state in tasks(definition).items():
        assert state.get("Retry"), f"{name} has no Retry"
        assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], f"{name} has no catch-all"
        for retrier in state["Retry"]:
            # a decline must reach its Catch at once; States.TaskFailed and States.ALL would match it
            if name == "NotifyExperts":
                assert not {EXPERT_DECLINED_ERROR, "States.TaskFailed", "States.ALL"} & set(
                    retrier["ErrorEquals"]
                )


def test_every_catch_records_a_case_event_first(definition: dict[str, Any]) -> None:
    states = definition["States"]
    for name, state in tasks(definition).items():
        for catcher in state["Catch"]:
            target = catcher["Next"]
            # a Choice/Pass may prepare the record (the decline's cause); the record is a Task on the queue
            while states[target]["Type"] != "Task" and target != "WorkflowFailed":
                nxt = states[target].get("Next") or states[target].get("Default")
                assert nxt, f"{name} -> {target} ends without recording"
                target = nxt
            assert target == "WorkflowFailed" or states[target]["Resource"].endswith("sqs:sendMessage")


def test_offer_publishes_the_contract_attributes_and_reads_its_timeouts(definition: dict[str, Any]) -> None:
    offer = definition["States"]["NotifyExperts"]
    assert offer["Resource"] == "arn:aws:states:::sns:publish.waitForTaskToken"
    assert set(offer["Parameters"]["MessageAttributes"]) == set(NOTIFICATION_ATTRIBUTES)
    assert offer["Parameters"]["MessageAttributes"]["task_token"]["StringValue.$"] == "$$.Task.Token"
    assert offer["HeartbeatSecondsPath"] == "$.timeouts.offer_heartbeat_seconds"
    assert offer["TimeoutSecondsPath"] == "$.timeouts.offer_timeout_seconds"
    assert [c["ErrorEquals"] for c in offer["Catch"]] == [
        [EXPERT_DECLINED_ERROR],
        ["States.HeartbeatTimeout", "States.Timeout"],
        ["States.ALL"],
    ]


def test_each_case_event_kind_is_sent_with_fields_of_the_contract(definition: dict[str, Any]) -> None:
    sent: set[str] = set()
    for state in tasks(definition).values():
        if state["Resource"].endswith("sqs:sendMessage"):
            body = state["Parameters"]["MessageBody"]
            sent.add(body["kind"])
            fields = {key.removesuffix(".$") for key in body}
            assert fields <= set(CaseEvent.model_fields), fields - set(CaseEvent.model_fields)
            assert {"conversation_id", "escalation_number"} <= fields
    assert sent == {kind.value for kind in CaseEventKind}
