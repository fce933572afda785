"""Commands of the chain: ``chatbot ask`` and ``chatbot decide`` (``chatbot sentiment`` is added here)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer

from chatbot.chain.decide_batch import FirstMessageDecider, LineProblem
from chatbot.chain.decision import EscalationPolicy
from chatbot.chain.guard import validate_message
from chatbot.config import load_settings
from chatbot.errors import InvalidMessageError
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


def ask_command(
    question: Annotated[str, typer.Argument(help="The customer's message.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole turn result as JSON.")] = False,
) -> None:
    """One customer turn through the full chain, as the chat runs it: sentiment, decision, answer.

    Nothing is recorded and nobody is escalated: this is for trying and evaluating the bot."""
    from chatbot.chain.runner import run_turn
    from chatbot.chain.turn import build_turn_chain, turn_input
    from chatbot.services import load_turn_components

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        message = validate_message(question, settings.max_message_chars)
    except InvalidMessageError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    components = load_turn_components(settings)
    turn = run_turn(
        build_turn_chain(components), turn_input(message, [], []), components.policy, settings.turn_timeout_s
    )
    if as_json:
        outcome = turn.outcome()
        typer.echo(json.dumps({"question": message, **outcome.model_dump(mode="json")}, indent=2))
        return
    for piece in turn.text():
        typer.echo(piece, nl=False)
    outcome = turn.outcome()
    if outcome.escalation.escalate:
        decision = outcome.escalation
        typer.echo(f"\n{outcome.response}\n[escalate: {decision.reason.value}: {decision.detail}]")
    typer.echo("")
    for number, source in enumerate(outcome.sources, 1):
        typer.echo(f"[{number}] {source.title} ({source.doc})")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the ``chatbot`` app."""
    app.command("ask")(ask_command)
    app.command("decide")(decide_command)
    register_sentiment(app)
