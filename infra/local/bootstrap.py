"""Create the local stack's AWS resources in the moto server from ``infra/template.yaml`` itself.

1. The template, less what moto cannot create or run (:func:`infra.template.local_template`), is deployed
   into moto's CloudFormation: transcript bucket, state table, expert topics with their email and queue
   subscriptions, case-events queue and its dead-letter queue, the trigger-failures queue, the roles.
2. The escalation state machine is created with boto3 from the template's own properties: its name and
   role, and the definition rendered with its ``DefinitionSubstitutions`` resolved against the stack
   (moto's CloudFormation would put it in a backend that does not execute state machines).
3. Bucket settings moto's CloudFormation ignores (public access block, versioning) are applied with boto3.

Lambdas are not created: locally they run in-process. Running it again reuses what exists.
"""

from __future__ import annotations

import json
import re
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from chatbot.aws import client
from chatbot.config import Settings, load_settings
from chatbot.errors import ConfigError
from chatbot.logging import configure_logging
from infra.stacks import as_parameters, physical_ids, settings_parameters, stack_status
from infra.template import STATE_MACHINE_TYPE, Template, TemplateError, load_template, local_template
from workflows.escalation.definition import render_definition

log = structlog.get_logger(__name__)

DEFAULT_STACK_NAME = "support-chatbot"
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9:]+)\}")


class LocalResources(BaseModel):
    """Names, ARNs and URLs of what the local stack uses, as created in the moto server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stack_name: str
    transcript_bucket: str
    state_table: str
    experts_topic_arn: str
    second_tier_topic_arn: str
    case_events_queue_url: str
    case_events_dead_letter_queue_url: str
    trigger_failures_queue_url: str
    state_machine_arn: str
    not_created: list[str] = Field(description="Logical ids of the template left out locally.")

    def trigger_workflow_environment(self) -> dict[str, str]:
        """The variables the template gives ``triggerWorkflow``, for running its handler in-process."""
        return {"CHATBOT_ESCALATION_STATE_MACHINE_ARN": self.state_machine_arn}


class _Stack:
    """A created stack's physical ids, to resolve the template's ``Ref``/``Sub``/``GetAtt`` values."""

    def __init__(self, name: str, resources: dict[str, str], settings: Settings) -> None:
        self.name = name
        self._resources = resources
        self._settings = settings

    def resolve(self, value: Any) -> str:
        if isinstance(value, str | int):
            return str(value)
        if isinstance(value, dict) and list(value) == ["Ref"]:
            return self._ref(str(value["Ref"]))
        if isinstance(value, dict) and list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
            return _SUB_NAME.sub(lambda match: self._ref(match.group(1)), value["Fn::Sub"])
        if isinstance(value, dict) and list(value) == ["Fn::GetAtt"] and value["Fn::GetAtt"][1] == "Arn":
            return self._role_arn(str(value["Fn::GetAtt"][0]))
        raise TemplateError(f"the local stack cannot resolve {value!r}")

    def _ref(self, name: str) -> str:
        if name == "AWS::StackName":
            return self.name
        if name == "AWS::Region":
            return self._settings.aws_region
        if name not in self._resources:
            raise TemplateError(f"{name} was not created in the local stack")
        return self._resources[name]

    def _role_arn(self, name: str) -> str:
        iam = client("iam", self._settings)
        return str(iam.get_role(RoleName=self._ref(name))["Role"]["Arn"])


def _deploy_stack(
    cloudformation: Any, stack_name: str, template: Template, parameters: dict[str, str]
) -> None:
    if stack_status(cloudformation, stack_name) in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        log.info("local_stack.reused", stack_name=stack_name)
        return
    wanted = {name: value for name, value in parameters.items() if name in template.get("Parameters", {})}
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=as_parameters(wanted),
    )
    status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if status["StackStatus"] != "CREATE_COMPLETE":
        raise TemplateError(
            f"local stack {stack_name}: {status['StackStatus']} {status.get('StackStatusReason')}"
        )
    log.info("local_stack.created", stack_name=stack_name)


def _create_state_machine(settings: Settings, stack: _Stack, properties: dict[str, Any]) -> str:
    stepfunctions = client("stepfunctions", settings)
    name = stack.resolve(properties["StateMachineName"])
    role_arn = stack.resolve(properties["RoleArn"])
    substitutions = {
        key: stack.resolve(value) for key, value in properties["DefinitionSubstitutions"].items()
    }
    definition = render_definition(substitutions)
    existing = [
        machine["stateMachineArn"]
        for page in stepfunctions.get_paginator("list_state_machines").paginate()
        for machine in page["stateMachines"]
        if machine["name"] == name
    ]
    if existing:
        stepfunctions.update_state_machine(
            stateMachineArn=existing[0], definition=definition, roleArn=role_arn
        )
        return str(existing[0])
    response = stepfunctions.create_state_machine(
        name=name,
        definition=definition,
        roleArn=role_arn,
        type=properties.get("StateMachineType", "STANDARD"),
    )
    return str(response["stateMachineArn"])


def _apply_bucket_settings(settings: Settings, bucket: str, properties: dict[str, Any]) -> None:
    s3 = client("s3", settings)
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
        )
    if "VersioningConfiguration" in properties:
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": properties["VersioningConfiguration"]["Status"]}
        )


def bootstrap(settings: Settings, stack_name: str = DEFAULT_STACK_NAME) -> LocalResources:
    """Create (or find) every AWS resource of the local stack in the moto server at ``aws_endpoint_url``."""
    if not settings.aws_endpoint_url:
        raise ConfigError(
            "the local stack needs CHATBOT_AWS_ENDPOINT_URL (the moto server); it never deploys to AWS"
        )
    template = load_template()
    local = local_template(template)
    cloudformation = client("cloudformation", settings)
    _deploy_stack(cloudformation, stack_name, local.template, settings_parameters(settings))
    physical = physical_ids(cloudformation, stack_name)
    stack = _Stack(stack_name, physical, settings)
    resources = template["Resources"]
    machines = [name for name, resource in resources.items() if resource["Type"] == STATE_MACHINE_TYPE]
    if len(machines) != 1:
        raise TemplateError(f"expected one state machine in the template, found {machines}")
    state_machine_arn = _create_state_machine(settings, stack, resources[machines[0]]["Properties"])
    _apply_bucket_settings(
        settings, physical["TranscriptBucket"], resources["TranscriptBucket"]["Properties"]
    )
    created = LocalResources(
        stack_name=stack_name,
        transcript_bucket=physical["TranscriptBucket"],
        state_table=physical["ConversationStateTable"],
        experts_topic_arn=physical["ExpertsTopic"],
        second_tier_topic_arn=physical["SecondTierTopic"],
        case_events_queue_url=physical["CaseEventsQueue"],
        case_events_dead_letter_queue_url=physical["CaseEventsDeadLetterQueue"],
        trigger_failures_queue_url=physical["TriggerWorkflowFailuresQueue"],
        state_machine_arn=state_machine_arn,
        not_created=local.skipped,
    )
    log.info("local_stack.ready", stack_name=stack_name, not_created=local.skipped)
    return created


def main() -> None:
    """``python -m infra.local.bootstrap``: create the resources and print them as JSON."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    print(bootstrap(settings).model_dump_json(indent=2))


if __name__ == "__main__":
    main()
