"""Labeled output manifests -> datasets for reward modelling and preference tuning.

Three JSON Lines files, each loadable with ``datasets.load_dataset("json", data_files=...)``:

``ratings.jsonl``
    One row per rated answer: ``prompt`` (the customer's question), ``response`` (the bot's answer),
    ``rating`` (the consolidated 1-5 rating: median of the experts'), ``reward`` = (rating - 3) / 2, in
    [-1, 1], and the raw ``worker_ratings``, ``agreement`` and ids to join back to the transcript.
``preferences.jsonl``
    Reward-model pairs (TRL's format): for answers to *one question* with different ratings, ``chosen`` is
    the better rated, ``rejected`` the worse, ``margin`` the rating difference (> 0). Every such pair of
    answers is used; two identical answers never form a pair.
``kto.jsonl``
    Unpaired binary feedback (TRL's KTO format): ``prompt``, ``completion``, ``label`` - ``true``
    (desirable) when the rating is >= 4, ``false`` (undesirable) when <= 2; answers rated between (3, 3.5)
    are left out.

*One question*: question texts equal after :func:`normalise_question` (Unicode NFKC, case folded,
whitespace runs collapsed, surrounding whitespace and trailing ``?``/``!``/``.`` removed); the pair's
``prompt`` is the first such question as asked.

An item labeled in several manifests (a job re-run, Ground Truth and the local page) appears once: its
worker ratings are pooled (a worker who rated it twice counts once, with the later rating) and consolidated
again with the same code as labeling.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from chatbot.errors import ManifestLineError
from workflows.labeling.consolidation import consolidate
from workflows.labeling.jsonl import dumps_line, write_jsonl
from workflows.labeling.manifest import RATING_MAX, RATING_MIN, ConsolidatedLabel, LabelingItem, WorkerRating
from workflows.labeling.output_manifest import LabelStatus, OutputManifest

DESIRABLE_MIN_RATING = 4.0
UNDESIRABLE_MAX_RATING = 2.0
RATINGS_FILE = "ratings.jsonl"
PREFERENCES_FILE = "preferences.jsonl"
KTO_FILE = "kto.jsonl"
SUMMARY_FILE = "summary.json"

_TRAILING_PUNCTUATION = re.compile(r"[?!.\s]+$")


def normalise_question(text: str) -> str:
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return _TRAILING_PUNCTUATION.sub("", folded)


def reward_for(rating: float) -> float:
    """1 -> -1.0, 3 -> 0.0, 5 -> 1.0: the rating scale mapped linearly onto [-1, 1]."""
    middle = (RATING_MAX + RATING_MIN) / 2
    return (rating - middle) / ((RATING_MAX - RATING_MIN) / 2)


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RatingRow(_Row):
    prompt: str
    response: str
    rating: float = Field(ge=RATING_MIN, le=RATING_MAX)
    reward: float = Field(ge=-1.0, le=1.0)
    worker_ratings: list[int]
    agreement: float
    item_id: str
    conversation_id: str
    turn_index: int
    sources: list[str]


class PreferenceRow(_Row):
    prompt: str
    chosen: str
    rejected: str
    margin: float = Field(gt=0)
    chosen_rating: float
    rejected_rating: float
    chosen_item_id: str
    rejected_item_id: str


class KtoRow(_Row):
    prompt: str
    completion: str
    label: bool
    rating: float
    item_id: str


@dataclass(frozen=True)
class RatedItem:
    item: LabelingItem
    label: ConsolidatedLabel


@dataclass
class ReadCounts:
    """What the input manifests held, line by line."""

    lines: int = 0
    labeled: int = 0
    unrated: int = 0
    unlabeled: int = 0
    failed: int = 0
    errors: int = 0
    merged_duplicates: int = 0


@dataclass
class FeedbackDatasets:
    ratings: list[RatingRow] = field(default_factory=list)
    preferences: list[PreferenceRow] = field(default_factory=list)
    kto: list[KtoRow] = field(default_factory=list)
    counts: ReadCounts = field(default_factory=ReadCounts)
    errors: list[ManifestLineError] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def worker_rating_histogram(self) -> dict[int, int]:
        counted = Counter(value for row in self.ratings for value in row.worker_ratings)
        return {rating: counted.get(rating, 0) for rating in range(RATING_MIN, RATING_MAX + 1)}

    def consolidated_rating_histogram(self) -> dict[float, int]:
        counted = Counter(row.rating for row in self.ratings)
        return dict(sorted(counted.items()))

    def summary(self) -> dict[str, object]:
        return {
            "read": vars(self.counts),
            "ratings": len(self.ratings),
            "preference_pairs": len(self.preferences),
            "questions_with_pairs": len({normalise_question(row.prompt) for row in self.preferences}),
            "kto_desirable": sum(1 for row in self.kto if row.label),
            "kto_undesirable": sum(1 for row in self.kto if not row.label),
            "kto_dropped": len(self.ratings) - len(self.kto),
            "worker_rating_histogram": {str(k): v for k, v in self.worker_rating_histogram().items()},
            "consolidated_rating_histogram": {
                str(k): v for k, v in self.consolidated_rating_histogram().items()
            },
            "errors": [str(error) for error in self.errors],
            "problems": self.problems,
        }


def pool_labels(manifests: Sequence[OutputManifest], datasets: FeedbackDatasets) -> list[RatedItem]:
    """Labeled items in input order, one per ``item_id``; counts every line's status in ``datasets``."""
    ratings_by_item: dict[str, dict[str, WorkerRating]] = {}
    items: dict[str, LabelingItem] = {}
    for manifest in manifests:
        datasets.errors.extend(manifest.errors)
        datasets.counts.errors += len(manifest.errors)
        for record in manifest.records:
            datasets.counts.lines += 1
            if record.status is LabelStatus.UNRATED:
                datasets.counts.unrated += 1
                datasets.problems.append(f"{record.where}: item {record.item.item_id} has no valid rating")
            elif record.status is LabelStatus.FAILED:
                datasets.counts.failed += 1
                datasets.problems.append(f"{record.where}: labeling failed: {'; '.join(record.problems)}")
            elif record.status is LabelStatus.UNLABELED:
                datasets.counts.unlabeled += 1
            if record.label is None:
                continue
            datasets.counts.labeled += 1
            item_id = record.item.item_id
            if item_id in items:
                datasets.counts.merged_duplicates += 1
            items.setdefault(item_id, record.item)
            pooled = ratings_by_item.setdefault(item_id, {})
            for rating in record.label.ratings:
                pooled[rating.worker_id] = rating
    return [
        RatedItem(items[item_id], consolidate(list(pooled.values())))
        for item_id, pooled in ratings_by_item.items()
    ]


def rating_row(rated: RatedItem) -> RatingRow:
    item, label = rated.item, rated.label
    return RatingRow(
        prompt=item.question,
        response=item.answer,
        rating=label.consolidated_rating,
        reward=round(reward_for(label.consolidated_rating), 4),
        worker_ratings=[rating.rating for rating in label.ratings],
        agreement=label.agreement,
        item_id=item.item_id,
        conversation_id=item.conversation_id,
        turn_index=item.turn_index,
        sources=[source.doc for source in item.sources],
    )


def preference_rows(rows: Sequence[RatingRow]) -> list[PreferenceRow]:
    by_question: dict[str, list[RatingRow]] = {}
    for row in rows:
        by_question.setdefault(normalise_question(row.prompt), []).append(row)
    pairs: list[PreferenceRow] = []
    for answers in by_question.values():
        prompt = answers[0].prompt
        for first, second in combinations(answers, 2):
            if first.rating == second.rating or first.response.strip() == second.response.strip():
                continue
            chosen, rejected = (first, second) if first.rating > second.rating else (second, first)
            pairs.append(
                PreferenceRow(
                    prompt=prompt,
                    chosen=chosen.response,
                    rejected=rejected.response,
                    margin=chosen.rating - rejected.rating,
                    chosen_rating=chosen.rating,
                    rejected_rating=rejected.rating,
                    chosen_item_id=chosen.item_id,
                    rejected_item_id=rejected.item_id,
                )
            )
    return pairs


def kto_rows(rows: Iterable[RatingRow]) -> list[KtoRow]:
    kept: list[KtoRow] = []
    for row in rows:
        if row.rating >= DESIRABLE_MIN_RATING or row.rating <= UNDESIRABLE_MAX_RATING:
            kept.append(
                KtoRow(
                    prompt=row.prompt,
                    completion=row.response,
                    label=row.rating >= DESIRABLE_MIN_RATING,
                    rating=row.rating,
                    item_id=row.item_id,
                )
            )
    return kept


def build_datasets(manifests: Sequence[OutputManifest]) -> FeedbackDatasets:
    datasets = FeedbackDatasets()
    datasets.ratings = [rating_row(rated) for rated in pool_labels(manifests, datasets)]
    datasets.preferences = preference_rows(datasets.ratings)
    datasets.kto = kto_rows(datasets.ratings)
    return datasets


def _write_rows(path: Path, rows: Sequence[BaseModel]) -> None:
    write_jsonl(path, (row.model_dump(mode="json") for row in rows))


def write_datasets(datasets: FeedbackDatasets, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "ratings": out_dir / RATINGS_FILE,
        "preferences": out_dir / PREFERENCES_FILE,
        "kto": out_dir / KTO_FILE,
    }
    _write_rows(written["ratings"], datasets.ratings)
    _write_rows(written["preferences"], datasets.preferences)
    _write_rows(written["kto"], datasets.kto)
    summary_path = out_dir / SUMMARY_FILE
    summary_path.write_text(dumps_line(datasets.summary()) + "\n", encoding="utf-8")
    written["summary"] = summary_path
    return written
