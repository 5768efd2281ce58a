"""Rank fusion and retrieval metrics on small hand-computed examples."""

from __future__ import annotations

import pytest

from index.fusion import reciprocal_rank_fusion, zscore_fusion
from qa.evaluate import retrieval_scores


def test_rrf_matches_hand_computation() -> None:
    fused = dict(reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert [item for item, _ in reciprocal_rank_fusion([[1, 2, 3], [3, 1]])] == [1, 3, 2]


def test_zscore_fusion_matches_hand_computation() -> None:
    dense = {1: 0.90, 2: 0.50, 3: 0.49}
    lexical = {2: 10.0, 3: 9.9, 4: 9.8}
    fused = zscore_fusion([dense, lexical])
    # dense: mean 0.63, sd 0.19097; lexical: mean 9.9, sd 0.08165 (z = 1.2247, 0, -1.2247)
    expected = {1: 1.4138 - 1.2247, 2: -0.6807 + 1.2247, 3: -0.7331 + 0.0, 4: -0.7331 - 1.2247}
    assert [item for item, _ in fused] == [2, 1, 3, 4]
    for item, score in fused:
        assert score == pytest.approx(expected[item], abs=1e-3)
    weighted = dict(zscore_fusion([dense, lexical], weights=[1.0, 0.0]))
    assert weighted[1] == pytest.approx(1.4138, abs=1e-3)


def test_retrieval_scores_by_rank() -> None:
    assert retrieval_scores(1) == {"recall@1": 1.0, "recall@5": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
    third = retrieval_scores(3)
    assert third["recall@1"] == 0.0 and third["recall@5"] == 1.0
    assert third["mrr@10"] == pytest.approx(1 / 3)
    assert third["ndcg@10"] == pytest.approx(0.5)
    assert retrieval_scores(None)["mrr@10"] == 0.0
    assert retrieval_scores(11)["recall@5"] == 0.0
