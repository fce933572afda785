"""CloudFormation calls the AWS deploy and the local (moto) stack both make, and the parameter values both
take from the same settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from chatbot.config import Settings


def settings_parameters(settings: Settings) -> dict[str, str]:
    """Template parameters that come from the settings the apps read (the template subscribes the first
    address of each expert tier; ``deploy`` subscribes the others)."""
    return {
        "ConsoleUrl": settings.expert_console_url,
        "Tier1ExpertEmail": settings.expert_emails_tier1[0],
        "Tier2ExpertEmail": settings.expert_emails_tier2[0],
        "TriggerWorkflowFunctionName": settings.trigger_workflow_function,
        "TranscriptBucketName": settings.transcript_bucket,
        "StateTableName": settings.state_table,
    }


def as_parameters(values: Mapping[str, str]) -> list[dict[str, str]]:
    """``Parameters`` of ``create_stack``/``create_change_set``."""
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def stack_status(cloudformation: Any, stack_name: str) -> str | None:
    """The stack's ``StackStatus``; None when there is no such stack."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        return None
    return str(stacks[0]["StackStatus"]) if stacks else None


def physical_ids(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource of the stack."""
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    return {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for page in pages
        for summary in page["StackResourceSummaries"]
    }
