"""The human-rated data set and its fixed split."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from chatbot.config import load_settings
from chatbot.errors import InvalidInputFileError
from chatbot.sentiment.dataset import (
    RatedText,
    SplitPart,
    assign_split,
    data_fingerprint,
    load_rated_texts,
)


@pytest.fixture(scope="module")
def rated_texts() -> list[RatedText]:
    return load_rated_texts(load_settings().sentiment_training_data)


def test_the_vendored_file_loads_with_three_labels_and_two_sources(rated_texts: list[RatedText]) -> None:
    assert len(rated_texts) > 7000
    assert {rated.label.value for rated in rated_texts} == {"negative", "neutral", "positive"}
    assert {rated.source_kind for rated in rated_texts} == {"amazon", "tweet"}


def test_split_is_deterministic_and_ignores_file_order(rated_texts: list[RatedText]) -> None:
    shuffled = list(rated_texts)
    random.Random(7).shuffle(shuffled)
    assert assign_split(shuffled) == assign_split(rated_texts)


def test_every_stratum_keeps_its_share_in_each_part(rated_texts: list[RatedText]) -> None:
    parts = assign_split(rated_texts)
    strata = Counter((rated.label, rated.source_kind) for rated in rated_texts)
    per_part = Counter((parts[rated.id], rated.label, rated.source_kind) for rated in rated_texts)
    for (label, source), total in strata.items():
        for part, share in ((SplitPart.TEST, 0.15), (SplitPart.DEV, 0.15), (SplitPart.TRAIN, 0.70)):
            assert abs(per_part[(part, label, source)] / total - share) < 0.02, (part, label, source)


def test_variants_of_one_text_never_straddle_two_parts(rated_texts: list[RatedText]) -> None:
    parts = assign_split(rated_texts)
    family: dict[str, set[SplitPart]] = defaultdict(set)
    for rated in rated_texts:
        family["".join(ch for ch in rated.text.lower() if ch.isalnum())].add(parts[rated.id])
    assert all(len(found) == 1 for found in family.values())
    # The VADER tweets come in families such as "Yay. ..." / "YAY!!! ..."; they exist and were grouped.
    yay = [rated for rated in rated_texts if "another good phone interview" in rated.text.lower()]
    assert len(yay) > 2
    assert len({parts[rated.id] for rated in yay}) == 1


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rated.jsonl"
    path.write_text(
        '{"id": "a", "text": "fine", "mean_rating": 0.1, "label": "neutral"}\n{"id": "b", "text": "x"}\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputFileError, match=r"rated.jsonl:2"):
        load_rated_texts(path)


def test_fingerprint_follows_content(tmp_path: Path) -> None:
    path = tmp_path / "rated.jsonl"
    path.write_text("one\n", encoding="utf-8")
    before = data_fingerprint(path)
    path.write_text("two\n", encoding="utf-8")
    assert data_fingerprint(path) != before
