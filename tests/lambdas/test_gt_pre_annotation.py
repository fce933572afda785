"""The pre-annotation Lambda on documented Ground Truth events, reading source-ref objects from moto's S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chatbot.config import Settings
from chatbot.errors import InvalidLambdaEventError
from infra.local.moto_server import MotoServer
from lambdas.gt_pre_annotation import handler
from tests.labeling.samples import (
    LABELING_BUCKET,
    ensure_labeling_bucket,
    fresh_lambda_s3_clients,
    sample_items,
)
from tests.support.events import load_event
from workflows.labeling.gt_task import RATING_CATEGORIES, TaskInput
from workflows.labeling.manifest import LabelingItem
from workflows.labeling.template import render_task

SOURCE_REF_KEY = "manifests/items/20261120-7c1d0e9f2a3b-3.json"


@pytest.fixture(autouse=True)
def lambda_environment(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The handler reads its settings from the environment, as in Lambda; here they point at moto."""
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", moto_server.endpoint_url)
    with fresh_lambda_s3_clients(handler.s3_client):
        yield


@pytest.fixture
def labeling_bucket(settings: Settings) -> Any:
    return ensure_labeling_bucket(settings)


def test_inline_source_uses_our_metadata() -> None:
    event = load_event("gt_pre_annotation_source.json")
    response = handler.lambda_handler(event, None)
    assert set(response) == {"taskInput", "isHumanAnnotationRequired"}
    assert response["isHumanAnnotationRequired"] is True
    task_input = response["taskInput"]
    metadata = event["dataObject"]["chatbot-metadata"]
    assert task_input["item_id"] == metadata["item_id"]
    assert task_input["question"] == metadata["question"]
    assert task_input["answer"] == metadata["answer"]
    assert task_input["sources"] == [
        {"doc": source["doc"], "title": source["title"], "snippet": source["snippet"]}
        for source in metadata["sources"]
    ]
    assert task_input["categories"] == list(RATING_CATEGORIES)
    json.dumps(response)  # what Lambda serialises back to Ground Truth


def test_source_ref_is_read_from_s3(labeling_bucket: Any) -> None:
    stored = sample_items()[2]
    labeling_bucket.put_object(
        Bucket=LABELING_BUCKET, Key=SOURCE_REF_KEY, Body=stored.model_dump_json().encode()
    )
    response = handler.lambda_handler(load_event("gt_pre_annotation_source_ref.json"), None)
    task_input = TaskInput.model_validate(response["taskInput"])
    assert task_input.item_id == stored.item_id
    assert task_input.answer == stored.answer  # the S3 object, not the line's placeholder
    html = render_task(task_input)
    assert "&lt;script&gt;" in html and "<script>alert" not in html


def test_missing_source_ref_object_is_a_clear_error(labeling_bucket: Any) -> None:
    labeling_bucket.delete_object(Bucket=LABELING_BUCKET, Key=SOURCE_REF_KEY)
    with pytest.raises(
        InvalidLambdaEventError, match=f"cannot read source-ref s3://{LABELING_BUCKET}/{SOURCE_REF_KEY}"
    ):
        handler.lambda_handler(load_event("gt_pre_annotation_source_ref.json"), None)


def test_source_ref_object_that_is_not_an_item_is_a_clear_error(labeling_bucket: Any) -> None:
    labeling_bucket.put_object(Bucket=LABELING_BUCKET, Key=SOURCE_REF_KEY, Body=b'{"item_id": "x"}')
    with pytest.raises(InvalidLambdaEventError, match=r"is not a labeling item: .*question: Field required"):
        handler.lambda_handler(load_event("gt_pre_annotation_source_ref.json"), None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda event: event.pop("dataObject"), "dataObject: Field required"),
        (lambda event: event.pop("labelingJobArn"), "labelingJobArn: Field required"),
        (lambda event: event["dataObject"].update({"source-ref": "s3://b/k"}), "exactly one of"),
        (lambda event: event["dataObject"].pop("chatbot-metadata"), "no `chatbot-metadata`"),
        (lambda event: event["dataObject"]["chatbot-metadata"].pop("answer"), "chatbot-metadata.answer"),
    ],
)
def test_malformed_events_are_refused_with_what_is_wrong(change: Any, reason: str) -> None:
    event = load_event("gt_pre_annotation_source.json")
    change(event)
    with pytest.raises(InvalidLambdaEventError, match=reason):
        handler.lambda_handler(event, None)


def test_typed_function_serves_tests_without_aws() -> None:
    item = LabelingItem.model_validate(
        load_event("gt_pre_annotation_source.json")["dataObject"]["chatbot-metadata"]
    )
    event = handler.parse_event(load_event("gt_pre_annotation_source.json"))
    assert handler.pre_annotate(event, s3=None).task_input.question == item.question
