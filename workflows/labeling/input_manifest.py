"""Reading input manifests (the lines ``chatbot transcripts export --format gt-manifest`` writes).

Each line needs ``source`` or ``source-ref`` (what Ground Truth requires) and our ``chatbot-metadata`` (a
:class:`LabelingItem`); any other key is kept, since Ground Truth copies the whole line into its output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chatbot.errors import ManifestLineError
from workflows.labeling.jsonl import describe_validation_error, iter_json_objects
from workflows.labeling.manifest import METADATA_KEY, LabelingItem


class InputManifestLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    source: str | None = None
    source_ref: str | None = Field(None, alias="source-ref")
    item: LabelingItem = Field(alias=METADATA_KEY)

    @model_validator(mode="after")
    def _one_data_object(self) -> InputManifestLine:
        if (self.source is None) == (self.source_ref is None):
            raise ValueError("a manifest line needs exactly one of `source` and `source-ref`")
        return self


@dataclass(frozen=True)
class ManifestEntry:
    """One usable line: its number in the file, the parsed line, and the JSON object exactly as read."""

    line_number: int
    line: InputManifestLine
    raw: dict[str, Any]

    @property
    def item(self) -> LabelingItem:
        return self.line.item


@dataclass
class InputManifest:
    path: str
    entries: list[ManifestEntry] = field(default_factory=list)
    errors: list[ManifestLineError] = field(default_factory=list)

    @property
    def items(self) -> list[LabelingItem]:
        return [entry.item for entry in self.entries]


def parse_input_manifest(text: str, path: str) -> InputManifest:
    """Every good line kept; every bad one reported with its number. Repeated ``item_id``\\ s are errors too
    (the first is kept): two lines for one item would be labeled twice."""
    manifest = InputManifest(path=path)
    seen: dict[str, int] = {}
    for line_number, value in iter_json_objects(text, path):
        if isinstance(value, ManifestLineError):
            manifest.errors.append(value)
            continue
        try:
            line = InputManifestLine.model_validate(value)
        except ValidationError as error:
            manifest.errors.append(ManifestLineError(path, line_number, describe_validation_error(error)))
            continue
        first = seen.setdefault(line.item.item_id, line_number)
        if first != line_number:
            manifest.errors.append(
                ManifestLineError(path, line_number, f"item {line.item.item_id!r} already on line {first}")
            )
            continue
        manifest.entries.append(ManifestEntry(line_number=line_number, line=line, raw=value))
    return manifest
