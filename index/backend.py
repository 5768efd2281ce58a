"""The seam between the engine and where an index lives: a local snapshot (FAISS + BM25 in
memory, saved to a folder) or a PostgreSQL database (pgvector + tsvector).

A backend changes documents and opens search views; a view answers everything one search
needs from one consistent state of the index, with passage rows as plain integers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index.documents import Document
from index.errors import StoreUnavailable
from index.filters import Filters
from index.passages import Passage
from index.store import EmbedderInfo

if TYPE_CHECKING:
    from index.pgvector import PgVectorStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path | None) -> bool:
    """True when `target` is a PostgreSQL URI rather than an index folder."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def postgres_store() -> type[PgVectorStore]:
    """The PgVectorStore class, imported on first use so that psycopg is only needed by
    PostgreSQL indexes; StoreUnavailable when the [postgres] extra is not installed."""
    try:
        from index.pgvector import PgVectorStore
    except ModuleNotFoundError as exc:
        raise StoreUnavailable(
            f"a postgresql:// index needs {exc.name}: pip install 'vietqa[postgres]'"
        ) from exc
    return PgVectorStore


class SearchView(Protocol):
    """One search's view of an index, restricted to the passages its filters keep."""

    # Rows whose BM25 scores `lexical` computes in this process (0 where a database
    # scores them): the engine scores a large index's BM25 beside the question's embedding.
    lexical_rows: int

    def dense(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        """Up to `depth` rows by inner product with a unit vector, best first."""
        ...

    def lexical(self, query: str, accented_query: str | None, depth: int) -> dict[int, float]:
        """Up to `depth` rows with a positive BM25 score, best first (see LexicalStore.scores)."""
        ...

    def coverage(self, query: str) -> float:
        """Share of the query's syllables the index knows."""
        ...

    def restore_diacritics(self, query: str) -> str:
        """The query with the diacritics the index spells its words with."""
        ...

    def idf(self, plain_terms: Sequence[str]) -> list[float]:
        """BM25 inverse document frequency of diacritics-free terms."""
        ...

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """The passages behind `rows`, in that order."""
        ...


class Backend(Protocol):
    """Where an index lives: its documents, its changes and its search views."""

    @property
    def embedder(self) -> EmbedderInfo: ...

    @property
    def location(self) -> str | None:
        """The folder or (password-free) URI of the index; None for an unsaved one."""
        ...

    @property
    def dense_kind(self) -> str: ...

    def documents(self) -> tuple[Document, ...]: ...

    def passages(self) -> tuple[Passage, ...]: ...

    def counts(self) -> tuple[int, int]:
        """Numbers of documents and passages."""
        ...

    def content_hashes(self) -> dict[str, str]:
        """Content hash of every document, by id."""
        ...

    def apply(
        self,
        changes: Mapping[str, Document | None],
        passages: Sequence[Passage],
        vectors: np.ndarray,
    ) -> None:
        """Replace each id in `changes` by its document (None: remove it), whose passages and
        their vectors are given; all or nothing."""
        ...

    def view(self, filters: Filters | None) -> AbstractContextManager[SearchView]: ...

    def save(self, target: str | Path | None) -> str | Path:
        """Make the index durable at `target` (default: its own location)."""
        ...
