"""Commands of the knowledge base: ``chatbot index build|info`` and ``chatbot retrieve``."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, TextIO

import typer

from chatbot.config import Settings, load_settings
from chatbot.errors import ChatbotError, InvalidInputFileError
from chatbot.logging import configure_logging
from chatbot.rag.documents import corpus_files
from chatbot.rag.embeddings import make_embedder
from chatbot.rag.index_build import expectation
from chatbot.rag.knowledge_base import RetrievalMode, build_knowledge_base, ensure_knowledge_base
from chatbot.rag.manifest import read_manifest, staleness_reasons
from chatbot.rag.retrieve_io import RetrieveResponse, read_requests

index_app = typer.Typer(help="Build and inspect the knowledge-base index.", no_args_is_help=True)

CorpusOption = Annotated[
    Path | None,
    typer.Option(
        "--corpus",
        help="Folder of Markdown, text or HTML documents (default: the corpus_dir setting).",
        file_okay=False,
        dir_okay=True,
    ),
]


def _settings(corpus: Path | None = None) -> Settings:
    try:
        settings = load_settings(corpus_dir=corpus.resolve()) if corpus else load_settings()
    except ChatbotError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _fail(error: ChatbotError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(1)


@index_app.command("build")
def build_command(
    corpus: CorpusOption = None,
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing",
            help="Build only when there is no valid index (a stale one is rebuilt, and says why).",
        ),
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Build the index of the corpus (chunks, embeddings, BM25); unchanged chunks reuse cached embeddings."""
    settings = _settings(corpus)
    try:
        corpus_files(settings.corpus_dir)  # a bad folder is reported before the embedder starts
        embedder = make_embedder(settings)
        if if_missing:
            kb = ensure_knowledge_base(settings, embedder, progress=progress)
            typer.echo(
                f"index is current: {kb.manifest.documents} documents, {kb.manifest.chunks} chunks "
                f"in {settings.index_dir}"
            )
            return
        report = build_knowledge_base(settings, embedder, progress=progress)
    except ChatbotError as error:
        raise _fail(error) from error
    typer.echo(
        f"built {settings.index_dir}: {report.documents} documents, {report.chunks} chunks, "
        f"{report.embedded} texts embedded, {report.reused} from cache, {report.seconds:.1f} s"
    )


@index_app.command("info")
def info_command(corpus: CorpusOption = None) -> None:
    """Print the index manifest and whether the index is current for the configured corpus and embedder."""
    settings = _settings(corpus)
    try:
        manifest = read_manifest(settings.index_dir)
    except ValueError as error:
        typer.echo(f"index: {settings.index_dir}\ncurrent: no ({error})")
        raise typer.Exit(1) from error
    if manifest is None:
        typer.echo(f"index: {settings.index_dir}\ncurrent: no (not built; run `chatbot index build`)")
        raise typer.Exit(1)
    try:
        reasons = staleness_reasons(manifest, expectation(settings, make_embedder(settings)))
    except ChatbotError as error:
        raise _fail(error) from error
    lines = [
        f"index: {settings.index_dir}",
        f"built at: {manifest.built_at.isoformat()} in {manifest.build_seconds:.1f} s",
        f"corpus: {manifest.corpus_dir}",
        f"corpus fingerprint: {manifest.corpus_fingerprint}",
        f"documents: {manifest.documents}",
        f"chunks: {manifest.chunks}",
        f"embedding model: {manifest.embedding_model_id} ({manifest.embedding_dimension} dimensions)",
        f"chunking: max {manifest.chunking.max_chars} chars, "
        f"overlap {manifest.chunking.overlap_chars} chars, chunker v{manifest.chunking.chunker_version}",
        f"index format: {manifest.format_version}",
        "current: yes" if not reasons else "current: no (" + "; ".join(reasons) + ")",
    ]
    typer.echo("\n".join(lines))


def _lines(source: str) -> tuple[Iterable[str], TextIO | None]:
    if source == "-":
        return sys.stdin, None
    handle = Path(source).open(encoding="utf-8")  # noqa: SIM115 (closed by the caller)
    return handle, handle


def retrieve_command(
    input_path: Annotated[
        str, typer.Option("--input", help='JSONL file of {"id", "question"} lines; "-" reads standard input.')
    ],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Distinct documents per question.")] = 4,
    mode: Annotated[
        RetrievalMode, typer.Option("--mode", help="Which retrieval to use.")
    ] = RetrievalMode.HYBRID,
    corpus: CorpusOption = None,
) -> None:
    """Print the k best documents for each question, one JSON line each: {"id", "sources": [...]}.

    A bad line gets an error on stderr naming its line number; the other lines are still answered and the
    exit code is 1. A missing or stale index is built first.
    """
    settings = _settings(corpus)
    try:
        lines, handle = _lines(input_path)
    except OSError as error:
        typer.echo(f"error: cannot read {input_path}: {error}", err=True)
        raise typer.Exit(2) from error
    try:
        embedder = make_embedder(settings)
        kb = ensure_knowledge_base(settings, embedder, progress=sys.stderr.isatty())
        bad_lines = 0
        for request in read_requests(lines):
            if isinstance(request, InvalidInputFileError):
                bad_lines += 1
                typer.echo(f"error: {request}", err=True)
                continue
            result = kb.search(request.question, k, mode=mode)
            sys.stdout.write(RetrieveResponse.from_result(request.id, result).model_dump_json() + "\n")
            sys.stdout.flush()
    except ChatbotError as error:
        raise _fail(error) from error
    except UnicodeDecodeError as error:
        typer.echo(f"error: {input_path} is not UTF-8 text: {error}", err=True)
        raise typer.Exit(2) from error
    finally:
        if handle is not None:
            handle.close()
    if bad_lines:
        typer.echo(f"error: {bad_lines} bad input line(s); the others were answered", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the ``chatbot`` app."""
    app.add_typer(index_app, name="index")
    app.command("retrieve")(retrieve_command)
