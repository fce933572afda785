"""Deploy ``infra/template.yaml`` to a real AWS account: what ``aws cloudformation package`` + ``deploy`` do.

1. Build the Lambda bundle: the ``chatbot``, ``lambdas`` and ``workflows`` packages plus the libraries the
   Lambdas import that the Python runtime lacks, as Linux wheels for the runtime's Python (pinned to the
   versions installed here, so AWS runs what the tests ran).
2. Upload the bundle and the workflow definition to the artifact bucket under content-hash keys (a change
   makes CloudFormation update the functions and the state machine; no change, no update).
3. Create or update the stack through a change set and wait for it; print the outputs.
4. Subscribe the expert addresses beyond the first of each tier (the template takes one per tier).

    python -m infra.deploy --artifact-bucket my-artifacts [--stack-name support-chatbot]

Expert addresses, console URL, table and bucket names come from the usual ``CHATBOT_*`` settings.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
from botocore.exceptions import ClientError, WaiterError
from pydantic import BaseModel, ConfigDict

from chatbot.aws import client
from chatbot.config import PROJECT_ROOT, Settings, load_settings
from chatbot.errors import ChatbotError
from chatbot.logging import configure_logging
from infra.stacks import as_parameters, physical_ids, settings_parameters, stack_status
from infra.template import TEMPLATE_PATH
from workflows.escalation.definition import DEFINITION_PATH

log = structlog.get_logger(__name__)

BUNDLED_PACKAGES = ("chatbot", "lambdas", "workflows")
# what the Lambdas import beyond the standard library and the runtime's boto3
LAMBDA_DEPENDENCIES = ("pydantic", "pydantic-settings", "structlog")
LAMBDA_PYTHON = "3.11"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
ARTIFACT_PREFIX = "support-chatbot"
NO_CHANGES = "didn't contain changes"


class DeployError(ChatbotError):
    """Building, uploading or deploying the stack failed; the message says which step."""


class DeployedStack(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stack_name: str
    code_key: str
    definition_key: str
    outputs: dict[str, str]
    changed: bool


def pinned_dependencies() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in LAMBDA_DEPENDENCIES]


def _copy_package(name: str, destination: Path) -> None:
    shutil.copytree(
        PROJECT_ROOT / name,
        destination / name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache"),
    )


def build_bundle(out_dir: Path, *, with_dependencies: bool = True) -> Path:
    """A zip of the project's packages (and, unless told otherwise, their Lambda dependencies)."""
    with tempfile.TemporaryDirectory(prefix="lambda-bundle-") as staging_name:
        staging = Path(staging_name)
        if with_dependencies:
            command = [
                sys.executable, "-m", "pip", "install", "--quiet", "--target", str(staging),
                "--platform", LAMBDA_PLATFORM, "--python-version", LAMBDA_PYTHON,
                "--implementation", "cp", "--only-binary=:all:", *pinned_dependencies(),
            ]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise DeployError(f"pip could not fetch the Lambda dependencies: {result.stderr.strip()}")
        for package in BUNDLED_PACKAGES:
            _copy_package(package, staging)
        out_dir.mkdir(parents=True, exist_ok=True)
        bundle = out_dir / "lambda-bundle.zip"
        with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(staging.rglob("*")):
                if path.is_file():
                    # fixed timestamps: the same sources give the same bytes, hence the same key
                    info = zipfile.ZipInfo(
                        path.relative_to(staging).as_posix(), date_time=(1980, 1, 1, 0, 0, 0)
                    )
                    info.external_attr = 0o644 << 16
                    archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
    log.info("deploy.bundle_built", path=str(bundle), bytes=bundle.stat().st_size)
    return bundle


def content_key(path: Path, stem: str, suffix: str) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    return f"{ARTIFACT_PREFIX}/{stem}-{digest}{suffix}"


def upload_artifacts(s3: Any, bucket: str, bundle: Path) -> tuple[str, str]:
    """Upload the bundle and the ASL definition; returns their keys."""
    code_key = content_key(bundle, "lambda", ".zip")
    definition_key = content_key(DEFINITION_PATH, "escalation", ".asl.json")
    try:
        s3.upload_file(str(bundle), bucket, code_key)
        s3.upload_file(str(DEFINITION_PATH), bucket, definition_key)
    except (ClientError, OSError) as error:
        raise DeployError(f"could not upload artifacts to s3://{bucket}: {error}") from error
    log.info("deploy.uploaded", bucket=bucket, code_key=code_key, definition_key=definition_key)
    return code_key, definition_key


def stack_parameters(
    settings: Settings, artifact_bucket: str, code_key: str, definition_key: str
) -> dict[str, str]:
    return {
        **settings_parameters(settings),
        "ArtifactBucket": artifact_bucket,
        "LambdaCodeKey": code_key,
        "StateMachineDefinitionKey": definition_key,
    }


def deploy_stack(
    cloudformation: Any, stack_name: str, parameters: dict[str, str]
) -> tuple[dict[str, str], bool]:
    """Create or update the stack with a change set; returns its outputs and whether anything changed."""
    exists = stack_status(cloudformation, stack_name) not in (None, "REVIEW_IN_PROGRESS")
    change_set_name = f"deploy-{hashlib.sha256(repr(sorted(parameters.items())).encode()).hexdigest()[:12]}"
    cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=change_set_name,
        ChangeSetType="UPDATE" if exists else "CREATE",
        TemplateBody=TEMPLATE_PATH.read_text(encoding="utf-8"),
        Parameters=as_parameters(parameters),
        Capabilities=["CAPABILITY_IAM"],
    )
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            StackName=stack_name, ChangeSetName=change_set_name, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except WaiterError as error:
        reason = cloudformation.describe_change_set(StackName=stack_name, ChangeSetName=change_set_name).get(
            "StatusReason", ""
        )
        if NO_CHANGES in reason:
            cloudformation.delete_change_set(StackName=stack_name, ChangeSetName=change_set_name)
            log.info("deploy.no_changes", stack_name=stack_name)
            return _outputs(cloudformation, stack_name), False
        raise DeployError(f"change set {change_set_name} failed: {reason}") from error
    cloudformation.execute_change_set(StackName=stack_name, ChangeSetName=change_set_name)
    waiter = "stack_update_complete" if exists else "stack_create_complete"
    try:
        cloudformation.get_waiter(waiter).wait(
            StackName=stack_name, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
        )
    except WaiterError as error:
        raise DeployError(f"stack {stack_name} did not reach {waiter}: {error}") from error
    log.info("deploy.stack_ready", stack_name=stack_name)
    return _outputs(cloudformation, stack_name), True


def _outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def subscribe_extra_experts(sns: Any, cloudformation: Any, stack_name: str, settings: Settings) -> None:
    """Email subscriptions for the second and later address of each tier (SNS asks each to confirm)."""
    physical = physical_ids(cloudformation, stack_name)
    for logical_id, addresses in (
        ("ExpertsTopic", settings.expert_emails_tier1[1:]),
        ("SecondTierTopic", settings.expert_emails_tier2[1:]),
    ):
        for address in addresses:
            # subscribing an address twice returns the existing subscription
            sns.subscribe(TopicArn=physical[logical_id], Protocol="email", Endpoint=address)


def deploy(
    settings: Settings, artifact_bucket: str, stack_name: str, *, with_dependencies: bool = True
) -> DeployedStack:
    with tempfile.TemporaryDirectory(prefix="deploy-") as work:
        bundle = build_bundle(Path(work), with_dependencies=with_dependencies)
        code_key, definition_key = upload_artifacts(client("s3", settings), artifact_bucket, bundle)
    parameters = stack_parameters(settings, artifact_bucket, code_key, definition_key)
    cloudformation = client("cloudformation", settings)
    outputs, changed = deploy_stack(cloudformation, stack_name, parameters)
    subscribe_extra_experts(client("sns", settings), cloudformation, stack_name, settings)
    return DeployedStack(
        stack_name=stack_name,
        code_key=code_key,
        definition_key=definition_key,
        outputs=outputs,
        changed=changed,
    )


def main(
    artifact_bucket: Annotated[
        str, typer.Option(help="Existing S3 bucket (same region) for code and definition.")
    ],
    stack_name: Annotated[str, typer.Option(help="CloudFormation stack name.")] = "support-chatbot",
) -> None:
    """Build, upload and deploy the stack; print its outputs as JSON."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    typer.echo(deploy(settings, artifact_bucket, stack_name).model_dump_json(indent=2))


if __name__ == "__main__":
    typer.run(main)
