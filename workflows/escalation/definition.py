"""The escalation state machine's ASL definition and the one function that fills in its placeholders.

The file holds ``${Name}`` placeholders for the ARNs and URLs of the resources it uses. In AWS,
CloudFormation fills them from the state machine's ``DefinitionSubstitutions``; locally (moto) and in tests,
:func:`render_definition` does the same replacement with the same names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workflows.escalation.errors import WorkflowDefinitionError

DEFINITION_PATH = Path(__file__).with_name("escalation.asl.json")

PLACEHOLDER_PATTERN = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


class DefinitionSubstitutions(BaseModel):
    """Values of the definition's placeholders, under the names CloudFormation's substitutions use."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    experts_topic_arn: str = Field(alias="ExpertsTopicArn", min_length=1)
    second_tier_topic_arn: str = Field(alias="SecondTierTopicArn", min_length=1)
    case_events_queue_url: str = Field(alias="CaseEventsQueueUrl", min_length=1)

    def as_mapping(self) -> dict[str, str]:
        return self.model_dump(by_alias=True)


def definition_template() -> str:
    """The ASL text as stored, placeholders included."""
    return DEFINITION_PATH.read_text(encoding="utf-8")


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER_PATTERN.findall(template))


def render_definition(
    substitutions: DefinitionSubstitutions | Mapping[str, str], template: str | None = None
) -> str:
    """Replace each ``${Name}`` as ``DefinitionSubstitutions`` does; a name without a value is an error."""
    values = (
        substitutions.as_mapping()
        if isinstance(substitutions, DefinitionSubstitutions)
        else dict(substitutions)
    )
    text = definition_template() if template is None else template
    missing = placeholders(text) - values.keys()
    if missing:
        raise WorkflowDefinitionError(
            f"no value for placeholder(s) {sorted(missing)} of the escalation workflow"
        )
    for name, value in values.items():
        if '"' in value or "\\" in value:
            # the placeholders sit inside JSON strings; a quote would change the definition's structure
            raise WorkflowDefinitionError(
                f"value of {name} must not contain quotes or backslashes: {value!r}"
            )
    rendered = PLACEHOLDER_PATTERN.sub(lambda match: values[match.group(1)], text)
    try:
        json.loads(rendered)
    except json.JSONDecodeError as error:
        raise WorkflowDefinitionError(f"the rendered escalation workflow is not JSON: {error}") from error
    return rendered
