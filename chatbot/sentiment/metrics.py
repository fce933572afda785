"""The figures a sentiment classifier is judged by; the negative-class ones drive escalation."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

LABELS = ["negative", "neutral", "positive"]


class ClassificationMetrics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int
    accuracy: float
    macro_f1: float
    negative_precision: float
    negative_recall: float


def measure(true_labels: Sequence[str], predicted_labels: Sequence[str]) -> ClassificationMetrics:
    if len(true_labels) != len(predicted_labels) or not true_labels:
        raise ValueError(
            f"cannot compare {len(true_labels)} true labels with {len(predicted_labels)} predictions"
        )
    true, predicted = list(true_labels), list(predicted_labels)
    return ClassificationMetrics(
        count=len(true),
        accuracy=float(accuracy_score(true, predicted)),
        macro_f1=float(f1_score(true, predicted, labels=LABELS, average="macro", zero_division=0)),
        negative_precision=float(
            precision_score(true, predicted, labels=["negative"], average="macro", zero_division=0)
        ),
        negative_recall=float(
            recall_score(true, predicted, labels=["negative"], average="macro", zero_division=0)
        ),
    )
