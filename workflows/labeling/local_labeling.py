"""Labeling without Ground Truth: experts rate items from an input manifest on a local page.

Annotations go to SQLite (``<data_dir>/labeling/annotations.sqlite3``, WAL, one row per item and annotator,
committed as each is given). Each annotator is offered, in manifest order, the items they have not rated
that still need ratings (fewer than ``annotations_per_item``). Export writes the output manifest Ground
Truth would (same consolidation, same line format), so the dataset builder reads both alike.

Annotator names are trimmed, and compared without regard to ASCII case ("Alice" and "alice" are one person).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from chatbot.config import Settings
from chatbot.errors import AnnotationStoreError
from workflows.labeling.consolidation import consolidate
from workflows.labeling.input_manifest import InputManifest, parse_input_manifest
from workflows.labeling.jsonl import describe_validation_error, write_jsonl
from workflows.labeling.manifest import LabelingItem, WorkerRating
from workflows.labeling.output_manifest import output_line

log = structlog.get_logger(__name__)

MAX_ANNOTATOR_CHARS = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS annotations (
    item_id    TEXT    NOT NULL,
    annotator  TEXT    NOT NULL COLLATE NOCASE,
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    PRIMARY KEY (item_id, annotator)
)
"""


def labeling_dir(settings: Settings) -> Path:
    return settings.data_dir / "labeling"


def annotator_name(name: str) -> str:
    """The name as stored: trimmed, inner whitespace collapsed; empty or overlong names are refused."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise AnnotationStoreError("enter your name before rating")
    if len(cleaned) > MAX_ANNOTATOR_CHARS:
        raise AnnotationStoreError(f"a name has at most {MAX_ANNOTATOR_CHARS} characters")
    return cleaned


@dataclass(frozen=True)
class StoredAnnotation:
    item_id: str
    annotator: str
    rating: int
    comment: str
    created_at: str


class AnnotationStore:
    """Durable annotations; a connection per call, so page sessions on other threads can share one store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as connection, connection:
            yield connection

    def add(self, item_id: str, annotator: str, rating: int, comment: str, created_at: datetime) -> None:
        """Store one rating; refuses a second rating of the same item by the same annotator."""
        try:
            with self._connection() as connection:
                connection.execute(
                    "INSERT INTO annotations (item_id, annotator, rating, comment, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (item_id, annotator, rating, comment, created_at.isoformat()),
                )
        except sqlite3.IntegrityError as error:
            raise AnnotationStoreError(f"{annotator} has already rated item {item_id}") from error
        except sqlite3.Error as error:
            raise AnnotationStoreError(f"cannot store the rating of item {item_id}: {error}") from error

    def all(self) -> list[StoredAnnotation]:
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT item_id, annotator, rating, comment, created_at FROM annotations"
                " ORDER BY created_at, rowid"
            ).fetchall()
        return [StoredAnnotation(*row) for row in rows]

    def by_item(self) -> dict[str, list[StoredAnnotation]]:
        grouped: dict[str, list[StoredAnnotation]] = {}
        for annotation in self.all():
            grouped.setdefault(annotation.item_id, []).append(annotation)
        return grouped


@dataclass(frozen=True)
class Progress:
    """``annotator_done`` of ``annotator_total`` items for this annotator (those they rated plus those still
    open to them); ``items_complete`` of ``items_total`` items have all their ratings; ``next_item`` is
    what :meth:`LocalLabeling.next_item` would return, read from the same look at the store."""

    annotator_done: int
    annotator_total: int
    items_complete: int
    items_total: int
    annotations_given: int
    annotations_wanted: int
    next_item: LabelingItem | None


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    lines: int
    labeled: int
    complete: int
    unlabeled: int


class LocalLabeling:
    def __init__(self, manifest: InputManifest, store: AnnotationStore, annotations_per_item: int) -> None:
        if annotations_per_item < 1:
            raise ValueError("annotations_per_item must be at least 1")
        self.manifest = manifest
        self.store = store
        self.annotations_per_item = annotations_per_item
        self._items = {entry.item.item_id: entry.item for entry in manifest.entries}

    @property
    def items(self) -> list[LabelingItem]:
        return self.manifest.items

    def _annotators_by_item(self) -> dict[str, set[str]]:
        return {
            item_id: {annotation.annotator.casefold() for annotation in annotations}
            for item_id, annotations in self.store.by_item().items()
        }

    def _open_items(self, me: str, done: dict[str, set[str]]) -> list[LabelingItem]:
        """Items still open to ``me`` (casefolded name), given ``done`` as _annotators_by_item returns it."""
        return [
            item
            for item in self.items
            if me not in done.get(item.item_id, set())
            and len(done.get(item.item_id, set())) < self.annotations_per_item
        ]

    def next_item(self, annotator: str) -> LabelingItem | None:
        """The first item in manifest order this annotator has not rated and that still needs ratings."""
        open_items = self._open_items(annotator_name(annotator).casefold(), self._annotators_by_item())
        return open_items[0] if open_items else None

    def rate(self, annotator: str, item_id: str, rating: int, comment: str = "") -> WorkerRating:
        """Validate and store one rating at once. A rating that arrives after others completed the item is
        still kept: an expert's work is never thrown away."""
        name = annotator_name(annotator)
        if item_id not in self._items:
            raise AnnotationStoreError(f"item {item_id!r} is not in manifest {self.manifest.path}")
        try:
            worker_rating = WorkerRating(worker_id=name, rating=rating, comment=comment.strip())
        except ValidationError as error:
            raise AnnotationStoreError(f"invalid rating: {describe_validation_error(error)}") from None
        self.store.add(item_id, name, worker_rating.rating, worker_rating.comment, datetime.now(UTC))
        log.info("labeling.rated", item_id=item_id, annotator=name, rating=worker_rating.rating)
        return worker_rating

    def progress(self, annotator: str) -> Progress:
        me = annotator_name(annotator).casefold()
        done = self._annotators_by_item()
        in_manifest = {item_id: names for item_id, names in done.items() if item_id in self._items}
        mine = sum(1 for names in in_manifest.values() if me in names)
        open_items = self._open_items(me, done)
        return Progress(
            annotator_done=mine,
            annotator_total=mine + len(open_items),
            items_complete=sum(
                1 for names in in_manifest.values() if len(names) >= self.annotations_per_item
            ),
            items_total=len(self._items),
            annotations_given=sum(len(names) for names in in_manifest.values()),
            annotations_wanted=len(self._items) * self.annotations_per_item,
            next_item=open_items[0] if open_items else None,
        )

    def export(self, path: Path, job_name: str, label_attribute: str) -> ExportSummary:
        """Write the output manifest: every input line, with the consolidated label where it has ratings."""
        now = datetime.now(UTC)
        by_item = self.store.by_item()
        lines: list[dict[str, Any]] = []
        labeled = complete = 0
        for entry in self.manifest.entries:
            annotations = by_item.get(entry.item.item_id, [])
            if not annotations:
                lines.append(dict(entry.raw))
                continue
            ratings = [
                WorkerRating(worker_id=a.annotator, rating=a.rating, comment=a.comment) for a in annotations
            ]
            label = consolidate(ratings)
            lines.append(
                output_line(entry.raw, label_attribute, label.model_dump(mode="json"), job_name, now)
            )
            labeled += 1
            complete += len(annotations) >= self.annotations_per_item
        count = write_jsonl(path, lines)
        log.info("labeling.exported", path=str(path), lines=count, labeled=labeled, complete=complete)
        return ExportSummary(
            path=path, lines=count, labeled=labeled, complete=complete, unlabeled=count - labeled
        )


def annotation_store_path(settings: Settings) -> Path:
    return labeling_dir(settings) / "annotations.sqlite3"


def load_local_labeling(manifest_path: Path, store_path: Path, annotations_per_item: int) -> LocalLabeling:
    """The manifest's usable lines (its bad ones in ``manifest.errors``) over the store at ``store_path``."""
    manifest = parse_input_manifest(manifest_path.read_text(encoding="utf-8"), str(manifest_path))
    for error in manifest.errors:
        log.warning("labeling.manifest_line_skipped", error=str(error))
    return LocalLabeling(manifest, AnnotationStore(store_path), annotations_per_item)


def open_local_labeling(settings: Settings, manifest_path: Path) -> LocalLabeling:
    return load_local_labeling(
        manifest_path, annotation_store_path(settings), settings.labeling_workers_per_item
    )


def default_export_path(settings: Settings, manifest_path: Path, moment: datetime) -> Path:
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return labeling_dir(settings) / "output" / f"{manifest_path.stem}-{stamp}.manifest"


def local_job_name(manifest_path: Path) -> str:
    """A Ground Truth-style job name for a local export: ``local-<manifest stem>``, hyphens for the rest."""
    stem = "".join(character if character.isalnum() else "-" for character in manifest_path.stem.lower())
    return ("local-" + "-".join(part for part in stem.split("-") if part))[:63]
