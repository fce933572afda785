"""Input manifest -> pre-annotation Lambda -> workers' annotation file in S3 (moto) -> consolidation Lambda ->
output manifest (joined as Ground Truth joins it) -> dataset builder, checking the numbers at each step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chatbot.config import Settings
from infra.local.moto_server import MotoServer
from lambdas.gt_post_annotation import handler as post_handler
from lambdas.gt_pre_annotation import handler as pre_handler
from tests.labeling.samples import (
    LABELING_BUCKET,
    ensure_labeling_bucket,
    fresh_lambda_s3_clients,
    sample_items,
    worker_content,
    write_input_manifest,
)
from workflows.labeling.gt_task import TaskInput
from workflows.labeling.input_manifest import parse_input_manifest
from workflows.labeling.jsonl import write_jsonl
from workflows.labeling.output_manifest import (
    LabelStatus,
    output_line,
    read_output_manifest,
)
from workflows.labeling.template import render_task
from workflows.training.datasets import build_datasets, write_datasets

JOB = "answer-relevance-round-trip"
JOB_ARN = f"arn:aws:sagemaker:us-east-1:111122223333:labeling-job/{JOB}"
ATTRIBUTE = "answer-relevance"
PAYLOAD_KEY = (
    f"labels/{JOB}/annotations/consolidated-annotation/consolidation-request/iteration-1/" + "2026.json"
)


@pytest.fixture(autouse=True)
def lambda_environment(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", moto_server.endpoint_url)
    with fresh_lambda_s3_clients(pre_handler.s3_client, post_handler.s3_client):
        yield


def worker(number: int) -> str:
    return f"private.us-east-1.{number:016x}"


def annotation(number: int, content: str) -> dict[str, Any]:
    return {"workerId": worker(number), "annotationData": {"content": content}}


# per input line: what three workers sent back (valid ratings, and malformed answers)
WORKER_ANSWERS: list[list[str]] = [
    [worker_content(5), worker_content(4, "no CLI command"), worker_content(5)],
    [
        worker_content(2, "explains, does not answer"),
        worker_content(2),
        '{"relevance": {"label": "1 - Not rel',
    ],
    [worker_content(3), worker_content(4), json.dumps({"relevance": {"label": "7 - Perfect"}})],
    [json.dumps({"comment": "no rating"}), "not json at all", json.dumps({"relevance": {"label": 1}})],
]


def test_round_trip_from_input_manifest_to_training_datasets(settings: Settings, tmp_path: Path) -> None:
    s3 = ensure_labeling_bucket(settings)

    # 1. the input manifest, written by hand with the shared models
    items = sample_items()
    manifest_path = write_input_manifest(tmp_path / "input.manifest", items)
    manifest = parse_input_manifest(manifest_path.read_text(), str(manifest_path))
    assert manifest.errors == [] and len(manifest.entries) == 4

    # 2. Ground Truth calls the pre-annotation Lambda for each data object; the worker sees the rendered task
    for entry in manifest.entries:
        event = {"version": "2018-10-16", "labelingJobArn": JOB_ARN, "dataObject": entry.raw}
        task_input = TaskInput.model_validate(pre_handler.lambda_handler(event, None)["taskInput"])
        assert (task_input.question, task_input.answer) == (entry.item.question, entry.item.answer)
        assert "<script>alert" not in render_task(task_input)

    # 3. the workers' annotations, in the documented payload file, in the job's output prefix
    payload = [
        {
            "datasetObjectId": str(index),
            "dataObject": {"content": entry.raw["source"]},
            "annotations": [
                annotation(number, content) for number, content in enumerate(WORKER_ANSWERS[index])
            ],
        }
        for index, entry in enumerate(manifest.entries)
    ]
    s3.put_object(Bucket=LABELING_BUCKET, Key=PAYLOAD_KEY, Body=json.dumps(payload).encode())

    # 4. the consolidation Lambda
    post_event = {
        "version": "2018-10-16",
        "labelingJobArn": JOB_ARN,
        "labelCategories": [],
        "labelAttributeName": ATTRIBUTE,
        "roleArn": "arn:aws:iam::111122223333:role/support-chatbot-labeling-job",
        "payload": {"s3Uri": f"s3://{LABELING_BUCKET}/{PAYLOAD_KEY}"},
    }
    response = post_handler.lambda_handler(post_event, None)
    assert [entry["datasetObjectId"] for entry in response] == ["0", "1", "2", "3"]
    contents = {
        entry["datasetObjectId"]: entry["consolidatedAnnotation"]["content"][ATTRIBUTE] for entry in response
    }
    assert [contents[key]["consolidated_rating"] for key in "0123"] == [5.0, 2.0, 3.5, None]
    assert [len(contents[key]["ratings"]) for key in "0123"] == [3, 2, 2, 0]
    assert [len(contents[key]["problems"]) for key in "0123"] == [0, 1, 1, 3]

    # 5. Ground Truth joins each label to its input line in the output manifest
    created = datetime(2026, 11, 21, 10, 16, tzinfo=UTC)
    output_lines = [
        output_line(entry.raw, ATTRIBUTE, contents[str(index)], JOB, created)
        for index, entry in enumerate(manifest.entries)
    ]
    output_path = tmp_path / JOB / "manifests" / "output" / "output.manifest"
    assert write_jsonl(output_path, output_lines) == 4

    # 6. the reader
    output = read_output_manifest(output_path)
    assert output.errors == []
    assert [record.status for record in output.records] == [LabelStatus.LABELED] * 3 + [LabelStatus.UNRATED]
    assert [record.item for record in output.records] == items
    assert output.records[0].label is not None and output.records[0].label.agreement == 0.6667
    assert output.records[1].label is not None and output.records[1].label.ratings[0].comment == (
        "explains, does not answer"
    )
    assert len(output.records[3].problems) == 3

    # 7. the datasets
    datasets = build_datasets([output])
    assert (datasets.counts.lines, datasets.counts.labeled, datasets.counts.unrated) == (4, 3, 1)
    assert [(row.rating, row.reward) for row in datasets.ratings] == [(5.0, 1.0), (2.0, -0.5), (3.5, 0.25)]
    (pair,) = datasets.preferences  # items 0 and 1 ask one question, worded differently
    assert (pair.chosen, pair.rejected, pair.margin) == (items[0].answer, items[1].answer, 3.0)
    assert [(row.item_id, row.label) for row in datasets.kto] == [
        (items[0].item_id, True),
        (items[1].item_id, False),
    ]
    assert datasets.worker_rating_histogram() == {1: 0, 2: 2, 3: 1, 4: 2, 5: 2}

    written = write_datasets(datasets, tmp_path / "datasets")
    assert [len(written[name].read_text().splitlines()) for name in ("ratings", "preferences", "kto")] == [
        3,
        1,
        2,
    ]
