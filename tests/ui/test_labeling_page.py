"""The local labeling page, driven with Streamlit's AppTest against a real manifest and SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from chatbot.config import PROJECT_ROOT, load_settings
from tests.labeling.samples import sample_items, write_input_manifest
from workflows.labeling.local_labeling import annotation_store_path, labeling_dir
from workflows.labeling.manifest import LabelingItem
from workflows.labeling.output_manifest import LabelStatus, read_output_manifest

PAGE = PROJECT_ROOT / "chatbot" / "ui" / "labeling_page.py"


@pytest.fixture(autouse=True)
def fresh_page_resources() -> Iterator[None]:
    """Settings are read once per process (``st.cache_resource``); each test sets its own environment."""
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def manifest_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_input_manifest(tmp_path / "relevance.manifest", sample_items())
    monkeypatch.setenv("CHATBOT_LABELING_LOCAL_MANIFEST", str(path))
    monkeypatch.setenv("CHATBOT_LABELING_WORKERS_PER_ITEM", "2")
    return path


def open_page(annotator: str | None = None) -> AppTest:
    page = AppTest.from_file(str(PAGE), default_timeout=60)
    page.run()
    assert not page.exception
    if annotator is not None:
        page.text_input(key="annotator").input(annotator).run()
        assert not page.exception
    return page


def metrics(page: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in page.metric}


def shown_text(page: AppTest) -> str:
    return "\n".join(element.value for element in page.markdown)


def rate(page: AppTest, rating: int, comment: str = "") -> None:
    page.radio(key="rating").set_value(rating)
    page.text_area(key="comment").input(comment)
    page.button(key="submit").click().run()
    assert not page.exception


def stored_ratings(tmp_path: Path) -> list[tuple[str, str, int, str]]:
    from workflows.labeling.local_labeling import AnnotationStore

    store = AnnotationStore(annotation_store_path(load_settings(data_dir=tmp_path / "data")))
    return [(a.item_id, a.annotator, a.rating, a.comment) for a in store.all()]


def shows(page: AppTest, item: LabelingItem) -> bool:
    text = shown_text(page)
    return item.question.strip() in text and item.answer in text  # markdown trims the ends


def test_page_asks_for_a_name_before_showing_items(manifest_path: Path) -> None:
    page = open_page()
    assert page.text_input(key="manifest_path").value == str(manifest_path)
    assert any("Enter your name" in info.value for info in page.info)
    assert len(page.radio) == 0


def test_rating_stores_it_advances_and_updates_progress(manifest_path: Path, tmp_path: Path) -> None:
    items = sample_items()
    page = open_page("alice")
    assert shows(page, items[0])
    assert metrics(page) == {"Your ratings": "0 / 4", "Items with 2 ratings": "0 / 4"}

    rate(page, 4, "misses the CLI command")
    assert stored_ratings(tmp_path) == [(items[0].item_id, "alice", 4, "misses the CLI command")]
    assert shows(page, items[1])
    assert metrics(page) == {"Your ratings": "1 / 4", "Items with 2 ratings": "0 / 4"}
    assert page.radio(key="rating").value is None  # the next item starts unrated
    assert page.text_area(key="comment").value == ""
    assert any("Saved: 4 - Mostly relevant" in message.value for message in page.success)


def test_submitting_without_a_rating_stores_nothing(manifest_path: Path, tmp_path: Path) -> None:
    page = open_page("alice")
    page.button(key="submit").click().run()
    assert any("Choose a rating first" in warning.value for warning in page.warning)
    assert stored_ratings(tmp_path) == []
    assert shows(page, sample_items()[0])


def test_a_second_annotator_sees_items_still_needing_ratings(manifest_path: Path, tmp_path: Path) -> None:
    items = sample_items()
    alice = open_page("alice")
    rate(alice, 5)
    rate(alice, 2)
    bob = open_page("bob")
    assert shows(bob, items[0])  # needs two ratings, has one
    rate(bob, 4)
    assert metrics(bob) == {"Your ratings": "1 / 4", "Items with 2 ratings": "1 / 4"}
    carol = open_page("carol")
    assert shows(carol, items[1])
    assert metrics(carol) == {"Your ratings": "0 / 3", "Items with 2 ratings": "1 / 4"}


def test_export_writes_lines_the_output_manifest_reader_parses(manifest_path: Path, tmp_path: Path) -> None:
    page = open_page("alice")
    rate(page, 5)
    rate(page, 1, "wrong topic")
    page.button(key="export").click().run()
    assert not page.exception
    (exported,) = (labeling_dir(load_settings(data_dir=tmp_path / "data")) / "output").glob("*.manifest")
    assert any(str(exported) in message.value for message in page.success)
    manifest = read_output_manifest(exported)
    assert manifest.errors == []
    statuses = [record.status for record in manifest.records]
    assert statuses == [
        LabelStatus.LABELED,
        LabelStatus.LABELED,
        LabelStatus.UNLABELED,
        LabelStatus.UNLABELED,
    ]
    second = manifest.records[1]
    assert second.label is not None and second.label.consolidated_rating == 1.0
    assert second.label.ratings[0].comment == "wrong topic"
    assert second.metadata is not None and second.metadata.job_name == "local-relevance"


def test_a_missing_manifest_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_LABELING_LOCAL_MANIFEST", str(tmp_path / "nowhere.manifest"))
    page = open_page("alice")
    assert any("No manifest at" in error.value for error in page.error)
