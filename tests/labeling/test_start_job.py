"""Starting a Ground Truth job: uploads go to the moto server; CreateLabelingJob (not in moto) is stubbed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from chatbot.aws import client
from chatbot.config import Settings, load_settings
from chatbot.errors import ConfigError, LabelingJobError
from infra.local.moto_server import MotoServer
from tests.labeling.samples import (
    LABELING_BUCKET,
    ensure_labeling_bucket,
    sample_items,
    write_input_manifest,
)
from workflows.labeling.gt_task import TASK_DESCRIPTION, TEMPLATE_PATH
from workflows.labeling.labeling_cli import register
from workflows.labeling.start_job import LabelingJobConfig, stage_job, start_job

ACCOUNT = "111122223333"
LABELING = {
    "labeling_bucket": LABELING_BUCKET,
    "labeling_workteam_arn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:workteam/private-crowd/support-experts",
    "labeling_role_arn": f"arn:aws:iam::{ACCOUNT}:role/support-chatbot-labeling-job",
    "labeling_pre_lambda_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:support-chatbot-gt-pre",
    "labeling_post_lambda_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:support-chatbot-gt-post",
}


@pytest.fixture
def labeling_settings(tmp_path: Path, moto_server: MotoServer) -> Settings:
    settings = load_settings(
        data_dir=tmp_path / "data", aws_endpoint_url=moto_server.endpoint_url, **LABELING
    )
    ensure_labeling_bucket(settings)
    return settings


def s3_text(settings: Settings, key: str) -> str:
    body: bytes = client("s3", settings).get_object(Bucket=LABELING_BUCKET, Key=key)["Body"].read()
    return body.decode("utf-8")


def expected_request(job_name: str, manifest_uri: str) -> dict[str, Any]:
    return {
        "LabelingJobName": job_name,
        "LabelAttributeName": "answer-relevance",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": manifest_uri}}},
        "OutputConfig": {"S3OutputPath": f"s3://{LABELING_BUCKET}/labels/"},
        "RoleArn": LABELING["labeling_role_arn"],
        "HumanTaskConfig": {
            "WorkteamArn": LABELING["labeling_workteam_arn"],
            "UiConfig": {
                "UiTemplateS3Uri": f"s3://{LABELING_BUCKET}/manifests/{job_name}/template.liquid.html"
            },
            "PreHumanTaskLambdaArn": LABELING["labeling_pre_lambda_arn"],
            "TaskKeywords": ["chatbot", "relevance", "rating", "text"],
            "TaskTitle": "Rate how relevant a support bot's answer is",
            "TaskDescription": TASK_DESCRIPTION,
            "NumberOfHumanWorkersPerDataObject": 3,
            "TaskTimeLimitInSeconds": 600,
            "TaskAvailabilityLifetimeInSeconds": 864000,
            "AnnotationConsolidationConfig": {
                "AnnotationConsolidationLambdaArn": LABELING["labeling_post_lambda_arn"]
            },
        },
        "Tags": [
            {"Key": "project", "Value": "support-chatbot"},
            {"Key": "task", "Value": "answer-relevance"},
        ],
    }


def test_local_manifest_and_template_are_uploaded_and_the_job_request_is_complete(
    labeling_settings: Settings, tmp_path: Path
) -> None:
    manifest = write_input_manifest(tmp_path / "relevance.manifest", sample_items())
    config = LabelingJobConfig.from_settings(labeling_settings)
    staged = stage_job(config, client("s3", labeling_settings), str(manifest), "relevance-job-1")

    manifest_uri = f"s3://{LABELING_BUCKET}/manifests/relevance-job-1/input.manifest"
    assert staged.manifest_uri == manifest_uri and staged.items == 4
    assert s3_text(labeling_settings, "manifests/relevance-job-1/input.manifest") == manifest.read_text()
    template = s3_text(labeling_settings, "manifests/relevance-job-1/template.liquid.html")
    assert template == TEMPLATE_PATH.read_text(encoding="utf-8")
    assert staged.output_manifest_uri == (
        f"s3://{LABELING_BUCKET}/labels/relevance-job-1/manifests/output/output.manifest"
    )

    sagemaker = client("sagemaker", labeling_settings)
    job_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:labeling-job/relevance-job-1"
    with Stubber(sagemaker) as stubber:  # validates the request against the service model too
        stubber.add_response(
            "create_labeling_job",
            {"LabelingJobArn": job_arn},
            expected_request("relevance-job-1", manifest_uri),
        )
        assert start_job(staged, sagemaker) == job_arn
        stubber.assert_no_pending_responses()


def test_a_manifest_already_in_s3_is_used_where_it_is(labeling_settings: Settings) -> None:
    config = LabelingJobConfig.from_settings(labeling_settings)
    uri = f"s3://{LABELING_BUCKET}/manifests/exported/2026-11-21.manifest"
    staged = stage_job(config, client("s3", labeling_settings), uri, "relevance-job-2")
    assert staged.manifest_uri == uri and staged.items is None
    assert staged.request == expected_request("relevance-job-2", uri)
    keys = client("s3", labeling_settings).list_objects_v2(
        Bucket=LABELING_BUCKET, Prefix="manifests/relevance-job-2/"
    )
    assert [entry["Key"] for entry in keys["Contents"]] == ["manifests/relevance-job-2/template.liquid.html"]


def test_aws_refusing_the_job_is_a_labeling_job_error(labeling_settings: Settings) -> None:
    config = LabelingJobConfig.from_settings(labeling_settings)
    staged = stage_job(config, client("s3", labeling_settings), f"s3://{LABELING_BUCKET}/m.manifest", "job-3")
    sagemaker = client("sagemaker", labeling_settings)
    with Stubber(sagemaker) as stubber:
        stubber.add_client_error("create_labeling_job", "ResourceInUse", "Job name job-3 is already taken")
        with pytest.raises(LabelingJobError, match="already taken"):
            start_job(staged, sagemaker)


def test_a_manifest_with_bad_lines_is_refused_before_anything_is_uploaded(
    labeling_settings: Settings, tmp_path: Path
) -> None:
    manifest = write_input_manifest(tmp_path / "bad.manifest", sample_items()[:2])
    with manifest.open("a") as handle:
        handle.write('{"source": "no metadata"}\n')
    config = LabelingJobConfig.from_settings(labeling_settings)
    with pytest.raises(LabelingJobError, match=r"bad.manifest:3: chatbot-metadata: Field required"):
        stage_job(config, client("s3", labeling_settings), str(manifest), "job-4")
    listed = client("s3", labeling_settings).list_objects_v2(
        Bucket=LABELING_BUCKET, Prefix="manifests/job-4/"
    )
    assert listed["KeyCount"] == 0


@pytest.mark.parametrize("name", ["-starts-with-hyphen", "has_underscore", "x" * 64, ""])
def test_invalid_job_names_are_refused(labeling_settings: Settings, name: str) -> None:
    config = LabelingJobConfig.from_settings(labeling_settings)
    with pytest.raises(LabelingJobError, match="job name"):
        stage_job(config, client("s3", labeling_settings), f"s3://{LABELING_BUCKET}/m", name)


def test_missing_settings_are_all_named() -> None:
    with pytest.raises(ConfigError) as raised:
        LabelingJobConfig.from_settings(load_settings(labeling_bucket=LABELING_BUCKET))
    message = str(raised.value)
    for name in ("WORKTEAM_ARN", "ROLE_ARN", "PRE_LAMBDA_ARN", "POST_LAMBDA_ARN"):
        assert f"CHATBOT_LABELING_{name}" in message
    assert "CHATBOT_LABELING_BUCKET" not in message


def test_a_label_attribute_ground_truth_forbids_is_refused() -> None:
    with pytest.raises(ConfigError, match="CHATBOT_LABELING_LABEL_ATTRIBUTE"):
        LabelingJobConfig.from_settings(load_settings(labeling_label_attribute="relevance-ref", **LABELING))


def cli_app() -> Any:
    import typer

    app = typer.Typer()
    register(app)
    return app


def test_cli_without_settings_names_what_is_missing() -> None:
    result = CliRunner().invoke(
        cli_app(), ["labeling", "start", "--manifest", "m.manifest", "--job-name", "j"]
    )
    assert result.exit_code == 1
    assert "CHATBOT_LABELING_WORKTEAM_ARN" in result.output


def test_cli_dry_run_uploads_and_prints_the_request(
    labeling_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", str(labeling_settings.aws_endpoint_url))
    for name, value in LABELING.items():
        monkeypatch.setenv(f"CHATBOT_{name.upper()}", value)
    manifest = write_input_manifest(tmp_path / "cli.manifest", sample_items())
    result = CliRunner().invoke(
        cli_app(), ["labeling", "start", "--manifest", str(manifest), "--job-name", "cli-job", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert request == expected_request("cli-job", f"s3://{LABELING_BUCKET}/manifests/cli-job/input.manifest")
    assert s3_text(labeling_settings, "manifests/cli-job/input.manifest") == manifest.read_text()
