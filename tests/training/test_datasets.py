from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from chatbot.config import Settings
from tests.labeling.samples import LABELING_BUCKET, ensure_labeling_bucket, input_line, sample_items
from workflows.labeling.consolidation import consolidate, unrated_content
from workflows.labeling.manifest import WorkerRating
from workflows.labeling.output_manifest import output_line, parse_output_manifest
from workflows.training.cli import register
from workflows.training.datasets import (
    KTO_FILE,
    PREFERENCES_FILE,
    RATINGS_FILE,
    build_datasets,
    normalise_question,
    reward_for,
    write_datasets,
)

ATTRIBUTE = "answer-relevance"


def labeled(index: int, *ratings: tuple[str, int]) -> dict[str, Any]:
    label = consolidate([WorkerRating(worker_id=worker, rating=value) for worker, value in ratings])
    return output_line(
        input_line(sample_items()[index]), ATTRIBUTE, label.model_dump(mode="json"), "job", datetime.now(UTC)
    )


def manifest_text(*lines: dict[str, Any] | str) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def standard_lines() -> list[dict[str, Any]]:
    """Items 0 and 1 answer one question (5 vs 2); item 2 is rated 3.5; item 3 rated 1."""
    return [
        labeled(0, ("a", 5), ("b", 4), ("c", 5)),
        labeled(1, ("a", 2), ("b", 2), ("c", 1)),
        labeled(2, ("a", 3), ("b", 4)),
        labeled(3, ("a", 1)),
    ]


def test_question_normalisation_and_reward_scale() -> None:
    assert (
        normalise_question("  How do I STOP a notebook   instance?! ") == "how do i stop a notebook instance"
    )
    assert normalise_question("Ｈｏｗ") == "how"  # NFKC: full-width letters
    assert [reward_for(value) for value in (1, 2, 3, 3.5, 4, 5)] == [-1.0, -0.5, 0.0, 0.25, 0.5, 1.0]


def test_ratings_pairs_and_kto_rows_from_labeled_lines() -> None:
    datasets = build_datasets([parse_output_manifest(manifest_text(*standard_lines()), "out.manifest")])
    items = sample_items()

    assert [(row.item_id, row.rating, row.reward) for row in datasets.ratings] == [
        (items[0].item_id, 5.0, 1.0),
        (items[1].item_id, 2.0, -0.5),
        (items[2].item_id, 3.5, 0.25),
        (items[3].item_id, 1.0, -1.0),
    ]
    first = datasets.ratings[0]
    assert first.prompt == items[0].question and first.response == items[0].answer
    assert first.worker_ratings == [5, 4, 5] and first.sources == ["nbi.md"]

    (pair,) = datasets.preferences
    assert pair.prompt == items[0].question
    assert (pair.chosen, pair.rejected, pair.margin) == (items[0].answer, items[1].answer, 3.0)

    assert [(row.item_id, row.label) for row in datasets.kto] == [
        (items[0].item_id, True),
        (items[1].item_id, False),
        (items[3].item_id, False),
    ]
    assert datasets.worker_rating_histogram() == {1: 2, 2: 2, 3: 1, 4: 2, 5: 2}
    assert datasets.consolidated_rating_histogram() == {1.0: 1, 2.0: 1, 3.5: 1, 5.0: 1}


def test_equal_ratings_and_identical_answers_make_no_pair() -> None:
    same_rating = [labeled(0, ("a", 4)), labeled(1, ("a", 4))]
    assert build_datasets([parse_output_manifest(manifest_text(*same_rating), "m")]).preferences == []
    twin = labeled(1, ("a", 1))
    twin["chatbot-metadata"]["answer"] = sample_items()[0].answer
    identical = [labeled(0, ("a", 5)), twin]
    assert build_datasets([parse_output_manifest(manifest_text(*identical), "m")]).preferences == []


def test_an_item_in_several_manifests_is_pooled_once() -> None:
    ground_truth = parse_output_manifest(manifest_text(labeled(0, ("gt-1", 5), ("gt-2", 3))), "gt.manifest")
    local = parse_output_manifest(manifest_text(labeled(0, ("alice", 4), ("gt-2", 4))), "local.manifest")
    datasets = build_datasets([ground_truth, local])
    (row,) = datasets.ratings
    assert sorted(row.worker_ratings) == [4, 4, 5]  # gt-2's later rating replaces the earlier one
    assert row.rating == 4.0
    assert datasets.counts.merged_duplicates == 1


def test_malformed_lines_are_named_and_every_other_record_kept(tmp_path: Path) -> None:
    unknown_value = labeled(2, ("a", 3))
    unknown_value[ATTRIBUTE]["ratings"][0]["rating"] = "excellent"
    missing_field = labeled(3, ("a", 1))
    del missing_field["chatbot-metadata"]["answer"]
    unrated = labeled(3, ("a", 1))
    unrated[ATTRIBUTE] = unrated_content(["annotation 0 (worker a): not JSON"])
    lines: list[dict[str, Any] | str] = [
        *standard_lines()[:2],
        json.dumps(standard_lines()[2])[:40],
        unknown_value,
        missing_field,
        unrated,
        input_line(sample_items()[2]),
    ]
    datasets = build_datasets([parse_output_manifest(manifest_text(*lines), "labels/out.manifest")])
    assert len(datasets.ratings) == 2 and len(datasets.preferences) == 1
    assert [str(error).split(": ")[0] for error in datasets.errors] == [
        "labels/out.manifest:3",
        "labels/out.manifest:4",
        "labels/out.manifest:5",
    ]
    assert "not valid JSON" in str(datasets.errors[0])
    assert "answer-relevance.ratings.0.rating" in str(datasets.errors[1])
    assert "chatbot-metadata.answer: Field required" in str(datasets.errors[2])
    counts = datasets.counts
    assert (counts.lines, counts.labeled, counts.unrated, counts.unlabeled, counts.errors) == (4, 2, 1, 1, 3)
    assert datasets.problems == [
        f"labels/out.manifest:6: item {sample_items()[3].item_id} has no valid rating"
    ]


def test_written_files_load_with_hugging_face_datasets(tmp_path: Path) -> None:
    datasets_module = pytest.importorskip("datasets")
    datasets = build_datasets([parse_output_manifest(manifest_text(*standard_lines()), "m")])
    written = write_datasets(datasets, tmp_path / "out")
    cache = tmp_path / "hf-cache"

    ratings = datasets_module.load_dataset(
        "json", data_files=str(written["ratings"]), split="train", cache_dir=cache
    )
    assert ratings.num_rows == 4
    assert {"prompt", "response", "rating", "reward", "worker_ratings"} <= set(ratings.column_names)
    assert ratings["reward"] == [1.0, -0.5, 0.25, -1.0]

    pairs = datasets_module.load_dataset(
        "json", data_files=str(written["preferences"]), split="train", cache_dir=cache
    )
    assert pairs.num_rows == 1 and {"prompt", "chosen", "rejected", "margin"} <= set(pairs.column_names)

    kto = datasets_module.load_dataset("json", data_files=str(written["kto"]), split="train", cache_dir=cache)
    assert kto["label"] == [True, False, False]
    assert json.loads(written["summary"].read_text())["preference_pairs"] == 1


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_build_command_prints_counts_and_histograms(tmp_path: Path) -> None:
    first = tmp_path / "gt.manifest"
    first.write_text(manifest_text(*standard_lines()[:2]))
    second = tmp_path / "local.manifest"
    second.write_text(manifest_text(*standard_lines()[2:]))
    out = tmp_path / "datasets"
    result = CliRunner().invoke(
        cli(), ["feedback", "build", "--input", str(first), "--input", str(second), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "read 4 lines: 4 labeled" in result.output
    assert "ratings:          4" in result.output
    assert "preferences:      1" in result.output
    assert "kto:              3" in result.output
    assert "(1 desirable, 2 undesirable, 1 rated 3-3.5 left out)" in result.output
    assert "expert ratings:" in result.output and "consolidated (median) ratings:" in result.output
    assert len((out / RATINGS_FILE).read_text().splitlines()) == 4
    assert len((out / PREFERENCES_FILE).read_text().splitlines()) == 1
    assert len((out / KTO_FILE).read_text().splitlines()) == 3


def test_build_command_reports_bad_lines_keeps_the_rest_and_fails(tmp_path: Path) -> None:
    source = tmp_path / "gt.manifest"
    source.write_text(manifest_text(*standard_lines()[:2], '{"truncated'))
    out = tmp_path / "datasets"
    result = CliRunner().invoke(cli(), ["feedback", "build", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert f"error: {source}:3: not valid JSON" in result.output
    assert len((out / RATINGS_FILE).read_text().splitlines()) == 2


def test_build_command_reads_manifests_from_s3(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATBOT_AWS_ENDPOINT_URL", str(settings.aws_endpoint_url))
    s3 = ensure_labeling_bucket(settings)
    key = "labels/job-s3/manifests/output/output.manifest"
    s3.put_object(Bucket=LABELING_BUCKET, Key=key, Body=manifest_text(*standard_lines()).encode())
    out = tmp_path / "datasets"
    result = CliRunner().invoke(
        cli(), ["feedback", "build", "--input", f"s3://{LABELING_BUCKET}/{key}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len((out / RATINGS_FILE).read_text().splitlines()) == 4
