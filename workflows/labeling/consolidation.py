"""Turning several workers' 1-5 ratings of one item into one label; shared by Ground Truth and the local page.

* ``consolidated_rating`` is the median of the valid ratings (a half point when an even number disagree);
* ``agreement`` is the share of workers who gave the most common rating (1.0 when all agree, and with a
  single worker);
* each worker's rating and comment is kept, and each annotation that could not be read is listed in
  ``problems`` with the reason.

An item with no valid rating at all still gets a label content, :func:`unrated_content`, so it reaches the
output manifest and the dataset builder reports it rather than losing it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError

from chatbot.errors import InvalidLambdaEventError, MalformedAnnotationError
from workflows.labeling.gt_events import (
    AnnotatedObject,
    ConsolidatedAnnotation,
    ConsolidationResult,
    WorkerAnnotation,
)
from workflows.labeling.gt_task import worker_rating_from_content
from workflows.labeling.jsonl import describe_validation_error
from workflows.labeling.manifest import ConsolidatedLabel, WorkerRating

log = structlog.get_logger(__name__)


def consolidate(ratings: Sequence[WorkerRating], problems: Sequence[str] = ()) -> ConsolidatedLabel:
    """Median and agreement of at least one rating."""
    if not ratings:
        raise ValueError("consolidating needs at least one rating")
    values = [rating.rating for rating in ratings]
    modal_count = Counter(values).most_common(1)[0][1]
    return ConsolidatedLabel(
        ratings=list(ratings),
        consolidated_rating=float(statistics.median(values)),
        agreement=round(modal_count / len(values), 4),
        problems=list(problems),
    )


def unrated_content(problems: Sequence[str]) -> dict[str, Any]:
    """Label content of an item whose annotations were all unusable."""
    return {"ratings": [], "consolidated_rating": None, "agreement": None, "problems": list(problems)}


@dataclass
class ItemConsolidation:
    """One data object's outcome: the label (``None`` when no rating was valid) and what was left out."""

    dataset_object_id: str
    label: ConsolidatedLabel | None
    problems: list[str] = field(default_factory=list)

    def label_content(self) -> dict[str, Any]:
        if self.label is None:
            return unrated_content(self.problems)
        return self.label.model_dump(mode="json")


AnnotationReader = Callable[[str], str]
"""Reads an annotation stored in S3 (``annotationData.s3Uri``) and returns its text."""


def _worker_rating(raw_annotation: Any, read_annotation: AnnotationReader) -> WorkerRating:
    try:
        annotation = WorkerAnnotation.model_validate(raw_annotation)
    except ValidationError as error:
        raise MalformedAnnotationError(describe_validation_error(error)) from None
    data = annotation.annotation_data
    content = data.content if data.content is not None else read_annotation(str(data.s3_uri))
    return worker_rating_from_content(annotation.worker_id, content)


def _worker_label(raw_annotation: Any, index: int) -> str:
    worker = raw_annotation.get("workerId") if isinstance(raw_annotation, dict) else None
    return f"annotation {index} (worker {worker})" if worker else f"annotation {index}"


def consolidate_object(annotated: AnnotatedObject, read_annotation: AnnotationReader) -> ItemConsolidation:
    """Consolidate one payload entry; a malformed annotation is logged and listed, the others are kept."""
    ratings: list[WorkerRating] = []
    problems: list[str] = []
    for index, raw_annotation in enumerate(annotated.annotations):
        try:
            ratings.append(_worker_rating(raw_annotation, read_annotation))
        except MalformedAnnotationError as error:
            problem = f"{_worker_label(raw_annotation, index)}: {error}"
            problems.append(problem)
            log.warning(
                "labeling.annotation_rejected", dataset_object_id=annotated.dataset_object_id, problem=problem
            )
    if not annotated.annotations:
        problems.append("no annotations")
    if not ratings:
        log.error("labeling.item_unrated", dataset_object_id=annotated.dataset_object_id, problems=problems)
        return ItemConsolidation(annotated.dataset_object_id, None, problems)
    return ItemConsolidation(annotated.dataset_object_id, consolidate(ratings, problems), problems)


@dataclass
class PayloadConsolidation:
    """Every payload entry's outcome; ``unusable``: entries without a ``datasetObjectId`` to answer for."""

    items: list[ItemConsolidation] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)

    @property
    def unrated(self) -> list[ItemConsolidation]:
        return [item for item in self.items if item.label is None]

    def response(self, label_attribute: str) -> list[ConsolidationResult]:
        """The documented post-annotation response: one entry per data object, label under the attribute."""
        return [
            ConsolidationResult(
                dataset_object_id=item.dataset_object_id,
                consolidated_annotation=ConsolidatedAnnotation(
                    content={label_attribute: item.label_content()}
                ),
            )
            for item in self.items
        ]


def _report_bad_entry(outcome: PayloadConsolidation, entry: Any, problem: str) -> None:
    """An entry that names its object is answered as unrated; one that does not cannot be answered."""
    object_id = entry.get("datasetObjectId") if isinstance(entry, dict) else None
    if isinstance(object_id, str):
        log.error("labeling.item_unrated", dataset_object_id=object_id, problems=[problem])
        outcome.items.append(ItemConsolidation(object_id, None, [problem]))
    else:
        log.error("labeling.payload_entry_unusable", problem=problem)
        outcome.unusable.append(problem)


def consolidate_payload(entries: Any, read_annotation: AnnotationReader) -> PayloadConsolidation:
    """Consolidate the payload file's entries one by one; a malformed entry never hides the others."""
    if not isinstance(entries, list):
        raise InvalidLambdaEventError(f"annotation payload is not a JSON list but {type(entries).__name__}")
    outcome = PayloadConsolidation()
    for index, entry in enumerate(entries):
        try:
            annotated = AnnotatedObject.model_validate(entry)
        except ValidationError as error:
            _report_bad_entry(outcome, entry, f"payload entry {index}: {describe_validation_error(error)}")
            continue
        outcome.items.append(consolidate_object(annotated, read_annotation))
    return outcome
