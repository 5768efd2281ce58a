"""Frozen result types of the public API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: `text` is `document.text[start:end]` of document `doc_id`."""

    rank: int
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    fused_score: float
    dense_score: float | None
    lexical_score: float | None
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Filters:
    """Restrict a search to some documents and/or a date range (ISO dates, inclusive).

    A passage passes a date bound only when its document has a `date` in its metadata.
    """

    doc_ids: frozenset[str] | None = None
    date_from: str | None = None
    date_to: str | None = None


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did with each document it was given."""

    added: tuple[str, ...]
    replaced: tuple[str, ...]
    unchanged: tuple[str, ...]
    duplicates: tuple[str, ...]
    skipped_files: tuple[str, ...]


@dataclass(frozen=True)
class IndexInfo:
    """A summary of an index."""

    documents: int
    passages: int
    embedder: str
    dim: int
    fingerprint: str
    dense_index: str
    folder: str | None
