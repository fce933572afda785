"""``infra/template.yaml``: cfn-lint clean, least privilege, the shapes other code needs; it deploys."""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from chatbot.aws import client
from chatbot.config import Settings
from chatbot.conversation.state_dynamodb import table_definition
from infra import deploy
from infra.local.bootstrap import LocalResources
from infra.local.moto_server import MotoServer
from infra.template import LOCAL_SKIPPED_TYPES, TEMPLATE_PATH, load_template, local_template, references
from lambdas.trigger_workflow.models import TriggerWorkflowConfig
from tests.workflows.helpers import (
    CaseQueueReader,
    bootstrap_stack,
    make_event,
    stack_settings,
    start_escalation,
)
from workflows.escalation import expert_actions
from workflows.escalation.events import CaseEventKind

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def statements(role: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in RESOURCES[role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def granted(role: str) -> dict[str, list[Any]]:
    """Action -> the resources it is allowed on."""
    grants: dict[str, list[Any]] = {}
    for statement in statements(role):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in actions:
            grants.setdefault(action, []).extend(resources)
    return grants


def test_cfn_lint_is_clean() -> None:
    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [str(match) for match in matches] == []


def test_no_policy_allows_a_wildcard_action_or_resource() -> None:
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for statement in statements(name):
            assert "*" not in json.dumps(statement["Action"]), name
            assert statement["Resource"] != "*" and "*" not in statement["Resource"], name


def test_state_machine_may_only_publish_to_its_topics_and_send_to_the_case_queue() -> None:
    assert granted("EscalationStateMachineRole") == {
        "sns:Publish": [{"Ref": "ExpertsTopic"}, {"Ref": "SecondTierTopic"}],
        "sqs:SendMessage": [{"Fn::GetAtt": ["CaseEventsQueue", "Arn"]}],
    }


def test_trigger_workflow_may_only_start_this_state_machine() -> None:
    grants = granted("TriggerWorkflowRole")
    assert grants["states:StartExecution"] == [{"Ref": "EscalationStateMachine"}]
    assert grants["sqs:SendMessage"] == [{"Fn::GetAtt": ["TriggerWorkflowFailuresQueue", "Arn"]}]
    assert set(grants) == {
        "states:StartExecution",
        "sqs:SendMessage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_case_events_may_read_its_queue_and_use_the_table() -> None:
    grants = granted("CaseEventsRole")
    queue = [{"Fn::GetAtt": ["CaseEventsQueue", "Arn"]}]
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert grants[action] == queue
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"):
        assert {"Fn::GetAtt": ["ConversationStateTable", "Arn"]} in grants[action]
    assert not [action for action in grants if action.startswith(("sns:", "states:", "s3:"))]
    mapping = RESOURCES["CaseEventsEventSourceMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["CaseEventsQueue", "Arn"]}


def test_transcript_bucket_is_encrypted_and_private() -> None:
    bucket = RESOURCES["TranscriptBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4


def test_state_table_is_the_one_the_dynamodb_store_creates() -> None:
    table = RESOURCES["ConversationStateTable"]["Properties"]
    expected = table_definition("unused")
    assert table["BillingMode"] == expected["BillingMode"] == "PAY_PER_REQUEST"
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes"):
        assert table[key] == expected[key], key


def test_topics_deliver_to_email_and_to_the_case_queue_which_allows_them() -> None:
    for topic, email in (("ExpertsTopic", "Tier1ExpertEmail"), ("SecondTierTopic", "Tier2ExpertEmail")):
        subscriptions = RESOURCES[topic]["Properties"]["Subscription"]
        assert {"Protocol": "email", "Endpoint": {"Ref": email}} in subscriptions
        assert {"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["CaseEventsQueue", "Arn"]}} in subscriptions
    [statement] = RESOURCES["CaseEventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Ref": "ExpertsTopic"},
        {"Ref": "SecondTierTopic"},
    ]


def test_lambda_handlers_and_environment_match_the_code() -> None:
    functions = {
        name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::Lambda::Function"
    }
    known = {f"CHATBOT_{field.upper()}" for field in Settings.model_fields}
    known |= {f"CHATBOT_ESCALATION_{field.upper()}" for field in TriggerWorkflowConfig.model_fields}
    for name, function in functions.items():
        module_name, _, function_name = function["Handler"].rpartition(".")
        assert module_name.startswith("lambdas."), name
        module = importlib.import_module(module_name)
        assert callable(getattr(module, function_name)), name
        assert set(function["Environment"]["Variables"]) <= known, name


def test_local_template_leaves_out_only_what_moto_cannot_do() -> None:
    local = local_template(TEMPLATE)
    kept = local.template["Resources"]
    assert not [name for name, r in kept.items() if r["Type"] in LOCAL_SKIPPED_TYPES]
    assert {
        "TranscriptBucket",
        "ConversationStateTable",
        "CaseEventsQueue",
        "ExpertsTopic",
        "SecondTierTopic",
    } <= set(kept)
    assert set(local.skipped) | set(kept) == set(RESOURCES)
    for name, resource in kept.items():
        assert not set(references(resource)) & set(local.skipped), name
    assert set(references(kept)) - {"AWS::StackName", "AWS::NoValue", "AWS::Region", "AWS::AccountId"} <= set(
        kept
    ) | set(local.template["Parameters"])


@pytest.fixture(scope="module")
def stack(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, LocalResources]:
    return bootstrap_stack(moto_server, tmp_path_factory.mktemp("infra"), "infra-tests")


def test_template_deployed_into_moto_runs_an_escalation(stack: tuple[Settings, LocalResources]) -> None:
    settings, resources = stack
    cloudformation = client("cloudformation", settings)
    status = cloudformation.describe_stacks(StackName=resources.stack_name)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
    physical = {
        summary["LogicalResourceId"]
        for summary in cloudformation.list_stack_resources(StackName=resources.stack_name)[
            "StackResourceSummaries"
        ]
    }
    assert {"TranscriptBucket", "ConversationStateTable", "CaseEventsQueue", "ExpertsTopic"} <= physical

    event = make_event()
    started = start_escalation(settings, resources, event)
    reader = CaseQueueReader(client("sqs", settings), resources.case_events_queue_url)
    offer = reader.next_notification(event.conversation_id, 0)
    assert offer.topic_arn == resources.experts_topic_arn
    expert_actions.accept(offer.task_token, "Ana", settings=settings)
    [assigned] = reader.wait_for_case_events(event.conversation_id)
    assert (assigned.kind, assigned.expert) == (CaseEventKind.ASSIGNED, "Ana")
    assert client("stepfunctions", settings).describe_execution(executionArn=started.execution_arn)[
        "status"
    ] in (
        "SUCCEEDED",
        "RUNNING",  # the final Pass state may still be running
    )


def test_stack_resources_have_the_template_settings(stack: tuple[Settings, LocalResources]) -> None:
    settings, resources = stack
    s3 = client("s3", settings)
    assert all(
        s3.get_public_access_block(Bucket=resources.transcript_bucket)[
            "PublicAccessBlockConfiguration"
        ].values()
    )
    assert s3.get_bucket_encryption(Bucket=resources.transcript_bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    table = client("dynamodb", settings).describe_table(TableName=resources.state_table)["Table"]
    assert [key["AttributeName"] for key in table["KeySchema"]] == ["pk", "sk"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "open-cases"
    attributes = client("sqs", settings).get_queue_attributes(
        QueueUrl=resources.case_events_queue_url, AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    subscriptions = client("sns", settings).list_subscriptions_by_topic(TopicArn=resources.experts_topic_arn)
    protocols = sorted(item["Protocol"] for item in subscriptions["Subscriptions"])
    assert protocols == ["email", "sqs"]


def test_bootstrap_is_idempotent(stack: tuple[Settings, LocalResources], moto_server: MotoServer) -> None:
    settings, resources = stack
    again = bootstrap_stack(moto_server, settings.data_dir, resources.stack_name)[1]
    assert again == resources


def test_bundle_holds_the_packages_and_the_definition(tmp_path: Path) -> None:
    bundle = deploy.build_bundle(tmp_path, with_dependencies=False)
    names = set(zipfile.ZipFile(bundle).namelist())
    for required in (
        "lambdas/trigger_workflow/handler.py",
        "lambdas/runtime.py",
        "chatbot/config.py",
        "workflows/escalation/escalation.asl.json",
        "workflows/escalation/execution.py",
    ):
        assert required in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/")]
    assert deploy.pinned_dependencies()[0].startswith("pydantic==")


def test_deploy_creates_the_full_stack(moto_server: MotoServer, tmp_path: Path) -> None:
    """``infra.deploy`` against moto: artifacts uploaded, stack created with the Lambdas configured."""
    settings = stack_settings(moto_server, tmp_path, "deploy-tests").model_copy(
        update={"expert_emails_tier1": ["lead@example.com", "second@example.com"]}
    )
    s3 = client("s3", settings)
    s3.create_bucket(Bucket="deploy-tests-artifacts")
    with pytest.warns(UserWarning, match="not supported by moto"):  # policies and the invoke config
        deployed = deploy.deploy(settings, "deploy-tests-artifacts", "deploy-tests", with_dependencies=False)

    keys = {item["Key"] for item in s3.list_objects_v2(Bucket="deploy-tests-artifacts")["Contents"]}
    assert {deployed.code_key, deployed.definition_key} <= keys
    function = client("lambda", settings).get_function(FunctionName=settings.trigger_workflow_function)
    configuration = function["Configuration"]
    assert configuration["Handler"] == "lambdas.trigger_workflow.handler.lambda_handler"
    assert configuration["Environment"]["Variables"]["CHATBOT_ESCALATION_STATE_MACHINE_ARN"].endswith(
        ":stateMachine:deploy-tests-escalation"
    )
    emails = {
        item["Endpoint"]
        for item in client("sns", settings).list_subscriptions()["Subscriptions"]
        if item["Protocol"] == "email"
    }
    assert {"lead@example.com", "second@example.com"} <= emails
