"""The trained sentiment model on disk: ``<data_dir>/sentiment/model.npz`` and ``manifest.json``.

:func:`load_or_train` is what the app calls: it trains when the artifact is missing, unreadable, or
made for another embedder, another data file or an older recipe, and says why in the log.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from pydantic import ValidationError

from chatbot.config import Settings
from chatbot.errors import ModelBackendError
from chatbot.file_lock import exclusive_lock
from chatbot.rag.embedder import Embedder
from chatbot.sentiment.classifier import LinearSentimentModel
from chatbot.sentiment.dataset import SplitSpec, data_fingerprint
from chatbot.sentiment.features import VADER_FEATURES
from chatbot.sentiment.manifest import MANIFEST_FORMAT, SentimentManifest
from chatbot.sentiment.support_domain import SUPPORT_DOMAIN_VERSION
from chatbot.sentiment.training import RECIPE, TrainedSentimentModel, train_sentiment_model

log = structlog.get_logger(__name__)

MODEL_FILE = "model.npz"
MANIFEST_FILE = "manifest.json"


def sentiment_dir(settings: Settings) -> Path:
    return settings.data_dir / "sentiment"


def save_trained_model(trained: TrainedSentimentModel, directory: Path) -> None:
    """Weights first, manifest last: a manifest on disk always describes the weights beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    trained.model.save(directory / MODEL_FILE)
    temporary = directory / (MANIFEST_FILE + ".tmp")
    temporary.write_text(trained.manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    temporary.replace(directory / MANIFEST_FILE)


def read_manifest(directory: Path) -> SentimentManifest | None:
    path = directory / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        return SentimentManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as error:
        log.warning("sentiment.manifest_unreadable", path=str(path), error=str(error)[:300])
        return None


def staleness(manifest: SentimentManifest | None, embedder: Embedder, data_path: Path) -> str | None:
    """Why the model on disk cannot be used with this embedder and data, or None when it can."""
    if manifest is None:
        return "no trained model"
    if manifest.format != MANIFEST_FORMAT:
        return f"manifest format {manifest.format}, expected {MANIFEST_FORMAT}"
    if manifest.recipe != RECIPE:
        return f"made by recipe {manifest.recipe!r}, now {RECIPE!r}"
    if manifest.embedder_model_id != embedder.model_id:
        return f"trained for embedder {manifest.embedder_model_id!r}, now {embedder.model_id!r}"
    if manifest.embedding_dimension != embedder.dimension:
        return f"trained on {manifest.embedding_dimension}-d vectors, embedder gives {embedder.dimension}"
    if manifest.support_domain_version != SUPPORT_DOMAIN_VERSION:
        return f"support-domain examples {manifest.support_domain_version}, now {SUPPORT_DOMAIN_VERSION}"
    if manifest.split != SplitSpec():
        return "the split recipe changed"
    if manifest.data_fingerprint != data_fingerprint(data_path):
        return f"training data {data_path} changed"
    return None


def _train_and_save(settings: Settings, embedder: Embedder) -> TrainedSentimentModel:
    trained = train_sentiment_model(embedder, settings.sentiment_training_data)
    save_trained_model(trained, sentiment_dir(settings))
    return trained


def train_and_save(settings: Settings, embedder: Embedder) -> TrainedSentimentModel:
    """Train now, whatever is on disk (``chatbot sentiment train``)."""
    with exclusive_lock(sentiment_dir(settings) / ".lock"):
        return _train_and_save(settings, embedder)


def _load_if_current(directory: Path, embedder: Embedder, data_path: Path) -> TrainedSentimentModel | str:
    """The model on disk, or why it cannot be used."""
    manifest = read_manifest(directory)
    reason = staleness(manifest, embedder, data_path)
    if manifest is None or reason is not None:
        return reason or "no trained model"
    try:
        model = LinearSentimentModel.load(directory / MODEL_FILE)
    except ModelBackendError as error:
        return str(error)
    if model.feature_count != embedder.dimension + len(VADER_FEATURES):
        return f"model width {model.feature_count} does not match the embedder and features"
    return TrainedSentimentModel(model=model, manifest=manifest)


def load_or_train(settings: Settings, embedder: Embedder) -> TrainedSentimentModel:
    directory = sentiment_dir(settings)
    data_path = settings.sentiment_training_data
    if not data_path.exists():
        raise ModelBackendError(
            f"sentiment training data {data_path} is missing (set CHATBOT_SENTIMENT_TRAINING_DATA)"
        )
    loaded = _load_if_current(directory, embedder, data_path)
    if isinstance(loaded, TrainedSentimentModel):
        return loaded
    # The app and a CLI command may start together: one trains, the other then finds its model.
    with exclusive_lock(directory / ".lock"):
        loaded = _load_if_current(directory, embedder, data_path)
        if isinstance(loaded, TrainedSentimentModel):
            return loaded
        log.info("sentiment.training_needed", reason=loaded, directory=str(directory))
        return _train_and_save(settings, embedder)
