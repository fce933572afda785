"""``chatbot transcripts export``: redacted transcripts for labeling, from the configured transcript store.

Exit status: 0 everything exported; 1 some transcripts were skipped (each named on stderr; the rest were
exported); 2 bad arguments or configuration; 3 the export failed (store unreachable, output not written).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import typer

from chatbot.aws import client
from chatbot.config import load_settings
from chatbot.conversation.store import make_transcript_store
from chatbot.errors import ConfigError, TranscriptExportError
from chatbot.logging import configure_logging
from chatbot.privacy.redaction import Redactor
from workflows.labeling.export import (
    ExportFormat,
    ExportRequest,
    ExportSummary,
    SkippedTranscript,
    export_transcripts,
)
from workflows.labeling.s3uri import is_s3_uri, parse_s3_prefix, parse_s3_uri
from workflows.labeling.sampling import SampleStrategy

EXIT_SKIPPED = 1
EXIT_USAGE = 2
EXIT_FAILED = 3

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: str, option: str) -> date:
    if not _DAY.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not a date; expected YYYY-MM-DD", param_hint=option)
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"{value!r} is not a date: {error}", param_hint=option) from error


def _check_arguments(out: str, output_format: ExportFormat, source_ref: str | None) -> None:
    if is_s3_uri(out):
        try:
            parse_s3_uri(out)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--out'") from error
    if source_ref is None:
        return
    if output_format is not ExportFormat.GT_MANIFEST:
        raise typer.BadParameter("applies to --format gt-manifest only", param_hint="'--source-ref'")
    try:
        parse_s3_prefix(source_ref)
    except ValueError as error:
        raise typer.BadParameter(
            f"{source_ref!r} is not s3://bucket/prefix/", param_hint="'--source-ref'"
        ) from error


def export_command(
    since: Annotated[str, typer.Option(help="First day (YYYY-MM-DD, UTC) of conversations to export.")],
    out: Annotated[str, typer.Option(help="Output: a local path or s3://bucket/key.")],
    until: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD), inclusive. Default: the --since day.")
    ] = None,
    output_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl: a transcript a line; csv: a turn a row; gt-manifest: a question/answer item a line.",
        ),
    ] = ExportFormat.JSONL,
    sample_size: Annotated[
        int | None,
        typer.Option("--sample", min=1, help="Keep N conversations (jsonl, csv) or items (gt-manifest)."),
    ] = None,
    strategy: Annotated[
        SampleStrategy,
        typer.Option(
            help="random: uniform; risk: oversample escalated, negative, thumbs-down, low retrieval."
        ),
    ] = SampleStrategy.RANDOM,
    seed: Annotated[int, typer.Option(help="Seed of the sample: the same seed gives the same sample.")] = 0,
    source_ref: Annotated[
        str | None,
        typer.Option(
            help="gt-manifest: write each item to s3://bucket/prefix/ and reference it (source-ref)."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
) -> None:
    """Export redacted transcripts of a date range for labeling, optionally sampled."""
    first = _day(since, "'--since'")
    last = first if until is None else _day(until, "'--until'")
    if last < first:
        raise typer.BadParameter(f"{last} is before --since {first}", param_hint="'--until'")
    _check_arguments(out, output_format, source_ref)

    try:
        settings = load_settings()
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from error
    configure_logging(settings.log_level, settings.log_format)
    request = ExportRequest(
        since=first,
        until=last,
        format=output_format,
        sample=sample_size,
        strategy=strategy,
        seed=seed,
        out=out,
        source_ref=source_ref,
    )
    needs_s3 = is_s3_uri(out) or source_ref is not None

    def report_skip(skip: SkippedTranscript) -> None:
        typer.echo(f"error: skipped {skip.reason}", err=True)

    try:
        summary = export_transcripts(
            request,
            make_transcript_store(settings),
            Redactor.from_settings(settings),
            s3=client("s3", settings) if needs_s3 else None,
            on_skip=report_skip,
            progress=progress,
        )
    except TranscriptExportError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    _print_summary(summary)
    if summary.skipped:
        raise typer.Exit(EXIT_SKIPPED)


def _print_summary(summary: ExportSummary) -> None:
    unit = "turns" if summary.format is ExportFormat.CSV else "items"
    if summary.format is ExportFormat.JSONL:
        unit = "transcripts"
    typer.echo(
        f"wrote {summary.conversations_written} conversations, {summary.items_written} {unit} "
        f"({summary.format.value}) to {summary.out}"
    )
    redacted = ", ".join(f"{kind}={count}" for kind, count in summary.redacted.items()) or "nothing"
    typer.echo(f"redacted: {redacted}")
    if summary.skipped:
        typer.echo(f"skipped {len(summary.skipped)} invalid transcript(s); see the errors above", err=True)


def register(app: typer.Typer) -> None:
    """Add ``transcripts export`` to the ``chatbot`` app."""
    transcripts = typer.Typer(help="Transcripts: export for labeling.", no_args_is_help=True)
    transcripts.command("export")(export_command)
    app.add_typer(transcripts, name="transcripts")
