from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from chatbot.errors import InvalidLambdaEventError, MalformedAnnotationError
from tests.labeling.samples import worker_content
from tests.support.events import load_event
from workflows.labeling.consolidation import consolidate, consolidate_payload
from workflows.labeling.manifest import ConsolidatedLabel, WorkerRating


def ratings(*values: int) -> list[WorkerRating]:
    return [WorkerRating(worker_id=f"w{index}", rating=value) for index, value in enumerate(values)]


def no_s3(uri: str) -> str:
    raise AssertionError(f"unexpected S3 read of {uri}")


@pytest.mark.parametrize(
    ("values", "median", "agreement"),
    [
        ((5, 4, 5), 5.0, 0.6667),
        ((3, 2), 2.5, 0.5),
        ((4,), 4.0, 1.0),
        ((1, 1, 1, 1), 1.0, 1.0),
        ((1, 2, 4, 5), 3.0, 0.25),
    ],
)
def test_consolidation_is_the_median_with_the_modal_share(
    values: tuple[int, ...], median: float, agreement: float
) -> None:
    label = consolidate(ratings(*values))
    assert label.consolidated_rating == median
    assert label.agreement == agreement
    assert [rating.rating for rating in label.ratings] == list(values)


def test_consolidating_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        consolidate([])


def test_documented_payload_keeps_valid_ratings_and_reports_the_rest() -> None:
    payload = load_event("gt_annotation_payload.json")
    with capture_logs() as logs:
        outcome = consolidate_payload(payload, no_s3)
    by_id = {item.dataset_object_id: item for item in outcome.items}
    assert list(by_id) == ["0", "1", "2"]

    first = by_id["0"].label
    assert first is not None
    assert [rating.rating for rating in first.ratings] == [5, 4, 5]
    assert first.consolidated_rating == 5.0 and first.agreement == 0.6667
    assert first.ratings[1].comment == "could mention the API call StopNotebookInstance"
    assert first.problems == []

    second = by_id["1"].label
    assert second is not None
    assert [rating.rating for rating in second.ratings] == [3, 2]
    assert second.consolidated_rating == 2.5
    assert len(second.problems) == 3
    assert (
        "worker private.us-east-1.b2c3d4e5f6071829" in second.problems[0] and "not JSON" in second.problems[0]
    )
    assert "7 - Perfect" in second.problems[1]
    assert "annotationData" in second.problems[2]

    assert by_id["2"].label is None
    assert len(by_id["2"].problems) == 2
    assert [item.dataset_object_id for item in outcome.unrated] == ["2"]
    rejected = [entry for entry in logs if entry["event"] == "labeling.annotation_rejected"]
    assert len(rejected) == 5
    assert any(
        entry["event"] == "labeling.item_unrated" and entry["dataset_object_id"] == "2" for entry in logs
    )


def test_response_has_the_documented_shape_with_every_object() -> None:
    outcome = consolidate_payload(load_event("gt_annotation_payload.json"), no_s3)
    response = [result.model_dump(mode="json") for result in outcome.response("answer-relevance")]
    assert [entry["datasetObjectId"] for entry in response] == ["0", "1", "2"]
    for entry in response:
        assert set(entry) == {"datasetObjectId", "consolidatedAnnotation"}
        assert set(entry["consolidatedAnnotation"]) == {"content"}
        assert set(entry["consolidatedAnnotation"]["content"]) == {"answer-relevance"}
    labeled = ConsolidatedLabel.model_validate(
        response[0]["consolidatedAnnotation"]["content"]["answer-relevance"]
    )
    assert labeled.consolidated_rating == 5.0
    unrated = response[2]["consolidatedAnnotation"]["content"]["answer-relevance"]
    assert (
        unrated["ratings"] == [] and unrated["consolidated_rating"] is None and len(unrated["problems"]) == 2
    )


def test_annotation_stored_in_s3_is_read_and_an_unreadable_one_is_a_problem() -> None:
    stored = {"s3://out/a1.json": worker_content(2)}

    def read(uri: str) -> str:
        if uri not in stored:
            raise MalformedAnnotationError(f"cannot read annotation {uri}")
        return stored[uri]

    entry: dict[str, Any] = {
        "datasetObjectId": "7",
        "dataObject": {"s3Uri": "s3://in/item.json"},
        "annotations": [
            {"workerId": "w1", "annotationData": {"s3Uri": "s3://out/a1.json"}},
            {"workerId": "w2", "annotationData": {"s3Uri": "s3://out/missing.json"}},
        ],
    }
    (item,) = consolidate_payload([entry], read).items
    assert item.label is not None and [rating.rating for rating in item.label.ratings] == [2]
    assert item.problems == ["annotation 1 (worker w2): cannot read annotation s3://out/missing.json"]


def test_malformed_entries_do_not_hide_the_others() -> None:
    good = {
        "datasetObjectId": "1",
        "annotations": [{"workerId": "w", "annotationData": {"content": worker_content(4)}}],
    }
    entries = [
        {"annotations": []},
        {"datasetObjectId": "2"},
        "nonsense",
        good,
        {"datasetObjectId": "3", "annotations": []},
    ]
    outcome = consolidate_payload(entries, no_s3)
    by_id = {item.dataset_object_id: item for item in outcome.items}
    assert set(by_id) == {"1", "2", "3"}
    assert by_id["1"].label is not None and by_id["1"].label.consolidated_rating == 4.0
    assert by_id["2"].label is None and "annotations" in by_id["2"].problems[0]
    assert by_id["3"].label is None and by_id["3"].problems == ["no annotations"]
    assert len(outcome.unusable) == 2 and outcome.unusable[0].startswith("payload entry 0")


def test_payload_that_is_not_a_list_is_an_invalid_event() -> None:
    with pytest.raises(InvalidLambdaEventError, match="not a JSON list"):
        consolidate_payload({"datasetObjectId": "1"}, no_s3)
