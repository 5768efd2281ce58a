"""The facade users hold: build, load, save, add, remove and search an index."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from index.dense import KINDS as DENSE_KINDS
from index.dense import DenseStore
from index.documents import Document, read_paths
from index.errors import DocumentNotFound, ModelMismatch
from index.fusion import reciprocal_rank_fusion, zscore_fusion
from index.lexical import LexicalStore
from index.normalize import canonical, has_diacritics
from index.passages import Passage, split_document
from index.store import EmbedderInfo, IndexData, load_index, now_iso, read_manifest, save_index
from models import DEFAULT_MODEL, Embedder, load_embedder
from qa.answer import extract_answer
from qa.errors import EmptyQuery, InvalidArgument, InvalidQuery, QueryTooLong
from qa.question import analyse
from qa.types import Answer, Filters, Hit, IndexInfo, IngestReport

Mode = Literal["hybrid", "dense", "lexical"]
Fusion = Literal["zscore", "rrf"]
FUSIONS: tuple[str, ...] = ("zscore", "rrf")
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")
MAX_QUERY_CHARS = 2000
# How deep each retriever looks before fusion.
CANDIDATES = 100
# Equal weight to both retrievers: measured on XQuAD-vi dev, 0.4-0.6 all give R@1 .94-.95.
DENSE_WEIGHT = 0.5
RESTORE_MIN_COVERAGE = 0.75
_WORD = re.compile(r"\w")


def _iso_date(value: str) -> str | None:
    """An ISO date (YYYY-MM-DD) from "2022-07-19" or "19/7/2022"; None when unparseable."""
    value = value.strip()
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return None
    return None


def check_query(query: str) -> str:
    """The query stripped, or EmptyQuery / QueryTooLong with a message for the user."""
    if not isinstance(query, str) or not query.strip():
        raise EmptyQuery("The question is empty: type a few words to search for.")
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        raise QueryTooLong(
            f"The question has {len(query)} characters; the limit is {MAX_QUERY_CHARS}. "
            "Shorten it to the part you want answered."
        )
    if not _WORD.search(query):
        raise EmptyQuery("The question has no letters or digits to search for.")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidQuery("The question is not valid Unicode text (a lone surrogate).") from exc
    return query


def _as_filters(filters: Filters | Mapping[str, object] | None) -> Filters | None:
    if filters is None or isinstance(filters, Filters):
        return filters
    unknown = set(filters) - {"doc_id", "doc_ids", "date_from", "date_to"}
    if unknown:
        raise InvalidArgument(f"unknown filter keys: {sorted(unknown)}")
    doc_ids = filters.get("doc_ids", filters.get("doc_id"))
    if isinstance(doc_ids, str):
        doc_ids = [doc_ids]
    bounds = {}
    for key in ("date_from", "date_to"):
        raw = filters.get(key)
        if raw is not None:
            bounds[key] = _iso_date(str(raw))
            if bounds[key] is None:
                raise InvalidArgument(f"{key}={raw!r} is not a date (use 2022-07-19 or 19/7/2022)")
    return Filters(frozenset(doc_ids) if doc_ids is not None else None, **bounds)


def _passes(passage: Passage, filters: Filters) -> bool:
    if filters.doc_ids is not None and passage.doc_id not in filters.doc_ids:
        return False
    if filters.date_from is None and filters.date_to is None:
        return True
    when = _iso_date(passage.metadata.get("date", ""))
    if when is None:
        return False
    return (filters.date_from or when) <= when <= (filters.date_to or when)


class Engine:
    """A searchable index of Vietnamese reports with the embedder that built it.

    Searches read an immutable snapshot, so they are safe from many threads while
    another thread adds or removes documents.
    """

    def __init__(self, embedder: Embedder, data: IndexData, folder: Path | None = None) -> None:
        self.embedder = embedder
        self._data = data
        self.folder = folder
        self._write_lock = threading.Lock()

    # -- building and persistence -------------------------------------------------------

    @classmethod
    def empty(cls, embedder: str | Embedder = DEFAULT_MODEL, dense_index: str = "auto") -> Engine:
        """An engine with no documents yet.

        dense_index: "auto" (exact search, then IVF-SQ8 from 50k passages), "flat-ip"
        (always exact) or "ivf-sq8" (approximate as soon as there are enough passages).
        """
        if dense_index not in DENSE_KINDS:
            raise InvalidArgument(
                f"dense_index must be one of {', '.join(DENSE_KINDS)}, got {dense_index!r}"
            )
        model = load_embedder(embedder) if isinstance(embedder, str) else embedder
        info = EmbedderInfo(model.name, model.dim, model.fingerprint)
        dense = DenseStore.empty(model.dim, dense_index)
        data = IndexData(info, (), (), dense, LexicalStore(None, 0), now_iso())
        return cls(model, data)

    @classmethod
    def build(
        cls,
        paths: Iterable[str | Path],
        embedder: str | Embedder = DEFAULT_MODEL,
        folder: str | Path | None = None,
        progress: bool = False,
        dense_index: str = "auto",
    ) -> Engine:
        """Index files and folders; saved to `folder` when one is given."""
        engine = cls.empty(embedder, dense_index)
        engine.add(paths, progress=progress)
        if folder is not None:
            engine.save(folder)
        return engine

    @classmethod
    def load(cls, folder: str | Path, embedder: str | Embedder | None = None) -> Engine:
        """Open a saved index; the embedder defaults to the one named in its manifest.

        Raises ModelMismatch when the embedder's fingerprint differs from the index's.
        """
        folder = Path(folder)
        manifest = read_manifest(folder)
        recorded = manifest["embedder"]
        if embedder is None:
            embedder = str(recorded["name"])
        model = load_embedder(embedder) if isinstance(embedder, str) else embedder
        if model.fingerprint != recorded["fingerprint"] or model.dim != recorded["dim"]:
            raise ModelMismatch(
                f"{folder} was built with embedder {recorded['name']!r} "
                f"(fingerprint {recorded['fingerprint']}, dim {recorded['dim']}) but "
                f"{model.name!r} (fingerprint {model.fingerprint}, dim {model.dim}) was "
                "given. Load it with the same embedder, or rebuild it with "
                "`python -m qa ingest ... --embedder NAME`."
            )
        return cls(model, load_index(folder), folder)

    def save(self, folder: str | Path | None = None) -> Path:
        """Write the index atomically to `folder` (default: where it was loaded from)."""
        target = Path(folder) if folder is not None else self.folder
        if target is None:
            raise InvalidArgument("save() needs a folder for an index that was never saved")
        with self._write_lock:
            self._data = save_index(target, self._data)
        self.folder = target
        return target

    # -- changing the documents ----------------------------------------------------------

    def add(self, paths: Iterable[str | Path], progress: bool = False) -> IngestReport:
        """Read files and folders and index their documents (see add_documents)."""
        documents, skipped = read_paths(paths)
        report = self.add_documents(documents, progress=progress)
        return IngestReport(
            report.added,
            report.replaced,
            report.unchanged,
            report.duplicates,
            tuple(f"{s.path}: {s.reason}" for s in skipped),
        )

    def add_documents(self, documents: Sequence[Document], progress: bool = False) -> IngestReport:
        """Index documents. A known id with new text replaces the old version; the same
        text again (under any id) is left as it is and reported."""
        with self._write_lock:
            data = self._data
            known = {d.doc_id: d for d in data.documents}
            hashes = {d.content_hash: d.doc_id for d in data.documents}
            added, replaced, unchanged, duplicates = [], [], [], []
            fresh: dict[str, Document] = {}
            for document in documents:
                digest = document.content_hash
                old = known.get(document.doc_id)
                if old is not None and old.content_hash == digest:
                    unchanged.append(document.doc_id)
                elif digest in hashes:
                    duplicates.append(f"{document.doc_id} (same text as {hashes[digest]})")
                else:
                    if old is not None:
                        # The old version's text leaves the index with it.
                        hashes.pop(old.content_hash, None)
                    (replaced if old is not None else added).append(document.doc_id)
                    fresh[document.doc_id] = document
                    hashes[digest] = document.doc_id
            if fresh:
                self._data = self._with_documents(data, fresh, progress)
            return IngestReport(
                tuple(added), tuple(replaced), tuple(unchanged), tuple(duplicates), ()
            )

    def remove(self, doc_id: str) -> None:
        """Remove a document and its passages; DocumentNotFound when it is not indexed."""
        with self._write_lock:
            data = self._data
            if all(d.doc_id != doc_id for d in data.documents):
                raise DocumentNotFound(f"no document {doc_id!r} in this index")
            self._data = self._with_documents(data, {doc_id: None}, progress=False)

    def _with_documents(
        self, data: IndexData, changes: Mapping[str, Document | None], progress: bool
    ) -> IndexData:
        """A new snapshot where each id in `changes` is replaced by its document (or dropped)."""
        kept_rows = [i for i, p in enumerate(data.passages) if p.doc_id not in changes]
        new_documents = [d for d in changes.values() if d is not None]
        new_passages = [p for d in new_documents for p in split_document(d)]
        vectors = self.embedder.encode_passages(
            [p.indexed_text for p in new_passages], progress=progress
        )
        dense = data.dense.keep(kept_rows)
        dense.add(vectors)
        passages = tuple(data.passages[i] for i in kept_rows) + tuple(new_passages)
        documents = tuple(d for d in data.documents if d.doc_id not in changes)
        return dataclasses.replace(
            data,
            documents=documents + tuple(new_documents),
            passages=passages,
            dense=dense,
            lexical=LexicalStore.build([p.indexed_text for p in passages]),
        )

    # -- reading -------------------------------------------------------------------------

    @property
    def documents(self) -> tuple[Document, ...]:
        return self._data.documents

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self._data.passages

    def info(self) -> IndexInfo:
        """Counts and the embedder of this index."""
        data = self._data
        return IndexInfo(
            documents=len(data.documents),
            passages=len(data.passages),
            embedder=data.embedder.name,
            dim=data.embedder.dim,
            fingerprint=data.embedder.fingerprint,
            dense_index=data.dense.kind,
            folder=str(self.folder) if self.folder else None,
        )

    def search(
        self,
        query: str,
        k: int = 5,
        mode: Mode = "hybrid",
        filters: Filters | Mapping[str, object] | None = None,
        fusion: Fusion = "zscore",
    ) -> list[Hit]:
        """The k best passages for `query`, best first.

        mode: "hybrid" (both retrievers fused), "dense" or "lexical".
        filters: a Filters, or a dict with doc_id / doc_ids / date_from / date_to.
        fusion: "zscore" (weighted z-scores of both candidate lists, the default) or
        "rrf" (reciprocal rank fusion, k=60).
        """
        query = check_query(query)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidArgument(f"k must be a positive whole number, got {k!r}")
        if mode not in MODES:
            raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if fusion not in FUSIONS:
            raise InvalidArgument(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
        data = self._data
        chosen = _as_filters(filters)
        allowed = None
        if chosen is not None:
            allowed = np.array(
                [i for i, p in enumerate(data.passages) if _passes(p, chosen)], dtype=np.int64
            )
        depth = max(k, CANDIDATES)
        lexical = data.lexical
        # BM25 reads an English question through its Vietnamese word equivalents.
        understood = analyse(query)
        lexical_query = " ".join(understood.terms) if understood.language == "en" else query
        coverage = lexical.coverage(lexical_query)
        # A query typed without diacritics gets them back from the index's own spelling,
        # unless too few of its words are known.
        restored = None
        if coverage >= RESTORE_MIN_COVERAGE and not has_diacritics(lexical_query):
            restored = lexical.restore_diacritics(lexical_query)
        dense_scores: dict[int, float] = {}
        lexical_scores: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            dense_query = query if understood.language == "en" else restored or query
            vector = self.embedder.encode_queries([canonical(dense_query)])[0]
            rows, scores = data.dense.search(vector, depth, allowed)
            dense_scores = dict(zip(rows.tolist(), scores.tolist(), strict=True))
        if mode in ("hybrid", "lexical"):
            lexical_scores = _top_lexical(lexical.scores(lexical_query, restored), depth, allowed)
        if mode != "hybrid":
            fused = list((dense_scores or lexical_scores).items())
        else:
            fused = _fuse(dense_scores, lexical_scores, coverage, fusion)
        return [
            _hit(data.passages[row], rank, score, dense_scores.get(row), lexical_scores.get(row))
            for rank, (row, score) in enumerate(fused[:k], start=1)
        ]

    def ask(self, question: str, k: int = 5, mode: Mode = "hybrid") -> Answer:
        """The answer to `question`, located in one of the k best passages, or found=False
        with a message in the question's language and the closest passages."""
        hits = self.search(question, k=k, mode=mode)
        return extract_answer(analyse(check_query(question)), hits, self._data.lexical.idf)


def _fuse(
    dense_scores: dict[int, float], lexical_scores: dict[int, float], coverage: float, fusion: str
) -> list[tuple[int, float]]:
    """Both candidate lists fused; BM25 counts only as much as the share of the query
    it can see (its `coverage`), so an English question leans on the dense side."""
    weights = (DENSE_WEIGHT, (1 - DENSE_WEIGHT) * coverage)
    if fusion == "rrf":
        return reciprocal_rank_fusion([list(dense_scores), list(lexical_scores)], weights=weights)
    return zscore_fusion([dense_scores, lexical_scores], weights=weights)


def _top_lexical(scores: np.ndarray, depth: int, allowed: np.ndarray | None) -> dict[int, float]:
    """Rows with a positive BM25 score, best first, at most `depth`."""
    if allowed is not None:
        masked = np.zeros_like(scores)
        masked[allowed] = scores[allowed]
        scores = masked
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > depth:
        candidates = candidates[np.argpartition(-scores[candidates], depth)[:depth]]
    ordered = candidates[np.argsort(-scores[candidates], kind="stable")]
    return {int(row): float(scores[row]) for row in ordered}


def _hit(
    passage: Passage, rank: int, fused: float, dense: float | None, lexical: float | None
) -> Hit:
    return Hit(
        rank=rank,
        doc_id=passage.doc_id,
        title=passage.title,
        start=passage.start,
        end=passage.end,
        text=passage.text,
        fused_score=fused,
        dense_score=dense,
        lexical_score=lexical,
        metadata=passage.metadata,
    )
