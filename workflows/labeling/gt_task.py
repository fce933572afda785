"""The relevance-rating task: the 1-5 scale, what the worker template receives, and what a worker sends back.

The scale lives here once; the Ground Truth template receives its labels as ``task.input.categories`` and the
local labeling page shows the same words, so both kinds of annotators answer the same question.

A Ground Truth worker's answer (``annotationData.content``) is the ``crowd-form`` output, a JSON string::

    {"relevance": {"label": "4 - Mostly relevant"}, "comment": "misses the CLI command"}

``relevance`` is the ``crowd-classifier`` (its output is ``{"label": <category>}``) and ``comment`` the
optional ``crowd-text-area``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chatbot.errors import MalformedAnnotationError
from workflows.labeling.manifest import CitedSource, LabelingItem, WorkerRating

TEMPLATE_PATH = Path(__file__).with_name("template.liquid.html")
CLASSIFIER_NAME = "relevance"
COMMENT_NAME = "comment"
QUESTION_TEXT = "How relevant is this answer to the question?"

TASK_TITLE = "Rate how relevant a support bot's answer is"
TASK_DESCRIPTION = (
    "Read a customer's question about Amazon SageMaker and the bot's answer; rate its relevance 1-5."
)
TASK_KEYWORDS = ("chatbot", "relevance", "rating", "text")
TASK_TIME_LIMIT_S = 600
TASK_AVAILABILITY_S = 10 * 24 * 3600


@dataclass(frozen=True)
class RatingLevel:
    rating: int
    name: str
    meaning: str
    example: str

    @property
    def label(self) -> str:
        """The category text a worker clicks, e.g. ``4 - Mostly relevant``."""
        return f"{self.rating} - {self.name}"


RATING_SCALE: tuple[RatingLevel, ...] = (
    RatingLevel(
        1,
        "Not relevant",
        "Answers a different question, or says nothing the customer can use.",
        "Asked how to stop a notebook instance, the answer explains SageMaker pricing.",
    ),
    RatingLevel(
        2,
        "Slightly relevant",
        "On the topic, but misses what the customer asked.",
        "Asked how to stop a notebook instance, the answer explains what notebook instances are.",
    ),
    RatingLevel(
        3,
        "Partly relevant",
        "Addresses the question, but leaves out key steps or is partly wrong.",
        "Says to stop the instance in the console, without saying where or how.",
    ),
    RatingLevel(
        4,
        "Mostly relevant",
        "Answers the question; a detail is missing or could be clearer.",
        "Gives the console steps to stop the instance, but not the API or CLI call.",
    ),
    RatingLevel(
        5,
        "Fully relevant",
        "Answers exactly what was asked, completely, in line with the cited sources.",
        "Gives the console steps and the aws sagemaker stop-notebook-instance command, citing the guide.",
    ),
)
RATING_CATEGORIES: tuple[str, ...] = tuple(level.label for level in RATING_SCALE)
_RATING_BY_LABEL = {level.label: level.rating for level in RATING_SCALE}


class TaskInput(BaseModel):
    """``taskInput`` of the pre-annotation Lambda: what the template reads as ``task.input.*``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: str
    question: str
    answer: str
    sources: list[CitedSource] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=lambda: list(RATING_CATEGORIES))


def task_input_for(item: LabelingItem) -> TaskInput:
    return TaskInput(
        item_id=item.item_id, question=item.question, answer=item.answer, sources=list(item.sources)
    )


def rating_for_label(label: str) -> int:
    try:
        return _RATING_BY_LABEL[label]
    except KeyError:
        raise MalformedAnnotationError(
            f"unknown relevance label {label!r} (expected one of {list(RATING_CATEGORIES)})"
        ) from None


def worker_rating_from_content(worker_id: str, content: str) -> WorkerRating:
    """Read one worker's ``crowd-form`` output; anything else raises :class:`MalformedAnnotationError`."""
    try:
        answer: Any = json.loads(content)
    except json.JSONDecodeError as error:
        raise MalformedAnnotationError(f"annotation content is not JSON ({error.msg})") from None
    if not isinstance(answer, dict):
        raise MalformedAnnotationError("annotation content is not a JSON object")
    choice = answer.get(CLASSIFIER_NAME)
    if not isinstance(choice, dict) or not isinstance(choice.get("label"), str):
        raise MalformedAnnotationError(f"annotation has no `{CLASSIFIER_NAME}.label` (no rating chosen)")
    rating = rating_for_label(choice["label"])
    comment = answer.get(COMMENT_NAME, "")
    if not isinstance(comment, str):
        raise MalformedAnnotationError(f"annotation `{COMMENT_NAME}` is not text")
    return WorkerRating(worker_id=worker_id, rating=rating, comment=comment.strip())
