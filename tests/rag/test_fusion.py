from __future__ import annotations

import pytest

from chatbot.rag.fusion import first_occurrences, ranked, reciprocal_rank_fusion


def test_scores_are_sums_of_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert ranked(fused) == ["b", "a", "d", "c"]


def test_agreement_beats_a_single_first_place() -> None:
    fused = reciprocal_rank_fusion([["x", "y"], ["z", "y"], ["w", "y"]], k=60)
    assert ranked(fused)[0] == "y"


def test_weights_scale_each_ranking() -> None:
    fused = reciprocal_rank_fusion([["a"], ["b"]], weights=[2.0, 1.0], k=10)
    assert fused == {"a": pytest.approx(2 / 11), "b": pytest.approx(1 / 11)}


def test_small_k_favours_top_ranks() -> None:
    rankings = [["a", "b"], ["b", "c"]]
    assert ranked(reciprocal_rank_fusion(rankings, k=1))[0] == "b"
    assert reciprocal_rank_fusion(rankings, k=1)["a"] == pytest.approx(1 / 2)


def test_mismatched_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="2 rankings but 1 weights"):
        reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0])


def test_empty_rankings_fuse_to_nothing() -> None:
    assert reciprocal_rank_fusion([[], []]) == {}


def test_first_occurrences_turn_chunk_rankings_into_document_rankings() -> None:
    assert first_occurrences(["a.md", "b.md", "a.md", "c.md", "b.md"]) == ["a.md", "b.md", "c.md"]
