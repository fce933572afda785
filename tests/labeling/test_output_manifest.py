from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.labeling.samples import input_line, sample_items
from tests.support.events import EVENTS
from workflows.labeling.consolidation import consolidate, unrated_content
from workflows.labeling.jsonl import write_jsonl
from workflows.labeling.manifest import WorkerRating
from workflows.labeling.output_manifest import (
    LabelStatus,
    creation_date,
    output_line,
    parse_output_manifest,
    read_output_manifest,
)

ATTRIBUTE = "answer-relevance"


def labeled_line(index: int = 0, *values: int) -> dict[str, Any]:
    label = consolidate(
        [WorkerRating(worker_id=f"w{n}", rating=value) for n, value in enumerate(values or (4,))]
    )
    return output_line(
        input_line(sample_items()[index]),
        ATTRIBUTE,
        label.model_dump(mode="json"),
        "job-1",
        datetime.now(UTC),
    )


def as_text(*lines: dict[str, Any] | str) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def test_reads_a_ground_truth_output_line_as_aws_writes_it() -> None:
    manifest = read_output_manifest(EVENTS / "gt_output_manifest_line.json")
    assert manifest.errors == []
    (record,) = manifest.records
    assert record.status is LabelStatus.LABELED
    assert record.label_attribute == ATTRIBUTE
    assert record.item.item_id == "20261120-3f9a1c2b7d4e:1"
    assert record.item.sources[0].doc == "howitworks-access-ws.md"
    assert record.label is not None
    assert [rating.rating for rating in record.label.ratings] == [5, 4, 5]
    assert record.label.consolidated_rating == 5.0 and record.label.agreement == 0.6667
    assert record.metadata is not None
    assert record.metadata.type == "groundtruth/custom"
    assert record.metadata.job_name == "answer-relevance-2026-11"
    assert record.metadata.human_annotated == "yes"
    assert record.metadata.creation_date == "2026-11-21T10:15:44.482911"


def test_reads_the_spelling_of_the_custom_workflow_page_too() -> None:
    line = labeled_line(0, 3)
    line[ATTRIBUTE + "-metadata"] = {
        "type": "groundTruth/custom",
        "job_name": "job-2",
        "human-annotated": "yes",
        "creation_date": "2026-11-21T10:00:00.000000",
    }
    (record,) = parse_output_manifest(as_text(line), "out.manifest").records
    assert record.status is LabelStatus.LABELED
    assert record.metadata is not None and record.metadata.job_name == "job-2"


def test_written_lines_are_the_input_line_plus_label_and_metadata(tmp_path: Path) -> None:
    item = sample_items()[1]
    label = consolidate([WorkerRating(worker_id="alice", rating=2, comment="off topic")])
    moment = datetime(2026, 11, 21, 11, 30, 5, 123456, tzinfo=UTC)
    line = output_line(input_line(item), ATTRIBUTE, label.model_dump(mode="json"), "local-run", moment)
    assert write_jsonl(tmp_path / "out.manifest", [line]) == 1

    raw = json.loads((tmp_path / "out.manifest").read_text(encoding="utf-8"))
    assert {key: raw[key] for key in input_line(item)} == input_line(item)
    assert raw[ATTRIBUTE + "-metadata"] == {
        "type": "groundtruth/custom",
        "job-name": "local-run",
        "human-annotated": "yes",
        "creation-date": "2026-11-21T11:30:05.123456",
    }
    (record,) = read_output_manifest(tmp_path / "out.manifest").records
    assert record.item == item
    assert record.label == label


def test_creation_date_is_utc_without_zone_like_ground_truth() -> None:
    text = creation_date(datetime.now(UTC))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", text)


def test_unlabeled_unrated_and_failed_lines_are_told_apart() -> None:
    unlabeled = input_line(sample_items()[0])
    unrated = labeled_line(1)
    unrated[ATTRIBUTE] = unrated_content(["annotation 0 (worker w): not JSON"])
    failed = input_line(sample_items()[2])
    failed[ATTRIBUTE + "-metadata"] = {
        "failure-reason": "ClientError: no label returned",
        "human-annotated": "yes",
    }
    manifest = parse_output_manifest(
        as_text(unlabeled, unrated, failed, labeled_line(3, 5, 5)), "out.manifest"
    )
    assert manifest.errors == []
    assert [record.status for record in manifest.records] == [
        LabelStatus.UNLABELED,
        LabelStatus.UNRATED,
        LabelStatus.FAILED,
        LabelStatus.LABELED,
    ]
    assert manifest.records[1].problems == ["annotation 0 (worker w): not JSON"]
    assert manifest.records[2].problems == ["ClientError: no label returned"]


def test_malformed_lines_are_named_by_file_and_line_and_lose_no_other_record() -> None:
    out_of_range = labeled_line(1)
    out_of_range[ATTRIBUTE]["consolidated_rating"] = 7
    bad_worker_rating = labeled_line(2)
    bad_worker_rating[ATTRIBUTE]["ratings"][0]["rating"] = "great"
    no_metadata = labeled_line(3)
    del no_metadata["chatbot-metadata"]
    wrong_type = labeled_line(0)
    wrong_type[ATTRIBUTE + "-metadata"]["type"] = "groundtruth/text-classification"
    not_object = labeled_line(0)
    not_object[ATTRIBUTE] = 4
    no_ratings = labeled_line(0)
    no_ratings[ATTRIBUTE]["ratings"] = []
    two_labels = labeled_line(0)
    two_labels["other-label"] = {"x": 1}
    two_labels["other-label-metadata"] = {"type": "groundtruth/custom"}
    text = as_text(
        labeled_line(0, 4, 5),
        '{"source": "truncated',
        out_of_range,
        bad_worker_rating,
        no_metadata,
        wrong_type,
        not_object,
        "[1, 2]",
        no_ratings,
        two_labels,
        labeled_line(3, 1, 2),
    )
    manifest = parse_output_manifest(text, "s3://bucket/labels/job/output.manifest")
    assert [record.line_number for record in manifest.records] == [1, 11]
    assert [error.line_number for error in manifest.errors] == list(range(2, 11))
    messages = [str(error) for error in manifest.errors]
    assert all(message.startswith("s3://bucket/labels/job/output.manifest:") for message in messages)
    assert "not valid JSON" in messages[0]
    assert "answer-relevance.consolidated_rating" in messages[1]
    assert "answer-relevance.ratings.0.rating" in messages[2]
    assert "no `chatbot-metadata`" in messages[3]
    assert "groundtruth/text-classification" in messages[4]
    assert "not a JSON object" in messages[5]
    assert "not a JSON object" in messages[6]
    assert "no worker ratings" in messages[7]
    assert "several label attributes" in messages[8]


def test_a_named_label_attribute_picks_one_of_several() -> None:
    line = labeled_line(0, 2)
    line["older-label"] = {"x": 1}
    line["older-label-metadata"] = {"type": "groundtruth/custom", "job-name": "old", "creation-date": "x"}
    (record,) = parse_output_manifest(as_text(line), "m", label_attribute=ATTRIBUTE).records
    assert record.label is not None and record.label.consolidated_rating == 2.0
