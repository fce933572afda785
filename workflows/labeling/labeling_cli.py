"""``chatbot labeling ...``: start a Ground Truth job, or export the local page's ratings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from chatbot.aws import client
from chatbot.config import load_settings
from chatbot.errors import ChatbotError
from chatbot.logging import configure_logging
from workflows.labeling.local_labeling import default_export_path, local_job_name, open_local_labeling
from workflows.labeling.start_job import LabelingJobConfig, stage_job, start_job

labeling_app = typer.Typer(
    name="labeling",
    help="Label bot answers: Ground Truth jobs or the local labeling page.",
    no_args_is_help=True,
)


def _fail(error: ChatbotError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code=1)


@labeling_app.command("start")
def start_command(
    manifest: Annotated[str, typer.Option(help="Input manifest: a local file (uploaded) or an s3:// URI.")],
    job_name: Annotated[str, typer.Option(help="Labeling job name (letters, digits, hyphens; unique).")],
    dry_run: Annotated[
        bool, typer.Option(help="Upload and print the CreateLabelingJob request without sending it.")
    ] = False,
) -> None:
    """Start a Ground Truth custom labeling job rating answer relevance 1-5."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        config = LabelingJobConfig.from_settings(settings)
        staged = stage_job(config, client("s3", settings), manifest, job_name)
        if dry_run:
            typer.echo(json.dumps(staged.request, indent=2))
            return
        job_arn = start_job(staged, client("sagemaker", settings))
    except ChatbotError as error:
        raise _fail(error) from None
    typer.echo(f"job:             {job_arn}")
    typer.echo(
        f"manifest:        {staged.manifest_uri}" + (f" ({staged.items} items)" if staged.items else "")
    )
    typer.echo(f"template:        {staged.template_uri}")
    typer.echo(f"output manifest: {staged.output_manifest_uri} (when the job completes)")


@labeling_app.command("export")
def export_command(
    manifest: Annotated[Path, typer.Option(help="The input manifest the local page labels.")],
    out: Annotated[
        Path | None, typer.Option(help="Output manifest to write (default under data_dir).")
    ] = None,
) -> None:
    """Write the local page's ratings as a Ground Truth-format output manifest."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        labeling = open_local_labeling(settings, manifest)
    except OSError as error:
        typer.echo(f"error: cannot read {manifest}: {error}", err=True)
        raise typer.Exit(code=1) from None
    for problem in labeling.manifest.errors:
        typer.echo(f"skipped {problem}", err=True)
    target = out or default_export_path(settings, manifest, datetime.now(UTC))
    summary = labeling.export(target, local_job_name(manifest), settings.labeling_label_attribute)
    typer.echo(
        f"wrote {summary.path}: {summary.lines} lines, {summary.labeled} labeled ({summary.complete} with "
        f"all {settings.labeling_workers_per_item} ratings), {summary.unlabeled} unlabeled"
    )


def register(app: typer.Typer) -> None:
    """Add ``chatbot labeling start|export`` to the ``chatbot`` app."""
    app.add_typer(labeling_app, name="labeling")
