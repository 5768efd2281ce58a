"""Rank fusion as pure functions over {row: score} lists, best first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# Cormack, Clarke & Büttcher (2009): k=60 damps the head of each list so a document
# ranked well by both retrievers beats one ranked first by only one.
RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids: score(id) = sum over lists of weight / (k + rank), rank from 1.

    Returns (id, score) pairs, best first; ties keep the order of first appearance.
    """
    weights = weights or [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is needed")
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def zscore_fusion(
    score_lists: Sequence[Mapping[int, float]], weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Fuse scored candidate lists: each list's scores become z-scores within that list,
    an id missing from a list gets that list's lowest z-score, and the fused score is
    the weighted sum. Unlike RRF it keeps how far apart the scores are, so a clear
    winner in one retriever is not flattened to rank 1 of many.
    """
    weights = weights or [1.0] * len(score_lists)
    if len(weights) != len(score_lists):
        raise ValueError("one weight per score list is needed")
    keys = [np.fromiter(scores, dtype=np.int64, count=len(scores)) for scores in score_lists]
    # Every id once, in order of first appearance (which breaks ties), and where each
    # list's ids sit among them: array work, where a generator per id took 0.4 ms.
    every = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
    unique, first = np.unique(every, return_index=True)
    appearance = np.argsort(first, kind="stable")
    ids = unique[appearance]
    slot = np.empty(len(unique), dtype=np.int64)
    slot[appearance] = np.arange(len(unique))
    fused = np.zeros(len(ids))
    for scores, key, weight in zip(score_lists, keys, weights, strict=True):
        if not scores:
            continue
        values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
        z = (values - values.mean()) / (values.std() or 1.0)
        column = np.full(len(ids), z.min())
        column[slot[np.searchsorted(unique, key)]] = z
        fused += weight * column
    order = np.argsort(-fused, kind="stable")
    return list(zip(ids[order].tolist(), fused[order].tolist(), strict=True))
