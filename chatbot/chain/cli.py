"""Commands of the chain: ``chatbot decide`` (and, registered from here, ``chatbot sentiment``)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer

from chatbot.chain.decide_batch import FirstMessageDecider, LineProblem
from chatbot.chain.decision import EscalationPolicy
from chatbot.config import load_settings
from chatbot.logging import configure_logging
from chatbot.rag.embeddings import make_embedder
from chatbot.sentiment.cli import register as register_sentiment
from chatbot.sentiment.factory import make_sentiment_judge


@contextmanager
def _open_input(location: str) -> Iterator[TextIO]:
    # Undecodable bytes become U+FFFD, so a binary line is reported by the guard instead of aborting the run.
    if location == "-":
        yield io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
        return
    path = Path(location)
    if not path.is_file():
        typer.echo(f"error: input file {location} does not exist", err=True)
        raise typer.Exit(2)
    with path.open(encoding="utf-8", errors="replace") as lines:
        yield lines


def decide_command(
    input_location: Annotated[
        str,
        typer.Option(
            "--input", help='JSON Lines of {"id", "text"} (a customer\'s first message); "-" reads stdin.'
        ),
    ],
) -> None:
    """Sentiment and the escalation decision for each message: one JSON line out per line in.

    Lines that cannot be used are reported on stderr with their line number; the others are still
    decided, and the command then exits with status 1."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    problems = 0
    with _open_input(input_location) as lines:
        # Models load (and the classifier trains, the first time) only once the input is known to exist.
        decider = FirstMessageDecider(
            make_sentiment_judge(settings, make_embedder(settings)),
            EscalationPolicy.from_settings(settings),
            settings.max_message_chars,
        )
        for result in decider.decide_lines(lines):
            if isinstance(result, LineProblem):
                problems += 1
                typer.echo(f"error: {result}", err=True)
            else:
                typer.echo(result.model_dump_json())
    if problems:
        typer.echo(f"{problems} line(s) could not be decided", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the ``chatbot`` app."""
    app.command("decide")(decide_command)
    register_sentiment(app)
