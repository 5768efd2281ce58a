"""Dense store: FAISS inner product over unit vectors, rows aligned with the passage list.

Small indexes use exact search. From ANN_MIN_PASSAGES rows the store turns itself into
an inverted-file index with 8-bit scalar quantisation (IVF-SQ8): a quarter of the memory
and a fraction of the time, at a recall@10 the store measures and tunes when it trains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorrupted

FLAT = "flat-ip"
IVF = "ivf-sq8"
KINDS = ("auto", FLAT, IVF)
# benchmarks/scale.py on 2 cores: exact search costs about 1 ms per 10k rows, IVF-SQ8
# about 1 ms at any size measured; below 50k rows exact search is fast enough.
ANN_MIN_PASSAGES = 50_000
# k-means wants about 40 points per list and IVF at least 64 lists: fewer rows stay exact
# even when IVF is asked for.
IVF_MIN_PASSAGES = 40 * 64
# The recall@10 against exact search that tuning must reach, with a margin over 0.95.
TARGET_RECALL = 0.97
NPROBES = (4, 8, 16, 32, 64, 128, 256)
TUNING_QUERIES = 200
# Queries sit further from passages than passages from each other: tuning queries are
# stored rows moved to a cosine of about 0.85 from where they were.
TUNING_NOISE = 0.6
# Exact scores over the allowed rows when a filter leaves fewer rows than this.
FILTER_EXACT_MAX = 50_000


def _nlist(size: int) -> int:
    """Inverted lists for `size` rows: about 4 * sqrt(size), with 40 rows per list to train on."""
    return max(1, min(int(4 * math.sqrt(size)), size // 40))


class DenseStore:
    """Inner-product search; row i is passage i.

    policy "auto" (the default) searches exactly until ANN_MIN_PASSAGES rows, then
    switches to IVF-SQ8; "flat-ip" keeps exact search; "ivf-sq8" switches from
    IVF_MIN_PASSAGES rows.
    """

    def __init__(self, index: faiss.Index, policy: str = "auto") -> None:
        if policy not in KINDS:
            raise ValueError(f"dense index kind must be one of {', '.join(KINDS)}, got {policy!r}")
        self._index = index
        self.policy = policy

    @classmethod
    def empty(cls, dim: int, policy: str = "auto") -> DenseStore:
        """A store with no vectors."""
        return cls(faiss.IndexFlatIP(dim), policy)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        """The FAISS index type, recorded in the manifest."""
        return IVF if isinstance(self._index, faiss.IndexIVF) else FLAT

    @property
    def nprobe(self) -> int | None:
        """Lists an IVF search visits (None for exact search): more is slower and surer."""
        return int(self._index.nprobe) if isinstance(self._index, faiss.IndexIVF) else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if not isinstance(self._index, faiss.IndexIVF):
            raise ValueError("nprobe applies to an IVF index only")
        self._index.nprobe = int(value)

    def describe(self) -> dict[str, int | str]:
        """What the manifest records of this index: its kind, and the IVF settings."""
        if not isinstance(self._index, faiss.IndexIVF):
            return {"kind": FLAT}
        return {"kind": IVF, "nlist": int(self._index.nlist), "nprobe": int(self._index.nprobe)}

    def add(self, vectors: np.ndarray) -> None:
        """Append rows; vectors must be (n, dim) float32 and unit length."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {vectors.shape}")
        if self._wants_ivf(self.size + len(vectors)) and not self._ivf_fits(
            self.size + len(vectors)
        ):
            # Train on every row, old and new, so the lists follow the whole collection.
            self._index = build_ivf(np.concatenate([self.vectors(), vectors]))
        else:
            self._index.add(vectors)

    def _wants_ivf(self, size: int) -> bool:
        threshold = {"auto": ANN_MIN_PASSAGES, IVF: IVF_MIN_PASSAGES}.get(self.policy)
        return threshold is not None and size >= threshold

    def _ivf_fits(self, size: int) -> bool:
        """An IVF index is kept while it has at least half the lists `size` rows call for."""
        index = self._index
        return isinstance(index, faiss.IndexIVF) and index.nlist * 2 >= _nlist(size)

    def vectors(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Stored vectors (all, or the given rows in order); IVF gives the 8-bit decoded ones."""
        if rows is None:
            if not self.size:
                return np.empty((0, self.dim), dtype=np.float32)
            return self._index.reconstruct_n(0, self.size)
        return self._index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def keep(self, rows: Sequence[int]) -> DenseStore:
        """A new store holding only `rows`, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        if isinstance(self._index, faiss.IndexIVF) and self._wants_ivf(len(rows)):
            # Same trained lists: re-encoding decoded 8-bit vectors gives the same codes.
            index = faiss.clone_index(self._index)
            index.reset()
            index.make_direct_map()
            kept = DenseStore(index, self.policy)
            if len(rows):
                index.add(self.vectors(rows))
            return kept
        kept = DenseStore.empty(self.dim, self.policy)
        if len(rows):
            kept.add(self.vectors(rows))
        return kept

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by inner product (rows, scores), only among `allowed` rows when given."""
        if self.size == 0 or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
            if self.kind == IVF and len(allowed) <= FILTER_EXACT_MAX:
                # Few rows pass: score them all rather than miss those outside the probed lists.
                return _top_k(self.vectors(allowed) @ query[0], allowed, k)
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
            params = (
                faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nprobe)
                if self.kind == IVF
                else faiss.SearchParameters(sel=selector)
            )
        scores, rows = _single_threaded(self._index.search, query, min(k, self.size), params)
        found = rows[0] >= 0
        return rows[0][found], scores[0][found]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int, size: int, policy: str = "auto") -> DenseStore:
        """Read a FAISS file and check it holds `size` vectors of `dim`."""
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorrupted(f"the FAISS file {path} cannot be read: {exc}") from exc
        if index.d != dim or index.ntotal != size:
            raise IndexCorrupted(
                f"the FAISS file {path} holds {index.ntotal} vectors of dimension {index.d}, "
                f"expected {size} of dimension {dim}"
            )
        if isinstance(index, faiss.IndexIVFScalarQuantizer):
            index.make_direct_map()
        elif not isinstance(index, faiss.IndexFlatIP):
            raise IndexCorrupted(f"the FAISS file {path} holds an index type this version skips")
        return cls(index, policy)


def _single_threaded(search, query: np.ndarray, k: int, params) -> tuple[np.ndarray, np.ndarray]:
    """One query on this thread alone: on 2 busy cores, flat search of 10k rows took 2-3.5 ms
    on one OpenMP thread against 10-27 ms on two (the setting is per calling thread)."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return search(query, k, params=params)
    finally:
        faiss.omp_set_num_threads(threads)


def _top_k(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (rows, scores) of parallel arrays, best first."""
    if len(scores) > k:
        best = np.argpartition(-scores, k)[:k]
        rows, scores = rows[best], scores[best]
    order = np.argsort(-scores, kind="stable")
    return rows[order].astype(np.int64), scores[order].astype(np.float32)


def build_ivf(vectors: np.ndarray, seed: int = 0) -> faiss.IndexIVFScalarQuantizer:
    """An IVF-SQ8 index over `vectors`, with nprobe tuned to TARGET_RECALL (see tune_nprobe)."""
    size, dim = vectors.shape
    nlist = _nlist(size)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.seed = seed
    # k-means needs about 40 points per list; more only slows training down.
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(size, min(size, 40 * nlist), replace=False)]
    index.train(sample)
    index.add(vectors)
    index.make_direct_map()
    index.nprobe = tune_nprobe(index, vectors, rng)
    return index


def tune_nprobe(index: faiss.IndexIVF, vectors: np.ndarray, rng: np.random.Generator) -> int:
    """The smallest nprobe whose recall@10 against exact search reaches TARGET_RECALL,
    on queries made from stored rows moved by noise."""
    picked = vectors[rng.choice(len(vectors), min(len(vectors), TUNING_QUERIES), replace=False)]
    noise = rng.standard_normal(picked.shape).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    queries = picked + TUNING_NOISE * noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    for nprobe in NPROBES:
        index.nprobe = nprobe
        _, found = index.search(queries, 10)
        if recall_at_k(found, truth) >= TARGET_RECALL:
            return nprobe
    return NPROBES[-1]


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each row of `truth` (exact top-k ids) that `found` also returned."""
    hits = [
        len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits) / truth.shape[1])
