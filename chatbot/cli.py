"""The ``chatbot`` command line. Each area registers its own commands; this module only assembles them."""

from __future__ import annotations

import sys

import typer

from chatbot.chain.cli import register as register_chain
from chatbot.errors import ChatbotError, ConfigError
from chatbot.notify.cli import register as register_mail
from chatbot.rag.cli import register as register_rag
from workflows.labeling.cli import register as register_transcripts
from workflows.labeling.labeling_cli import register as register_labeling
from workflows.training.cli import register as register_feedback

app = typer.Typer(
    name="chatbot",
    help="SageMaker support chatbot: knowledge base, batch retrieval and decisions, one-off questions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
register_rag(app)
register_chain(app)
register_mail(app)
register_transcripts(app)
register_labeling(app)
register_feedback(app)


def main() -> None:
    """Entry point: a domain error ends the command with its message, not a traceback."""
    try:
        app()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except ChatbotError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
