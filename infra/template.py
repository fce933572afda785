"""The CloudFormation template as data: read with its short-form tags, and its local (moto) variant.

moto's CloudFormation creates the template's bucket, table, topics (with their subscriptions), queues and
roles. It cannot run Lambdas (locally they run in-process), ignores queue and bucket policies, and puts a
state machine into a backend that does not execute it. :func:`local_template` leaves those resources out
(and whatever refers to them); ``infra.local.bootstrap`` creates the state machine with boto3 from the
template's own properties and :func:`workflows.escalation.definition.render_definition`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from chatbot.errors import ChatbotError

TEMPLATE_PATH = Path(__file__).with_name("template.yaml")

LOCAL_SKIPPED_TYPES = frozenset(
    {
        # moto's CloudFormation creates it in its non-executing backend: bootstrap creates it with boto3
        "AWS::StepFunctions::StateMachine",
        # Lambdas run in-process locally; policies and log groups mean nothing to moto
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Logs::LogGroup",
        "AWS::SQS::QueuePolicy",
        "AWS::S3::BucketPolicy",
    }
)
STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}")

Template = dict[str, Any]


class TemplateError(ChatbotError):
    """The template cannot be read or rewritten for the local stack."""


# a YAML loader that turns ``!Ref``, ``!GetAtt``, ``!Sub``... into their long JSON forms
_CloudFormationLoader: Any = type("_CloudFormationLoader", (yaml.SafeLoader,), {})


def _intrinsic(name: str) -> Any:
    def construct(loader: Any, node: Any) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _function in ("Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select"):
    _CloudFormationLoader.add_constructor(f"!{_function}", _intrinsic(f"Fn::{_function}"))
for _function in ("Split", "Sub", "If", "Equals", "Not", "And", "Or", "Transform", "Length", "ToJsonString"):
    _CloudFormationLoader.add_constructor(f"!{_function}", _intrinsic(f"Fn::{_function}"))
_CloudFormationLoader.add_constructor("!Ref", _intrinsic("Ref"))
_CloudFormationLoader.add_constructor("!Condition", _intrinsic("Condition"))


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    try:
        template = yaml.load(path.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)  # noqa: S506
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"cannot read template {path}: {error}") from error
    if not isinstance(template, dict) or "Resources" not in template:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return template


def references(value: Any) -> Iterator[str]:
    """Logical ids (and parameters) that ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub`` in ``value`` point at."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt" and isinstance(inner, list) and inner:
                yield str(inner[0])
            elif key == "Fn::Sub":
                text, variables = (inner[0], inner[1]) if isinstance(inner, list) else (inner, {})
                yield from (name for name in _SUB_REFERENCE.findall(str(text)) if name not in variables)
                yield from references(variables)
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


class LocalTemplate(NamedTuple):
    template: Template
    skipped: list[str]  # logical ids left out, sorted


def local_template(template: Template | None = None) -> LocalTemplate:
    """The template as moto's CloudFormation can create it (see the module docstring).

    Resources of :data:`LOCAL_SKIPPED_TYPES` are left out, and so is whatever refers to them (the Lambdas'
    roles), as are outputs naming them and parameters nothing uses any more.
    """
    local = copy.deepcopy(template if template is not None else load_template())
    resources: dict[str, Any] = local["Resources"]
    skipped = {name for name, resource in resources.items() if resource.get("Type") in LOCAL_SKIPPED_TYPES}
    while True:
        dependent = {
            name
            for name, resource in resources.items()
            if name not in skipped and (set(references(resource)) | _depends_on(resource)) & skipped
        }
        if not dependent:
            break
        skipped |= dependent
    for name in skipped:
        del resources[name]
    outputs: dict[str, Any] = local.get("Outputs", {})
    for name in [name for name, output in outputs.items() if set(references(output)) & skipped]:
        del outputs[name]
    used = set(references({key: local.get(key) for key in ("Resources", "Outputs", "Conditions")}))
    local["Parameters"] = {name: spec for name, spec in local.get("Parameters", {}).items() if name in used}
    return LocalTemplate(template=local, skipped=sorted(skipped))


def _depends_on(resource: Mapping[str, Any]) -> set[str]:
    depends_on = resource.get("DependsOn", [])
    return {depends_on} if isinstance(depends_on, str) else set(depends_on)
