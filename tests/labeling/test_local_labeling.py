from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatbot.config import load_settings
from chatbot.errors import AnnotationStoreError
from tests.labeling.samples import input_line, sample_items, write_input_manifest
from workflows.labeling.labeling_cli import labeling_app
from workflows.labeling.local_labeling import (
    LocalLabeling,
    load_local_labeling,
    local_job_name,
    open_local_labeling,
)
from workflows.labeling.output_manifest import LabelStatus, read_output_manifest


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    return write_input_manifest(tmp_path / "relevance-2026-11.manifest", sample_items())


def labeling(manifest_path: Path, tmp_path: Path, per_item: int = 2) -> LocalLabeling:
    return load_local_labeling(manifest_path, tmp_path / "data" / "annotations.sqlite3", per_item)


def test_each_annotator_gets_items_they_have_not_rated_until_each_has_enough(
    manifest_path: Path, tmp_path: Path
) -> None:
    session = labeling(manifest_path, tmp_path, per_item=2)
    ids = [item.item_id for item in sample_items()]
    first = session.next_item("alice")
    assert first is not None and first.item_id == ids[0]
    session.rate("alice", ids[0], 5)
    following = session.next_item("alice")
    assert following is not None and following.item_id == ids[1]
    bob_first = session.next_item("bob")
    assert bob_first is not None and bob_first.item_id == ids[0]  # alice's rating alone does not complete it
    session.rate("bob", ids[0], 4, "  fine  ")
    carol_first = session.next_item("carol")
    assert carol_first is not None and carol_first.item_id == ids[1]  # item 0 has its two ratings
    for item_id in ids[1:]:
        session.rate("alice", item_id, 2)
    assert session.next_item("alice") is None


def test_progress_counts_this_annotator_and_everyone(manifest_path: Path, tmp_path: Path) -> None:
    session = labeling(manifest_path, tmp_path, per_item=2)
    ids = [item.item_id for item in sample_items()]

    def counts(annotator: str) -> tuple[int, ...]:
        progress = session.progress(annotator)
        assert progress.next_item == session.next_item(annotator)  # one look at the store gives both
        return (
            progress.annotator_done,
            progress.annotator_total,
            progress.items_complete,
            progress.items_total,
            progress.annotations_given,
            progress.annotations_wanted,
        )

    assert counts("alice") == (0, 4, 0, 4, 0, 8)
    session.rate("alice", ids[0], 5)
    session.rate("alice", ids[1], 1)
    assert counts("alice") == (2, 4, 0, 4, 2, 8)
    session.rate("bob", ids[0], 4)
    assert counts("bob") == (1, 4, 1, 4, 3, 8)
    # carol can no longer rate item 0: her total is the three items still open to her
    assert counts("carol") == (0, 3, 1, 4, 3, 8)
    carol_next = session.progress("carol").next_item
    assert carol_next is not None and carol_next.item_id == ids[1]


def test_ratings_are_durable_and_shared_between_sessions(manifest_path: Path, tmp_path: Path) -> None:
    labeling(manifest_path, tmp_path).rate("alice", sample_items()[0].item_id, 3, "partly")
    reopened = labeling(manifest_path, tmp_path)
    assert reopened.progress("alice").annotator_done == 1
    (stored,) = reopened.store.all()
    assert (stored.annotator, stored.rating, stored.comment) == ("alice", 3, "partly")


def test_bad_ratings_are_refused_with_a_reason(manifest_path: Path, tmp_path: Path) -> None:
    session = labeling(manifest_path, tmp_path)
    item_id = sample_items()[0].item_id
    session.rate("Alice", item_id, 4)
    with pytest.raises(AnnotationStoreError, match="already rated"):
        session.rate(" alice ", item_id, 5)
    with pytest.raises(AnnotationStoreError, match="invalid rating"):
        session.rate("bob", item_id, 6)
    with pytest.raises(AnnotationStoreError, match="not in manifest"):
        session.rate("bob", "20990101-000000000000:1", 4)
    with pytest.raises(AnnotationStoreError, match="enter your name"):
        session.rate("   ", item_id, 4)
    assert len(session.store.all()) == 1


def test_export_writes_ground_truth_lines_the_reader_parses(manifest_path: Path, tmp_path: Path) -> None:
    session = labeling(manifest_path, tmp_path, per_item=2)
    items = sample_items()
    session.rate("alice", items[0].item_id, 5)
    session.rate("bob", items[0].item_id, 4, "misses the CLI")
    session.rate("alice", items[1].item_id, 2)

    summary = session.export(tmp_path / "out" / "output.manifest", "local-relevance", "answer-relevance")
    assert (summary.lines, summary.labeled, summary.complete, summary.unlabeled) == (4, 2, 1, 2)

    manifest = read_output_manifest(summary.path)
    assert manifest.errors == []
    statuses = [record.status for record in manifest.records]
    assert statuses == [
        LabelStatus.LABELED,
        LabelStatus.LABELED,
        LabelStatus.UNLABELED,
        LabelStatus.UNLABELED,
    ]
    first = manifest.records[0]
    assert first.label is not None and first.metadata is not None
    assert first.label.consolidated_rating == 4.5 and first.label.agreement == 0.5
    assert [(r.worker_id, r.rating, r.comment) for r in first.label.ratings] == [
        ("alice", 5, ""),
        ("bob", 4, "misses the CLI"),
    ]
    assert first.metadata.job_name == "local-relevance" and first.metadata.type == "groundtruth/custom"
    unlabeled_line = json.loads(summary.path.read_text().splitlines()[2])
    assert unlabeled_line == input_line(items[2])


def test_manifest_errors_are_kept_aside_and_the_good_lines_labeled(tmp_path: Path) -> None:
    path = write_input_manifest(tmp_path / "m.manifest", sample_items()[:2])
    with path.open("a") as handle:
        handle.write("{broken\n")
    session = open_local_labeling(load_settings(data_dir=tmp_path / "data"), path)
    assert len(session.items) == 2
    assert [error.line_number for error in session.manifest.errors] == [3]


def test_local_job_names_are_valid_ground_truth_names() -> None:
    assert local_job_name(Path("/x/Relevance 2026_11.manifest")) == "local-relevance-2026-11"


def test_export_command_writes_the_output_manifest(manifest_path: Path, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    open_local_labeling(settings, manifest_path).rate("alice", sample_items()[3].item_id, 1)
    out = tmp_path / "exported.manifest"
    result = CliRunner().invoke(labeling_app, ["export", "--manifest", str(manifest_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 lines, 1 labeled" in result.output
    manifest = read_output_manifest(out)
    assert [record.status for record in manifest.records].count(LabelStatus.LABELED) == 1
