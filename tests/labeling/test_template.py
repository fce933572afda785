"""The worker template, rendered with a Liquid engine the way Ground Truth renders it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from tests.labeling.samples import sample_items
from workflows.labeling.gt_task import (
    CLASSIFIER_NAME,
    COMMENT_NAME,
    QUESTION_TEXT,
    RATING_CATEGORIES,
    task_input_for,
)
from workflows.labeling.template import render_task, template_text

# Liquid's standard filters that we use, plus those Ground Truth adds
GROUND_TRUTH_FILTERS = {"escape", "escape_once", "skip_autoescape", "to_json", "grant_read_access"}


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Elements:
    elements = Elements()
    elements.feed(html)
    elements.close()
    return elements


@pytest.mark.parametrize(
    "autoescape", [True, False], ids=["ground-truth-autoescape", "explicit-escapes-only"]
)
def test_markup_in_question_answer_and_sources_comes_out_inert(autoescape: bool) -> None:
    item = sample_items()[2]
    html = render_task(task_input_for(item), autoescape=autoescape)
    page = parse(html)
    scripts = page.named("script")
    assert scripts == [{"src": "https://assets.crowd.aws/crowd-html-elements.js"}]
    assert page.named("img") == [] and page.named("b") == [] and page.named("i") == []
    assert "onerror" not in json.dumps(page.tags)
    text = "".join(page.text)
    assert item.answer in text  # shown to the worker as text, exactly
    assert item.question in text
    assert "Ground Truth <i>" in text
    assert "&lt;script&gt;" in html and "<script>alert" not in html


def test_task_page_has_the_classifier_instructions_and_comment() -> None:
    item = sample_items()[0]
    page = parse(render_task(task_input_for(item)))
    assert len(page.named("crowd-form")) == 1
    (classifier,) = page.named("crowd-classifier")
    assert classifier["name"] == CLASSIFIER_NAME
    assert classifier["header"] == QUESTION_TEXT
    assert json.loads(str(classifier["categories"])) == list(RATING_CATEGORIES)
    assert len(page.named("short-instructions")) == 1
    assert len(page.named("full-instructions")) == 1
    assert [area["name"] for area in page.named("crowd-text-area")] == [COMMENT_NAME]
    text = "".join(page.text)
    assert item.question in text and item.answer in text
    assert "Notebook instances" in text and "nbi.md" in text and "Choose Stop." in text


def test_an_answer_without_sources_says_so() -> None:
    text = "".join(parse(render_task(task_input_for(sample_items()[3]))).text)
    assert "The answer cites no sources." in text


def test_every_inserted_value_is_escaped_and_no_value_is_inside_a_script() -> None:
    template = template_text()
    outputs = re.findall(r"{{(.*?)}}", template)
    assert outputs, "the template inserts values"
    for output in outputs:
        filters = [part.strip().split(":")[0] for part in output.split("|")[1:]]
        assert filters[-1] == "escape", f"{{{{{output}}}}} is not escaped"
        assert set(filters) <= GROUND_TRUTH_FILTERS
    for script in re.findall(r"<script.*?</script>", template, flags=re.DOTALL):
        assert "{{" not in script and "{%" not in script
