"""Output manifests in Ground Truth's custom-task format: written by the local page, read by everything after.

Ground Truth writes, for each input line, the line itself plus the label attribute (the content our
consolidation Lambda returned) and ``<attribute>-metadata``::

    {"source": "...", "chatbot-metadata": {...},
     "answer-relevance": {"ratings": [...], "consolidated_rating": 4.0, "agreement": 0.67, "problems": []},
     "answer-relevance-metadata": {"type": "groundtruth/custom", "job-name": "relevance-2026-11",
                                   "human-annotated": "yes", "creation-date": "2026-11-21T10:15:42.118303"}}

The reader accepts ``job_name``/``creation_date`` and ``groundTruth/custom`` too (the custom-workflow page
of the Developer Guide spells them so). A line can also be

* **unlabeled** - no label attribute (intermediate output, or a local item nobody rated yet);
* **unrated** - the label says no worker's annotation was usable (``ratings: []``, see consolidation.py);
* **failed** - Ground Truth gave up on the object: ``<attribute>-metadata`` holds a ``failure-reason``.

Anything else that cannot be used is a :class:`ManifestLineError` naming the file and line; the other lines
are still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from chatbot.errors import ManifestLineError
from workflows.labeling.jsonl import describe_validation_error, iter_json_objects
from workflows.labeling.manifest import METADATA_KEY, ConsolidatedLabel, LabelingItem, LabelMetadata

CUSTOM_LABEL_TYPE = "groundtruth/custom"
METADATA_SUFFIX = "-metadata"
FAILURE_REASON = "failure-reason"


def creation_date(moment: datetime) -> str:
    """Ground Truth's timestamp form: UTC, no zone suffix, microseconds (``2018-10-18T22:18:13.527256``)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def label_metadata(job_name: str, created_at: datetime) -> dict[str, Any]:
    metadata = LabelMetadata.model_validate(
        {
            "type": CUSTOM_LABEL_TYPE,
            "job-name": job_name,
            "human-annotated": "yes",
            "creation-date": creation_date(created_at),
        }
    )
    return metadata.model_dump(by_alias=True)


def output_line(
    input_line: Mapping[str, Any],
    label_attribute: str,
    label_content: Mapping[str, Any],
    job_name: str,
    created_at: datetime,
) -> dict[str, Any]:
    """What Ground Truth writes for a labeled object: the input line, the label and its metadata."""
    line = dict(input_line)
    line[label_attribute] = dict(label_content)
    line[label_attribute + METADATA_SUFFIX] = label_metadata(job_name, created_at)
    return line


class LabelStatus(StrEnum):
    LABELED = "labeled"
    UNRATED = "unrated"
    UNLABELED = "unlabeled"
    FAILED = "failed"


class OutputRecord(BaseModel):
    """One output manifest line, read."""

    model_config = ConfigDict(frozen=True)

    path: str
    line_number: int
    item: LabelingItem
    status: LabelStatus
    label_attribute: str | None = None
    label: ConsolidatedLabel | None = None
    metadata: LabelMetadata | None = None
    problems: list[str] = []

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line_number}"


@dataclass
class OutputManifest:
    path: str
    records: list[OutputRecord] = field(default_factory=list)
    errors: list[ManifestLineError] = field(default_factory=list)

    def count(self, status: LabelStatus) -> int:
        return sum(1 for record in self.records if record.status is status)


def _label_attribute(line: Mapping[str, Any], wanted: str | None) -> str | None:
    """The line's label attribute: ``wanted``, or the one key that has a ``-metadata`` twin."""
    if wanted is not None:
        return wanted if wanted in line or wanted + METADATA_SUFFIX in line else None
    candidates = sorted(
        key[: -len(METADATA_SUFFIX)]
        for key, value in line.items()
        if key.endswith(METADATA_SUFFIX) and key != METADATA_KEY and isinstance(value, dict)
    )
    if len(candidates) > 1:
        raise ValueError(f"several label attributes ({', '.join(candidates)}): name the one to read")
    return candidates[0] if candidates else None


def _failure_reason(metadata: Mapping[str, Any]) -> str | None:
    reason = metadata.get(FAILURE_REASON)
    return None if reason is None else str(reason)


def parse_output_line(
    line: Mapping[str, Any], path: str, line_number: int, label_attribute: str | None
) -> OutputRecord:
    """Read one output manifest object; raises :class:`ManifestLineError` when it cannot be used."""

    def error(reason: str) -> ManifestLineError:
        return ManifestLineError(path, line_number, reason)

    if METADATA_KEY not in line:
        raise error(f"no `{METADATA_KEY}`: not a line of our labeling manifests")
    try:
        item = LabelingItem.model_validate(line[METADATA_KEY])
    except ValidationError as problem:
        raise error(describe_validation_error(problem, METADATA_KEY)) from None
    try:
        attribute = _label_attribute(line, label_attribute)
    except ValueError as problem:
        raise error(str(problem)) from None
    record = {"path": path, "line_number": line_number, "item": item, "label_attribute": attribute}
    if attribute is None:
        return OutputRecord(**record, status=LabelStatus.UNLABELED)

    raw_metadata = line.get(attribute + METADATA_SUFFIX)
    if not isinstance(raw_metadata, dict):
        raise error(f"label `{attribute}` has no `{attribute}{METADATA_SUFFIX}` object")
    reason = _failure_reason(raw_metadata)
    if reason is not None and attribute not in line:
        return OutputRecord(**record, status=LabelStatus.FAILED, problems=[reason])
    try:
        metadata = LabelMetadata.model_validate(raw_metadata)
    except ValidationError as problem:
        raise error(describe_validation_error(problem, attribute + METADATA_SUFFIX)) from None
    if metadata.type.lower() != CUSTOM_LABEL_TYPE:
        raise error(f"label `{attribute}` is of type {metadata.type!r}, not {CUSTOM_LABEL_TYPE!r}")

    content = line.get(attribute)
    if not isinstance(content, dict):
        raise error(f"label `{attribute}` is not a JSON object")
    if content.get("ratings") == [] and content.get("consolidated_rating") is None:
        problems = content.get("problems", [])
        listed = [str(problem) for problem in problems] if isinstance(problems, list) else [str(problems)]
        return OutputRecord(**record, status=LabelStatus.UNRATED, metadata=metadata, problems=listed)
    try:
        label = ConsolidatedLabel.model_validate(content)
    except ValidationError as problem:
        raise error(describe_validation_error(problem, attribute)) from None
    if not label.ratings:
        raise error(f"label `{attribute}` has a consolidated rating but no worker ratings")
    return OutputRecord(
        **record, status=LabelStatus.LABELED, label=label, metadata=metadata, problems=list(label.problems)
    )


def parse_output_manifest(text: str, path: str, label_attribute: str | None = None) -> OutputManifest:
    manifest = OutputManifest(path=path)
    for line_number, value in iter_json_objects(text, path):
        if isinstance(value, ManifestLineError):
            manifest.errors.append(value)
            continue
        try:
            manifest.records.append(parse_output_line(value, path, line_number, label_attribute))
        except ManifestLineError as error:
            manifest.errors.append(error)
    return manifest


def read_output_manifest(path: Path, label_attribute: str | None = None) -> OutputManifest:
    return parse_output_manifest(path.read_text(encoding="utf-8"), str(path), label_attribute)
