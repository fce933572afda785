"""``chatbot sentiment train``: (re)train the local sentiment classifier and show its figures."""

from __future__ import annotations

from typing import Annotated

import typer

from chatbot.config import load_settings
from chatbot.logging import configure_logging
from chatbot.rag.embeddings import make_embedder
from chatbot.sentiment.manifest import SentimentManifest
from chatbot.sentiment.metrics import ClassificationMetrics
from chatbot.sentiment.store import load_or_train, sentiment_dir, train_and_save

sentiment_app = typer.Typer(name="sentiment", help="The local sentiment classifier.", no_args_is_help=True)


def _row(name: str, figures: ClassificationMetrics) -> str:
    return (
        f"  {name:<24} {figures.count:>5}  {figures.accuracy:>8.3f}  {figures.macro_f1:>8.3f}  "
        f"{figures.negative_precision:>6.3f}  {figures.negative_recall:>6.3f}"
    )


def print_summary(manifest: SentimentManifest) -> None:
    sizes = ", ".join(f"{part} {count}" for part, count in manifest.split_sizes.items())
    typer.echo(f"embedder:  {manifest.embedder_model_id}")
    typer.echo(
        f"split:     {sizes} (+{manifest.support_domain_examples} support-domain examples in training)"
    )
    typer.echo(f"C:         {manifest.regularisation_c} (best dev macro-F1)")
    typer.echo(f"trained:   in {manifest.training_seconds} s, at {manifest.trained_at:%Y-%m-%d %H:%M} UTC")
    typer.echo(f"  {'':<24} {'n':>5}  {'accuracy':>8}  {'macro-F1':>8}  {'neg P':>6}  {'neg R':>6}")
    typer.echo(_row("dev (train-only fit)", manifest.dev))
    typer.echo(_row("test, this classifier", manifest.test))
    typer.echo(_row("test, VADER", manifest.test_vader))


@sentiment_app.command("train")
def train_command(
    if_stale: Annotated[
        bool, typer.Option("--if-stale", help="Only train when there is no model for this embedder and data.")
    ] = False,
) -> None:
    """Train on the human-rated texts (train + dev parts) and write the model under data_dir/sentiment."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    embedder = make_embedder(settings)
    trained = load_or_train(settings, embedder) if if_stale else train_and_save(settings, embedder)
    typer.echo(f"model:     {sentiment_dir(settings)}")
    print_summary(trained.manifest)


def register(app: typer.Typer) -> None:
    app.add_typer(sentiment_app, name="sentiment")
