"""Frozen result types of the public API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from types import MappingProxyType
from typing import Any

from index.filters import Filters as Filters


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: `text` is `document.text[start:end]` of document `doc_id`."""

    rank: int
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    # The score hits are ranked by: in hybrid z-score search, the fused z-scores plus, for
    # the ten best, their sentence support; else the one retriever's score.
    fused_score: float
    dense_score: float | None
    lexical_score: float | None
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


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


@dataclass(frozen=True)
class Span:
    """A half-open character span [start, end)."""

    start: int
    end: int


@dataclass(frozen=True)
class HighlightedHit:
    """A retrieved passage with what to highlight in it (spans relative to `hit.text`)."""

    hit: Hit
    sentence: Span | None
    terms: tuple[Span, ...]


@dataclass(frozen=True)
class Answer:
    """The answer to a question, located exactly in its passage and document.

    When `found`, `hit.text[span.start:span.end] == text` and the document's text at
    `document_span` is the same string; `sentence` is the supporting sentence in the
    passage. When not found, `message` says so in the question's language and
    `passages` still holds the closest passages.
    """

    question: str
    found: bool
    text: str
    message: str
    kind: str
    language: str
    confidence: float
    hit: Hit | None
    span: Span | None
    document_span: Span | None
    sentence: Span | None
    passages: tuple[HighlightedHit, ...]


def to_dict(value: Any) -> Any:
    """Plain JSON-ready data from a result: dataclasses and mappings become dicts,
    tuples become lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_dict(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_dict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [to_dict(item) for item in value]
    return value
