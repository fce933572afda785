"""The human-rated sentiment data set and its fixed train / dev / test split.

The split is deterministic and never tuned on: texts that differ only in case and punctuation (the
VADER tweets come in families such as "Yay. ..." / "YAY!!! ...") form one group, so a family never
straddles two parts; groups are ordered by a hash of their first id and dealt out per stratum
(label x source) so each part keeps the label and source mix of the whole.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatbot.errors import InvalidInputFileError
from chatbot.models import SentimentLabel

SPLIT_SALT = "sentiment-split-v1"
TEST_FRACTION = 0.15
DEV_FRACTION = 0.15


class SplitPart(StrEnum):
    TRAIN = "train"
    DEV = "dev"
    TEST = "test"


class RatedText(BaseModel):
    """One line of ``sentiment-human-rated.jsonl``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1)
    text: str
    mean_rating: float
    label: SentimentLabel

    @property
    def source_kind(self) -> str:
        """``amazon`` or ``tweet``: the id's prefix names where the text comes from."""
        return self.id.split("_", 1)[0]


class SplitSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    salt: str = SPLIT_SALT
    test_fraction: float = TEST_FRACTION
    dev_fraction: float = DEV_FRACTION
    grouping: str = "texts equal after lower-casing and dropping punctuation share a part"
    strata: str = "label x source (id prefix)"


def load_rated_texts(path: Path) -> list[RatedText]:
    rated_texts: list[RatedText] = []
    with path.open(encoding="utf-8") as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rated_texts.append(RatedText.model_validate_json(line))
            except ValidationError as error:
                raise InvalidInputFileError(f"{path}:{line_number}: not a rated text: {error}") from error
    if not rated_texts:
        raise InvalidInputFileError(f"{path}: no rated texts")
    return rated_texts


def data_fingerprint(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _group_key(text: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def _order_key(group_id: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{group_id}".encode()).hexdigest()


def assign_split(rated_texts: Sequence[RatedText], spec: SplitSpec | None = None) -> dict[str, SplitPart]:
    """Map each id to its part. Depends only on the ids, texts, labels and ``spec``, never on file order."""
    spec = spec or SplitSpec()
    groups: dict[str, list[RatedText]] = defaultdict(list)
    for rated in rated_texts:
        groups[_group_key(rated.text)].append(rated)

    strata: dict[tuple[str, str], list[list[RatedText]]] = defaultdict(list)
    for members in groups.values():
        first = min(members, key=lambda rated: rated.id)
        strata[(first.label.value, first.source_kind)].append(members)

    parts: dict[str, SplitPart] = {}
    for stratum in strata.values():
        stratum.sort(key=lambda members: _order_key(min(r.id for r in members), spec.salt))
        total = sum(len(members) for members in stratum)
        test_quota = round(total * spec.test_fraction)
        dev_quota = round(total * spec.dev_fraction)
        dealt = 0
        for members in stratum:
            if dealt < test_quota:
                part = SplitPart.TEST
            elif dealt < test_quota + dev_quota:
                part = SplitPart.DEV
            else:
                part = SplitPart.TRAIN
            for rated in members:
                parts[rated.id] = part
            dealt += len(members)
    return parts


def select(
    rated_texts: Iterable[RatedText], parts: dict[str, SplitPart], *wanted: SplitPart
) -> list[RatedText]:
    return [rated for rated in rated_texts if parts[rated.id] in wanted]
