"""Dense store: FAISS inner product over unit vectors, rows aligned with the passage list."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorrupted

FLAT = "flat-ip"


class DenseStore:
    """Exact inner-product search; row i is passage i."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def empty(cls, dim: int) -> DenseStore:
        """A store with no vectors."""
        return cls(faiss.IndexFlatIP(dim))

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        """The FAISS index type, recorded in the manifest."""
        return FLAT

    def add(self, vectors: np.ndarray) -> None:
        """Append rows; vectors must be (n, dim) float32 and unit length."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {vectors.shape}")
        self._index.add(vectors)

    def vectors(self) -> np.ndarray:
        """All stored vectors, row by row."""
        return self._index.reconstruct_n(0, self.size) if self.size else np.empty((0, self.dim))

    def keep(self, rows: Sequence[int]) -> DenseStore:
        """A new store holding only `rows`, in that order."""
        kept = DenseStore.empty(self.dim)
        if len(rows):
            kept.add(self.vectors()[np.asarray(rows, dtype=np.int64)])
        return kept

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by inner product (rows, scores), only among `allowed` rows when given."""
        if self.size == 0 or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed.astype(np.int64)))
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, rows = self._index.search(query, min(k, self.size), params=params)
        found = rows[0] >= 0
        return rows[0][found], scores[0][found]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int, size: int) -> DenseStore:
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
        return cls(index)
