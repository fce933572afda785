"""The post-annotation (consolidation) Lambda on documented events, with the payload file in moto's S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chatbot.config import Settings
from chatbot.errors import InvalidLambdaEventError
from infra.local.moto_server import MotoServer
from lambdas.gt_post_annotation import handler
from tests.labeling.samples import (
    LABELING_BUCKET,
    ensure_labeling_bucket,
    fresh_lambda_s3_clients,
    worker_content,
)
from tests.support.events import load_event
from workflows.labeling.manifest import ConsolidatedLabel
from workflows.labeling.s3uri import parse_s3_uri


@pytest.fixture(autouse=True)
def lambda_environment(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", moto_server.endpoint_url)
    with fresh_lambda_s3_clients(handler.s3_client):
        yield


@pytest.fixture
def s3(settings: Settings) -> Any:
    return ensure_labeling_bucket(settings)


def put_payload(s3: Any, event: dict[str, Any], payload: Any) -> None:
    location = parse_s3_uri(event["payload"]["s3Uri"])
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    s3.put_object(Bucket=location.bucket, Key=location.key, Body=body)


def test_documented_event_returns_one_consolidated_label_per_object(s3: Any) -> None:
    event = load_event("gt_post_annotation.json")
    put_payload(s3, event, load_event("gt_annotation_payload.json"))
    response = handler.lambda_handler(event, None)
    json.dumps(response)
    assert [entry["datasetObjectId"] for entry in response] == ["0", "1", "2"]
    contents = [entry["consolidatedAnnotation"]["content"]["answer-relevance"] for entry in response]

    first = ConsolidatedLabel.model_validate(contents[0])
    assert [rating.worker_id for rating in first.ratings] == [
        "private.us-east-1.a1b2c3d4e5f60718",
        "private.us-east-1.b2c3d4e5f6071829",
        "private.us-east-1.c3d4e5f60718293a",
    ]
    assert first.consolidated_rating == 5.0

    second = ConsolidatedLabel.model_validate(contents[1])
    assert [rating.rating for rating in second.ratings] == [3, 2] and len(second.problems) == 3

    assert contents[2]["ratings"] == [] and contents[2]["consolidated_rating"] is None
    assert len(contents[2]["problems"]) == 2


def test_label_goes_under_the_events_label_attribute_name(s3: Any) -> None:
    event = load_event("gt_post_annotation.json") | {"labelAttributeName": "relevance-v2"}
    put_payload(s3, event, load_event("gt_annotation_payload.json"))
    response = handler.lambda_handler(event, None)
    assert all(set(entry["consolidatedAnnotation"]["content"]) == {"relevance-v2"} for entry in response)


def test_annotations_stored_in_s3_are_read(s3: Any) -> None:
    event = load_event("gt_post_annotation.json")
    key = "labels/answer-relevance-2026-11/annotations/worker-response/iteration-1/0/w1.json"
    s3.put_object(Bucket=LABELING_BUCKET, Key=key, Body=worker_content(3, "ok").encode())
    payload = [
        {
            "datasetObjectId": "0",
            "dataObject": {"content": "Question: q\nAnswer: a"},
            "annotations": [
                {"workerId": "w1", "annotationData": {"s3Uri": f"s3://{LABELING_BUCKET}/{key}"}},
                {
                    "workerId": "w2",
                    "annotationData": {"s3Uri": f"s3://{LABELING_BUCKET}/labels/missing.json"},
                },
            ],
        }
    ]
    put_payload(s3, event, payload)
    (entry,) = handler.lambda_handler(event, None)
    label = ConsolidatedLabel.model_validate(entry["consolidatedAnnotation"]["content"]["answer-relevance"])
    assert [(rating.worker_id, rating.rating, rating.comment) for rating in label.ratings] == [
        ("w1", 3, "ok")
    ]
    assert "labels/missing.json" in label.problems[0]


def test_unreadable_payloads_are_clear_errors(s3: Any) -> None:
    event = load_event("gt_post_annotation.json") | {
        "payload": {"s3Uri": f"s3://{LABELING_BUCKET}/labels/none.json"}
    }
    with pytest.raises(InvalidLambdaEventError, match="cannot read annotation payload"):
        handler.lambda_handler(event, None)
    event = load_event("gt_post_annotation.json")
    put_payload(s3, event, b"[{truncated")
    with pytest.raises(InvalidLambdaEventError, match="is not JSON"):
        handler.lambda_handler(event, None)


@pytest.mark.parametrize("missing", ["labelAttributeName", "payload", "labelingJobArn"])
def test_malformed_events_are_refused_with_what_is_missing(missing: str) -> None:
    event = load_event("gt_post_annotation.json")
    del event[missing]
    with pytest.raises(InvalidLambdaEventError, match=f"{missing}: Field required"):
        handler.lambda_handler(event, None)
