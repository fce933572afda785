"""Training the local sentiment classifier, top to bottom.

1. Split the human-rated texts into train / dev / test (fixed, see :mod:`chatbot.sentiment.dataset`).
2. Features for every text: its embedding and support-aware VADER scores.
3. For each regularisation strength in :data:`C_GRID`, fit on train plus the support-domain examples
   and measure on dev; keep the best dev macro-F1.
4. Refit with that strength on train + dev (+ support-domain examples): these are the shipped weights.
5. Measure the shipped weights, and standard VADER, on test. Test never influences any choice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import structlog
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from chatbot.rag.embedder import Embedder
from chatbot.sentiment.classifier import CLASS_ORDER, LinearSentimentModel
from chatbot.sentiment.dataset import (
    SplitPart,
    SplitSpec,
    assign_split,
    data_fingerprint,
    load_rated_texts,
)
from chatbot.sentiment.features import VADER_FEATURES, Features, SentimentFeatures, standard_vader_labels
from chatbot.sentiment.manifest import SentimentManifest
from chatbot.sentiment.metrics import ClassificationMetrics, measure
from chatbot.sentiment.support_domain import SUPPORT_DOMAIN_VERSION, support_domain_examples

log = structlog.get_logger(__name__)

JUDGED_BY = "local-lr"
RECIPE = "lr-embedding-supportvader-v1"
"""Bump when features, the C grid or the training parts change: models made by another recipe retrain."""
C_GRID = (0.003, 0.01, 0.03, 0.1)
MAX_ITERATIONS = 5000


@dataclass(frozen=True)
class TrainedSentimentModel:
    model: LinearSentimentModel
    manifest: SentimentManifest


def fit_linear_model(features: Features, labels: npt.NDArray[np.str_], c: float) -> LinearSentimentModel:
    scaler = StandardScaler().fit(features)
    regression = LogisticRegression(C=c, max_iter=MAX_ITERATIONS)
    # One BLAS thread: on two busy cores a thread pool makes this fit 5-20x slower (0.5 s -> up to 15 s).
    with threadpool_limits(limits=1):
        regression.fit(scaler.transform(features), labels)
    columns = [list(regression.classes_).index(label.value) for label in CLASS_ORDER]
    return LinearSentimentModel(
        mean=np.asarray(scaler.mean_, dtype=np.float64),
        scale=np.asarray(scaler.scale_, dtype=np.float64),
        coefficients=np.asarray(regression.coef_, dtype=np.float64)[columns].T.copy(),
        intercepts=np.asarray(regression.intercept_, dtype=np.float64)[columns],
    )


def predicted_labels(model: LinearSentimentModel, features: Features) -> list[str]:
    winners = model.probabilities(features).argmax(axis=1)
    return [CLASS_ORDER[int(index)].value for index in winners]


def _evaluate(
    model: LinearSentimentModel, features: Features, labels: npt.NDArray[np.str_]
) -> ClassificationMetrics:
    return measure(list(labels), predicted_labels(model, features))


def train_sentiment_model(embedder: Embedder, data_path: Path) -> TrainedSentimentModel:
    started = time.perf_counter()
    rated_texts = load_rated_texts(data_path)
    split = SplitSpec()
    parts = assign_split(rated_texts, split)
    domain = support_domain_examples()
    log.info(
        "sentiment.training_started",
        rated_texts=len(rated_texts),
        support_domain_examples=len(domain),
        embedder=embedder.model_id,
    )

    featurizer = SentimentFeatures(embedder)
    all_features = featurizer.of([rated.text for rated in rated_texts] + [example.text for example in domain])
    rated_features, domain_features = all_features[: len(rated_texts)], all_features[len(rated_texts) :]
    labels = np.array([rated.label.value for rated in rated_texts])
    domain_labels = np.array([example.label.value for example in domain])
    part_of = np.array([parts[rated.id].value for rated in rated_texts])
    train, dev, test = (part_of == part.value for part in (SplitPart.TRAIN, SplitPart.DEV, SplitPart.TEST))
    embedded_at = time.perf_counter()

    train_features = np.vstack([rated_features[train], domain_features])
    train_labels = np.concatenate([labels[train], domain_labels])
    dev_figures: dict[float, ClassificationMetrics] = {}
    for c in C_GRID:
        candidate = fit_linear_model(train_features, train_labels, c)
        dev_figures[c] = _evaluate(candidate, rated_features[dev], labels[dev])
    best_c = max(C_GRID, key=lambda c: (dev_figures[c].macro_f1, -c))

    shipped = fit_linear_model(
        np.vstack([rated_features[train | dev], domain_features]),
        np.concatenate([labels[train | dev], domain_labels]),
        best_c,
    )
    vader_test = measure(
        list(labels[test]),
        standard_vader_labels([rated.text for rated, keep in zip(rated_texts, test, strict=True) if keep]),
    )
    manifest = SentimentManifest(
        judged_by=JUDGED_BY,
        recipe=RECIPE,
        embedder_model_id=embedder.model_id,
        embedding_dimension=embedder.dimension,
        features=[f"embedding ({embedder.dimension}, {embedder.model_id})", *VADER_FEATURES],
        data_path=str(data_path),
        data_fingerprint=data_fingerprint(data_path),
        support_domain_version=SUPPORT_DOMAIN_VERSION,
        support_domain_examples=len(domain),
        split=split,
        split_sizes={part.value: int((part_of == part.value).sum()) for part in SplitPart},
        regularisation_c=best_c,
        dev_macro_f1_by_c={str(c): figures.macro_f1 for c, figures in dev_figures.items()},
        trained_on="train + dev + support-domain examples",
        dev=dev_figures[best_c],
        test=_evaluate(shipped, rated_features[test], labels[test]),
        test_vader=vader_test,
        trained_at=datetime.now(UTC),
        training_seconds=round(time.perf_counter() - started, 2),
    )
    log.info(
        "sentiment.trained",
        seconds=manifest.training_seconds,
        embedding_seconds=round(embedded_at - started, 2),
        c=best_c,
        test_accuracy=round(manifest.test.accuracy, 3),
        test_macro_f1=round(manifest.test.macro_f1, 3),
        vader_test_accuracy=round(vader_test.accuracy, 3),
    )
    return TrainedSentimentModel(model=shipped, manifest=manifest)
