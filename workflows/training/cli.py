"""``chatbot feedback build``: labeled output manifests -> reward, preference and KTO datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chatbot.aws import client
from chatbot.config import load_settings
from chatbot.logging import configure_logging
from workflows.labeling.output_manifest import OutputManifest, parse_output_manifest
from workflows.labeling.s3uri import is_s3_uri, read_text
from workflows.training.datasets import FeedbackDatasets, build_datasets, write_datasets

feedback_app = typer.Typer(
    name="feedback", help="Expert feedback -> training datasets.", no_args_is_help=True
)


def _bar(count: int, largest: int, width: int = 30) -> str:
    return "#" * round(width * count / largest) if largest else ""


def print_report(datasets: FeedbackDatasets, written: dict[str, Path]) -> None:
    counts = datasets.counts
    typer.echo(
        f"read {counts.lines} lines: {counts.labeled} labeled, {counts.unrated} without a valid rating, "
        f"{counts.unlabeled} unlabeled, {counts.failed} failed; {counts.errors} unusable; "
        f"{counts.merged_duplicates} repeated items pooled"
    )
    kto_kept = len(datasets.kto)
    desirable = sum(1 for row in datasets.kto if row.label)
    typer.echo(f"ratings:     {len(datasets.ratings):>6}  -> {written['ratings']}")
    typer.echo(f"preferences: {len(datasets.preferences):>6}  -> {written['preferences']}")
    typer.echo(
        f"kto:         {kto_kept:>6}  -> {written['kto']} ({desirable} desirable, {kto_kept - desirable} "
        f"undesirable, {len(datasets.ratings) - kto_kept} rated 3-3.5 left out)"
    )
    worker_histogram = datasets.worker_rating_histogram()
    typer.echo("expert ratings:")
    for rating, count in worker_histogram.items():
        typer.echo(f"  {rating}    {count:>6}  {_bar(count, max(worker_histogram.values()))}")
    consolidated = datasets.consolidated_rating_histogram()
    typer.echo("consolidated (median) ratings:")
    for value, count in consolidated.items():
        typer.echo(f"  {value:<4} {count:>6}  {_bar(count, max(consolidated.values()))}")
    for problem in datasets.problems:
        typer.echo(f"warning: {problem}", err=True)
    for error in datasets.errors:
        typer.echo(f"error: {error}", err=True)


@feedback_app.command("build")
def build_command(
    inputs: Annotated[
        list[str],
        typer.Option(
            "--input", help="Labeled output manifest (local file or s3:// URI); repeat for several."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Folder for ratings.jsonl, preferences.jsonl, kto.jsonl.")],
    label_attribute: Annotated[
        str | None, typer.Option(help="Label attribute to read (default: the line's only one).")
    ] = None,
) -> None:
    """Labeled output manifests -> ratings, preference pairs and KTO rows (JSON Lines) with counts.

    Unusable lines are listed with file and line and every other record is kept; the files are still
    written, then the command exits with status 1."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    s3: Any = client("s3", settings) if any(is_s3_uri(location) for location in inputs) else None
    manifests: list[OutputManifest] = []
    for location in inputs:
        try:
            text = read_text(location, s3)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            typer.echo(f"error: cannot read {location}: {error}", err=True)
            raise typer.Exit(code=1) from None
        manifests.append(parse_output_manifest(text, location, label_attribute))
    datasets = build_datasets(manifests)
    written = write_datasets(datasets, out)
    print_report(datasets, written)
    if datasets.errors:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``chatbot feedback build`` to the ``chatbot`` app."""
    app.add_typer(feedback_app, name="feedback")
