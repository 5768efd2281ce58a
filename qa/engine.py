"""The facade users hold: build, load, save, add, remove and search an index."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np

from index.backend import Backend, SearchView, is_postgres, postgres_store
from index.dense import KINDS as DENSE_KINDS
from index.documents import Document, read_paths
from index.errors import DocumentNotFound
from index.filters import iso_date
from index.fusion import reciprocal_rank_fusion, zscore_fusion
from index.local import LocalIndex
from index.normalize import canonical, has_diacritics
from index.passages import Passage, split_document
from index.store import EmbedderInfo, IndexData, check_embedder, load_index, read_manifest
from models import DEFAULT_MODEL, Embedder, load_embedder
from models.base import OneCoreQueries
from models.span_reader import SpanReader, load_span_reader
from qa.answer import extract_answer, sentence_support
from qa.errors import EmptyQuery, InvalidArgument, InvalidQuery, QueryTooLong
from qa.question import QuestionInfo, analyse
from qa.types import Answer, Filters, Hit, IndexInfo, IngestReport

Mode = Literal["hybrid", "dense", "lexical"]
Fusion = Literal["zscore", "rrf"]
# Turns passage texts into vectors: the engine's embedder, or a distributed one (qa.distributed).
Encoder = Callable[[Sequence[str], bool], np.ndarray]
FUSIONS: tuple[str, ...] = ("zscore", "rrf")
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")
MAX_QUERY_CHARS = 2000
# How deep each retriever looks before fusion.
CANDIDATES = 100
# Equal weight to both retrievers: measured on XQuAD-vi dev, 0.4-0.6 all give R@1 .94-.95.
DENSE_WEIGHT = 0.5
RESTORE_MIN_COVERAGE = 0.75
# z-score hybrid hits this deep are reordered by their best sentence's cover of the
# question: seed dev R@1 .871 -> .903 and XQuAD-vi dev .953 -> .956 (flat for 0.5-2 and
# depths 5-20). The weight is in z-score units, so RRF's tiny scores are left alone.
RERANK_DEPTH = 10
SUPPORT_WEIGHT = 1.0
# From this many rows a hybrid search scores BM25 on a worker thread while the question is
# embedded on one core, then searched densely. On 2 cores at 1M rows a search's p50 took
# 26-29 ms against 36-46 ms one step after the other (three alternated runs of 150
# XQuAD-vi questions, the same hits). The embedding takes 8 ms on two threads and 12.5 on
# one, BM25 about 2.2 ms at 100k rows and 15-18 ms at 1M: below some 250k rows the second
# thread is worth less than the core the embedding gives up.
BESIDE_MIN_ROWS = 250_000
_WORD = re.compile(r"\w")
# Engine.span_reader before its first use: the installed reader, loaded then.
_INSTALLED = object()


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
            bounds[key] = iso_date(str(raw))
            if bounds[key] is None:
                raise InvalidArgument(f"{key}={raw!r} is not a date (use 2022-07-19 or 19/7/2022)")
    return Filters(frozenset(doc_ids) if doc_ids is not None else None, **bounds)


class Engine:
    """A searchable index of Vietnamese reports with the embedder that built it.

    The index lives in a backend: a local snapshot (FAISS + BM25, saved to a folder) or a
    PostgreSQL database (pgvector + tsvector, shared by any number of processes). Searches
    read one consistent state of it, so they are safe from many threads while another
    thread adds or removes documents.
    """

    def __init__(
        self, embedder: Embedder, data: IndexData | Backend, folder: Path | None = None
    ) -> None:
        self.embedder = embedder
        self._backend: Backend = LocalIndex(data, folder) if isinstance(data, IndexData) else data
        self._write_lock = threading.Lock()
        self._span_reader: SpanReader | object | None = _INSTALLED

    @property
    def span_reader(self) -> SpanReader | None:
        """The trained reader that `ask` consults: the one the install step trained (None
        where it trained none) unless another SpanReader, or None, is assigned."""
        if self._span_reader is _INSTALLED:
            self._span_reader = load_span_reader()
        return self._span_reader  # type: ignore[return-value]

    @span_reader.setter
    def span_reader(self, reader: SpanReader | None) -> None:
        self._span_reader = reader

    # -- building and persistence -------------------------------------------------------

    @classmethod
    def empty(cls, embedder: str | Embedder = DEFAULT_MODEL, dense_index: str = "auto") -> Engine:
        """An engine with no documents yet, held in memory until saved.

        dense_index: "auto" (exact search, then IVF-SQ8 from 50k passages), "flat-ip"
        (always exact) or "ivf-sq8" (approximate as soon as there are enough passages).
        """
        model = _model(embedder)
        return cls(model, LocalIndex.empty(_info(model), _dense_policy(dense_index)))

    @classmethod
    def create(
        cls, target: str | Path, embedder: str | Embedder = DEFAULT_MODEL, dense_index: str = "auto"
    ) -> Engine:
        """An engine writing to `target`: a folder (written by save, with the `dense_index`
        of `empty`) or a postgresql:// URI (the database's index, created empty when it has
        none; its dense index is HNSW)."""
        model = _model(embedder)
        policy = _dense_policy(dense_index)
        if is_postgres(target):
            return cls(model, postgres_store().create(str(target), _info(model)))
        return cls(model, LocalIndex.empty(_info(model), policy, Path(target)))

    @classmethod
    def build(
        cls,
        paths: Iterable[str | Path],
        embedder: str | Embedder = DEFAULT_MODEL,
        folder: str | Path | None = None,
        progress: bool = False,
        dense_index: str = "auto",
        store: str | Path | None = None,
    ) -> Engine:
        """Index files and folders; saved to `folder` when one is given.

        store: a folder or a postgresql:// URI to index into instead (a database keeps the
        documents it already holds; the same ids are replaced).
        """
        target = store if store is not None else folder
        if target is None:
            engine = cls.empty(embedder, dense_index)
        else:
            engine = cls.create(target, embedder, dense_index)
        engine.add(paths, progress=progress)
        if target is not None:
            engine.save()
        return engine

    @classmethod
    def load(cls, target: str | Path, embedder: str | Embedder | None = None) -> Engine:
        """Open a saved index (a folder or a postgresql:// URI); the embedder defaults to the
        one it records.

        Raises ModelMismatch when the embedder's fingerprint differs from the index's.
        """
        if is_postgres(target):
            store = postgres_store().open(str(target))
            return cls(_checked_model(embedder, store.embedder, store.location), store)
        folder = Path(target)
        recorded = EmbedderInfo(**read_manifest(folder)["embedder"])
        model = _checked_model(embedder, recorded, str(folder))
        return cls(model, load_index(folder), folder)

    def save(self, folder: str | Path | None = None) -> Path | str:
        """Make the index durable: a local index is written atomically to `folder` (default:
        where it was loaded from), or copied into a database when `folder` is a postgresql://
        URI; a PostgreSQL index commits every change as it is made."""
        with self._write_lock:
            try:
                return self._backend.save(folder)
            except ValueError as exc:
                raise InvalidArgument(str(exc)) from exc

    @property
    def folder(self) -> str | None:
        """Where the index lives: its folder or its (password-free) database URI."""
        return self._backend.location

    @property
    def _data(self) -> IndexData:
        """The snapshot of a local index (for tests that build engines from one)."""
        assert isinstance(self._backend, LocalIndex)
        return self._backend.data

    # -- changing the documents ----------------------------------------------------------

    def add(
        self, paths: Iterable[str | Path], progress: bool = False, encode: Encoder | None = None
    ) -> IngestReport:
        """Read files and folders and index their documents (see add_documents)."""
        documents, skipped = read_paths(paths)
        report = self.add_documents(documents, progress=progress, encode=encode)
        return IngestReport(
            report.added,
            report.replaced,
            report.unchanged,
            report.duplicates,
            tuple(f"{s.path}: {s.reason}" for s in skipped),
        )

    def add_documents(
        self, documents: Sequence[Document], progress: bool = False, encode: Encoder | None = None
    ) -> IngestReport:
        """Index documents. A known id with new text replaces the old version; the same
        text again (under any id) is left as it is and reported.

        encode: embeds passage texts (default: this engine's embedder); it must give the
        vectors this engine's embedder gives.
        """
        with self._write_lock:
            known = self._backend.content_hashes()
            hashes = {digest: doc_id for doc_id, digest in known.items()}
            added, replaced, unchanged, duplicates = [], [], [], []
            fresh: dict[str, Document] = {}
            for document in documents:
                digest = document.content_hash
                old = known.get(document.doc_id)
                if old == digest:
                    unchanged.append(document.doc_id)
                elif digest in hashes:
                    duplicates.append(f"{document.doc_id} (same text as {hashes[digest]})")
                else:
                    if old is not None:
                        # The old version's text leaves the index with it.
                        hashes.pop(old, None)
                    (replaced if old is not None else added).append(document.doc_id)
                    fresh[document.doc_id] = document
                    hashes[digest] = document.doc_id
            if fresh:
                self._change(fresh, progress, encode or self.embedder.encode_passages)
            return IngestReport(
                tuple(added), tuple(replaced), tuple(unchanged), tuple(duplicates), ()
            )

    def remove(self, doc_id: str) -> None:
        """Remove a document and its passages; DocumentNotFound when it is not indexed."""
        with self._write_lock:
            if doc_id not in self._backend.content_hashes():
                raise DocumentNotFound(f"no document {doc_id!r} in this index")
            self._change({doc_id: None}, False, self.embedder.encode_passages)

    def _change(
        self, changes: Mapping[str, Document | None], progress: bool, encode: Encoder
    ) -> None:
        """Replace each id in `changes` by its document (or drop it), embedding its passages."""
        passages = [p for d in changes.values() if d is not None for p in split_document(d)]
        vectors = encode([p.indexed_text for p in passages], progress)
        self._backend.apply(changes, passages, vectors)

    # -- reading -------------------------------------------------------------------------

    @property
    def documents(self) -> tuple[Document, ...]:
        return self._backend.documents()

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self._backend.passages()

    def info(self) -> IndexInfo:
        """Counts and the embedder of this index."""
        backend = self._backend
        documents, passages = backend.counts()
        return IndexInfo(
            documents=documents,
            passages=passages,
            embedder=backend.embedder.name,
            dim=backend.embedder.dim,
            fingerprint=backend.embedder.fingerprint,
            dense_index=backend.dense_kind,
            folder=backend.location,
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
        fusion: "zscore" (weighted z-scores of both candidate lists, then the best ten
        reordered by how well one of their sentences covers the query; the default) or
        "rrf" (reciprocal rank fusion, k=60).
        """
        query, chosen = _check_search(query, k, mode, filters, fusion)
        with self._backend.view(chosen) as view:
            return self._search(view, query, analyse(query), k, mode, fusion, view.idf)

    def ask(self, question: str, k: int = 5, mode: Mode = "hybrid") -> Answer:
        """The answer to `question`, located in one of the k best passages, or found=False
        with a message in the question's language and the closest passages."""
        question, _ = _check_search(question, k, mode, None, "zscore")
        understood = analyse(question)
        with self._backend.view(None) as view:
            # The rerank and the answer look up the same terms (a query each in SQL).
            idf = _remembered(view.idf)
            hits = self._search(view, question, understood, k, mode, "zscore", idf)
            return extract_answer(understood, hits, idf, self.span_reader)

    def idf(self, plain_terms: Sequence[str]) -> list[float]:
        """Inverse document frequencies of diacritics-free terms in the index now."""
        with self._backend.view(None) as view:
            return view.idf(plain_terms)

    def _search(
        self,
        view: SearchView,
        query: str,
        understood: QuestionInfo,
        k: int,
        mode: str,
        fusion: str,
        idf: Callable[[Sequence[str]], list[float]],
    ) -> list[Hit]:
        depth = max(k, CANDIDATES)
        # BM25 reads an English question through its Vietnamese word equivalents.
        lexical_query = " ".join(understood.terms) if understood.language == "en" else query
        coverage = view.coverage(lexical_query)
        # A query typed without diacritics gets them back from the index's own spelling,
        # unless too few of its words are known.
        restored = None
        if coverage >= RESTORE_MIN_COVERAGE and not has_diacritics(lexical_query):
            restored = view.restore_diacritics(lexical_query)
        dense_scores: dict[int, float] = {}
        lexical_scores: dict[int, float] = {}
        encode = self.embedder.encode_queries
        pending = None
        if (
            mode == "hybrid"
            and view.lexical_rows >= BESIDE_MIN_ROWS
            and isinstance(self.embedder, OneCoreQueries)
        ):
            pending = _worker().submit(view.lexical, lexical_query, restored, depth)
            encode = self.embedder.encode_queries_on_one_core
        if mode in ("hybrid", "dense"):
            dense_query = query if understood.language == "en" else restored or query
            dense_scores = view.dense(encode([canonical(dense_query)])[0], depth)
        if pending is not None:
            lexical_scores = pending.result()
        elif mode in ("hybrid", "lexical"):
            lexical_scores = view.lexical(lexical_query, restored, depth)
        if mode != "hybrid":
            fused = list((dense_scores or lexical_scores).items())
        else:
            fused = _fuse(dense_scores, lexical_scores, coverage, fusion)
        reranked = mode == "hybrid" and fusion == "zscore"
        # One read of the passages the rerank and the answer need (a round trip in SQL).
        rows = [row for row, _ in fused[: max(k, RERANK_DEPTH) if reranked else k]]
        fetched = dict(zip(rows, view.passages(rows), strict=True))
        if reranked:
            fused = _rerank(understood, fused, fetched, idf)
        return [
            _hit(fetched[row], rank, score, dense_scores.get(row), lexical_scores.get(row))
            for rank, (row, score) in enumerate(fused[:k], 1)
        ]


@functools.cache
def _worker() -> ThreadPoolExecutor:
    """The threads that score BM25 beside an embedding (see BESIDE_MIN_ROWS)."""
    return ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0)), thread_name_prefix="bm25")


def _model(embedder: str | Embedder) -> Embedder:
    return load_embedder(embedder) if isinstance(embedder, str) else embedder


def _checked_model(embedder: str | Embedder | None, recorded: EmbedderInfo, where: str) -> Embedder:
    """The given embedder (default: the one the index records); ModelMismatch unless it is
    the one that built the index at `where`."""
    model = _model(embedder if embedder is not None else recorded.name)
    check_embedder(where, recorded, _info(model))
    return model


def _dense_policy(dense_index: str) -> str:
    if dense_index not in DENSE_KINDS:
        raise InvalidArgument(
            f"dense_index must be one of {', '.join(DENSE_KINDS)}, got {dense_index!r}"
        )
    return dense_index


def _info(model: Embedder) -> EmbedderInfo:
    return EmbedderInfo(model.name, model.dim, model.fingerprint)


def _check_search(
    query: str, k: int, mode: str, filters: Filters | Mapping[str, object] | None, fusion: str
) -> tuple[str, Filters | None]:
    """Refuse bad search arguments with a message for the user; returns the stripped query
    and the filters."""
    query = check_query(query)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k must be a positive whole number, got {k!r}")
    if mode not in MODES:
        raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if fusion not in FUSIONS:
        raise InvalidArgument(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
    return query, _as_filters(filters)


def _fuse(
    dense_scores: dict[int, float], lexical_scores: dict[int, float], coverage: float, fusion: str
) -> list[tuple[int, float]]:
    """Both candidate lists fused; BM25 counts only as much as the share of the query
    it can see (its `coverage`), so an English question leans on the dense side."""
    weights = (DENSE_WEIGHT, (1 - DENSE_WEIGHT) * coverage)
    if fusion == "rrf":
        return reciprocal_rank_fusion([list(dense_scores), list(lexical_scores)], weights=weights)
    return zscore_fusion([dense_scores, lexical_scores], weights=weights)


def _remembered(
    idf: Callable[[Sequence[str]], list[float]],
) -> Callable[[Sequence[str]], list[float]]:
    """`idf` that looks each list of terms up once."""
    known: dict[tuple[str, ...], list[float]] = {}

    def lookup(terms: Sequence[str]) -> list[float]:
        key = tuple(terms)
        if key not in known:
            known[key] = idf(terms)
        return list(known[key])

    return lookup


def _rerank(
    question: QuestionInfo,
    fused: list[tuple[int, float]],
    passages: Mapping[int, Passage],
    idf: Callable[[Sequence[str]], list[float]],
) -> list[tuple[int, float]]:
    """The RERANK_DEPTH best fused passages reordered after adding how well their best
    sentence covers the question (sentence_support); the rest keep their order below."""
    head = fused[:RERANK_DEPTH]
    texts = [(passages[row].text, passages[row].title) for row, _ in head]
    supports = sentence_support(question, texts, idf)
    rescored = [
        (row, score + SUPPORT_WEIGHT * support)
        for (row, score), support in zip(head, supports, strict=True)
    ]
    return sorted(rescored, key=lambda pair: -pair[1]) + fused[RERANK_DEPTH:]


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
