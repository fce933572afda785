"""Starting a Ground Truth custom labeling job: stage the template and manifest in S3, then CreateLabelingJob.

Layout in ``labeling_bucket``::

    <labeling_manifest_prefix><job>/input.manifest          the input manifest (uploaded unless already in S3)
    <labeling_manifest_prefix><job>/template.liquid.html    the worker template
    <labeling_output_prefix><job>/...                       Ground Truth's output, e.g.
    <labeling_output_prefix><job>/manifests/output/output.manifest   the labeled manifest
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from chatbot.config import Settings
from chatbot.errors import ConfigError, LabelingJobError
from workflows.labeling.gt_task import (
    TASK_AVAILABILITY_S,
    TASK_DESCRIPTION,
    TASK_KEYWORDS,
    TASK_TIME_LIMIT_S,
    TASK_TITLE,
    TEMPLATE_PATH,
)
from workflows.labeling.input_manifest import parse_input_manifest
from workflows.labeling.s3uri import S3Location, is_s3_uri, parse_s3_uri

log = structlog.get_logger(__name__)

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
MANIFEST_NAME = "input.manifest"
TEMPLATE_NAME = "template.liquid.html"
MAX_ERRORS_SHOWN = 10

_REQUIRED_SETTINGS = (
    ("labeling_bucket", "S3 bucket for manifests, template and labels"),
    ("labeling_workteam_arn", "Ground Truth work team ARN"),
    ("labeling_role_arn", "IAM role Ground Truth assumes"),
    ("labeling_pre_lambda_arn", "pre-annotation Lambda ARN"),
    ("labeling_post_lambda_arn", "annotation-consolidation Lambda ARN"),
)


@dataclass(frozen=True)
class LabelingJobConfig:
    """Everything CreateLabelingJob needs besides the job name and its S3 objects."""

    bucket: str
    manifest_prefix: str
    output_prefix: str
    workteam_arn: str
    role_arn: str
    pre_lambda_arn: str
    post_lambda_arn: str
    label_attribute: str
    workers_per_item: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LabelingJobConfig:
        """Raises :class:`ConfigError` naming every missing setting at once."""
        missing = [
            f"CHATBOT_{name.upper()} ({meaning})"
            for name, meaning in _REQUIRED_SETTINGS
            if not getattr(settings, name)
        ]
        if missing:
            raise ConfigError("starting a labeling job needs " + ", ".join(missing))
        attribute = settings.labeling_label_attribute
        if attribute.endswith("-ref") or "-metadata" in attribute:
            raise ConfigError(
                f"CHATBOT_LABELING_LABEL_ATTRIBUTE={attribute!r}: must not end in -ref or contain -metadata"
            )
        return cls(
            bucket=str(settings.labeling_bucket),
            manifest_prefix=settings.labeling_manifest_prefix,
            output_prefix=settings.labeling_output_prefix,
            workteam_arn=str(settings.labeling_workteam_arn),
            role_arn=str(settings.labeling_role_arn),
            pre_lambda_arn=str(settings.labeling_pre_lambda_arn),
            post_lambda_arn=str(settings.labeling_post_lambda_arn),
            label_attribute=attribute,
            workers_per_item=settings.labeling_workers_per_item,
        )

    def job_input(self, job_name: str, name: str) -> S3Location:
        return S3Location(self.bucket, f"{self.manifest_prefix}{job_name}/{name}")

    @property
    def output_uri(self) -> str:
        return f"s3://{self.bucket}/{self.output_prefix}"


@dataclass(frozen=True)
class StagedJob:
    job_name: str
    manifest_uri: str
    template_uri: str
    output_uri: str
    items: int | None
    request: dict[str, Any]

    @property
    def output_manifest_uri(self) -> str:
        """Where Ground Truth writes the labeled manifest when the job is done."""
        return f"{self.output_uri}{self.job_name}/manifests/output/output.manifest"


def check_job_name(job_name: str) -> str:
    if not JOB_NAME_PATTERN.match(job_name):
        raise LabelingJobError(
            f"job name {job_name!r}: 1-63 letters, digits and hyphens, starting with a letter or digit"
        )
    return job_name


def create_labeling_job_request(
    config: LabelingJobConfig, job_name: str, manifest_uri: str, template_uri: str
) -> dict[str, Any]:
    """The CreateLabelingJob request of a custom relevance-rating job."""
    return {
        "LabelingJobName": job_name,
        "LabelAttributeName": config.label_attribute,
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": manifest_uri}}},
        "OutputConfig": {"S3OutputPath": config.output_uri},
        "RoleArn": config.role_arn,
        "HumanTaskConfig": {
            "WorkteamArn": config.workteam_arn,
            "UiConfig": {"UiTemplateS3Uri": template_uri},
            "PreHumanTaskLambdaArn": config.pre_lambda_arn,
            "TaskKeywords": list(TASK_KEYWORDS),
            "TaskTitle": TASK_TITLE,
            "TaskDescription": TASK_DESCRIPTION,
            "NumberOfHumanWorkersPerDataObject": config.workers_per_item,
            "TaskTimeLimitInSeconds": TASK_TIME_LIMIT_S,
            "TaskAvailabilityLifetimeInSeconds": TASK_AVAILABILITY_S,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": config.post_lambda_arn},
        },
        "Tags": [
            {"Key": "project", "Value": "support-chatbot"},
            {"Key": "task", "Value": "answer-relevance"},
        ],
    }


def _checked_manifest_bytes(manifest_path: Path) -> tuple[bytes, int]:
    """The file's bytes once every line is a usable input line; a job is never started on a bad manifest."""
    try:
        data = manifest_path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LabelingJobError(f"cannot read manifest {manifest_path}: {error}") from error
    manifest = parse_input_manifest(text, str(manifest_path))
    if manifest.errors:
        shown = "\n".join(f"  {error}" for error in manifest.errors[:MAX_ERRORS_SHOWN])
        more = len(manifest.errors) - MAX_ERRORS_SHOWN
        extra = f"\n  ... and {more} more" if more > 0 else ""
        raise LabelingJobError(f"manifest has {len(manifest.errors)} unusable line(s):\n{shown}{extra}")
    if not manifest.entries:
        raise LabelingJobError(f"manifest {manifest_path} has no items")
    return data, len(manifest.entries)


def _upload(s3: Any, target: S3Location, body: bytes, content_type: str) -> None:
    try:
        s3.put_object(Bucket=target.bucket, Key=target.key, Body=body, ContentType=content_type)
    except (ClientError, BotoCoreError) as error:
        raise LabelingJobError(f"cannot upload {target.uri}: {error}") from error


def stage_job(config: LabelingJobConfig, s3: Any, manifest: str, job_name: str) -> StagedJob:
    """Upload the template (and the manifest when it is a local file) and build the request."""
    check_job_name(job_name)
    items: int | None = None
    if is_s3_uri(manifest):
        try:
            manifest_uri = parse_s3_uri(manifest).uri
        except ValueError as error:
            raise LabelingJobError(str(error)) from None
    else:
        data, items = _checked_manifest_bytes(Path(manifest))
        target = config.job_input(job_name, MANIFEST_NAME)
        _upload(s3, target, data, "application/jsonlines")
        manifest_uri = target.uri
    template = config.job_input(job_name, TEMPLATE_NAME)
    _upload(s3, template, TEMPLATE_PATH.read_bytes(), "text/html")
    request = create_labeling_job_request(config, job_name, manifest_uri, template.uri)
    log.info(
        "labeling.job_staged", job_name=job_name, manifest=manifest_uri, template=template.uri, items=items
    )
    return StagedJob(job_name, manifest_uri, template.uri, config.output_uri, items, request)


def start_job(staged: StagedJob, sagemaker: Any) -> str:
    """Call CreateLabelingJob; returns the job ARN."""
    try:
        response = sagemaker.create_labeling_job(**staged.request)
    except (ClientError, BotoCoreError) as error:
        raise LabelingJobError(f"CreateLabelingJob {staged.job_name} failed: {error}") from error
    job_arn: str = response["LabelingJobArn"]
    log.info("labeling.job_started", job_name=staged.job_name, job_arn=job_arn)
    return job_arn
