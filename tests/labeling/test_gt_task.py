from __future__ import annotations

import json

import pytest

from chatbot.errors import MalformedAnnotationError
from tests.labeling.samples import sample_items, worker_content
from workflows.labeling.gt_task import (
    RATING_CATEGORIES,
    RATING_SCALE,
    rating_for_label,
    task_input_for,
    worker_rating_from_content,
)
from workflows.labeling.manifest import RATING_MAX, RATING_MIN
from workflows.labeling.template import template_text


def test_scale_covers_every_rating_once_in_order() -> None:
    assert [level.rating for level in RATING_SCALE] == list(range(RATING_MIN, RATING_MAX + 1))
    assert len(set(RATING_CATEGORIES)) == len(RATING_CATEGORIES)
    assert all(rating_for_label(level.label) == level.rating for level in RATING_SCALE)


def test_template_instructions_say_what_each_rating_means_with_an_example() -> None:
    """The template's static instructions and the scale the local page shows must not drift apart."""
    template = template_text()
    for level in RATING_SCALE:
        assert level.label in template
        assert level.meaning in template
        assert level.example in template


def test_task_input_carries_question_answer_sources_and_categories() -> None:
    item = sample_items()[0]
    task_input = task_input_for(item)
    assert task_input.item_id == item.item_id
    assert task_input.question == item.question
    assert task_input.answer == item.answer
    assert [source.doc for source in task_input.sources] == ["nbi.md"]
    assert task_input.categories == list(RATING_CATEGORIES)


def test_worker_answer_gives_rating_and_trimmed_comment() -> None:
    rating = worker_rating_from_content("private.w1", worker_content(4, "  misses the CLI call \n"))
    assert (rating.worker_id, rating.rating, rating.comment) == ("private.w1", 4, "misses the CLI call")
    assert worker_rating_from_content("w2", worker_content(1)).comment == ""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"relevance": {"label": "4 - Mo', "not JSON"),
        ("[4]", "not a JSON object"),
        ('{"comment": "forgot"}', "no `relevance.label`"),
        ('{"relevance": {"label": 4}}', "no `relevance.label`"),
        ('{"relevance": {"label": "7 - Perfect"}}', "unknown relevance label"),
        ('{"relevance": {"label": "4"}}', "unknown relevance label"),
        (json.dumps({"relevance": {"label": RATING_CATEGORIES[2]}, "comment": 3}), "not text"),
    ],
)
def test_malformed_worker_answers_are_refused_with_the_reason(content: str, reason: str) -> None:
    with pytest.raises(MalformedAnnotationError, match=reason):
        worker_rating_from_content("w", content)
