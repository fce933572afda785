"""infra/labeling.yaml: cfn-lint clean, least-privilege roles, handlers and settings that exist."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from chatbot.config import ENV_PREFIX, PROJECT_ROOT, Settings

cfnlint_api = pytest.importorskip("cfnlint.api")
cfnlint_decode = pytest.importorskip("cfnlint.decode")

TEMPLATE = PROJECT_ROOT / "infra" / "labeling.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, problems = cfnlint_decode.decode(str(TEMPLATE))
    assert problems == []
    return dict(decoded)


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def test_cfn_lint_finds_nothing() -> None:
    matches = cfnlint_api.lint_file(Path(TEMPLATE))
    assert [str(match) for match in matches] == []


def test_consolidation_lambda_reads_only_the_labels_prefix(template: dict[str, Any]) -> None:
    role = template["Resources"]["PostAnnotationRole"]
    s3_statements = [s for s in statements(role) if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    assert len(s3_statements) == 1
    (statement,) = s3_statements
    assert as_list(statement["Action"]) == ["s3:GetObject"]
    assert statement["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${LabelsPrefix}*"}


def test_pre_annotation_lambda_reads_only_the_manifests_prefix(template: dict[str, Any]) -> None:
    role = template["Resources"]["PreAnnotationRole"]
    s3_statements = [s for s in statements(role) if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    (statement,) = s3_statements
    assert as_list(statement["Action"]) == ["s3:GetObject"]
    assert statement["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/${ManifestPrefix}*"}


def test_no_role_grants_wildcard_actions_or_whole_bucket_objects(template: dict[str, Any]) -> None:
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for statement in statements(resource):
            assert statement["Effect"] == "Allow"
            assert all("*" not in action for action in as_list(statement["Action"])), name
            for target in as_list(statement["Resource"]):
                arn = target.get("Fn::Sub") if isinstance(target, dict) else target
                if isinstance(arn, str):
                    assert not arn.endswith("${BucketName}/*"), f"{name} reaches every object of the bucket"
                if target == "*":
                    assert "Condition" in statement, f"{name} grants {statement['Action']} on * unconditioned"


def test_labeling_job_role_invokes_exactly_the_two_functions(template: dict[str, Any]) -> None:
    role = template["Resources"]["LabelingJobRole"]
    (invoke,) = [s for s in statements(role) if "lambda:InvokeFunction" in as_list(s["Action"])]
    assert invoke["Resource"] == [
        {"Fn::GetAtt": ["PreAnnotationFunction", "Arn"]},
        {"Fn::GetAtt": ["PostAnnotationFunction", "Arn"]},
    ]
    (principal,) = [s["Principal"] for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]]
    assert principal == {"Service": "sagemaker.amazonaws.com"}


@pytest.mark.parametrize("function", ["PreAnnotationFunction", "PostAnnotationFunction"])
def test_functions_point_at_real_handlers_and_real_settings(template: dict[str, Any], function: str) -> None:
    properties = template["Resources"][function]["Properties"]
    module_name, _, attribute = properties["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))
    for variable in properties["Environment"]["Variables"]:
        assert variable.startswith(ENV_PREFIX)
        assert variable[len(ENV_PREFIX) :].lower() in Settings.model_fields, variable


def test_outputs_name_the_settings_they_fill(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for output, setting in [
        ("PreAnnotationFunctionArn", "labeling_pre_lambda_arn"),
        ("PostAnnotationFunctionArn", "labeling_post_lambda_arn"),
        ("LabelingJobRoleArn", "labeling_role_arn"),
    ]:
        assert setting in Settings.model_fields
        assert outputs[output]["Description"] == f"{ENV_PREFIX}{setting.upper()}"
