"""The PostgreSQL backend: documents, passages, pgvector embeddings and BM25 over tsvector.

    vietqa_meta        schema version, embedder (name, dim, fingerprint), normaliser, created
    vietqa_documents   id, title, original text, metadata, content hash
    vietqa_passages    document, offsets, date, embedding vector(dim) (HNSW, inner product),
                       lex_accented / lex_plain tsvectors (GIN) and their term counts
    vietqa_terms       document frequency of every term per form (for BM25 and restoring
                       diacritics), kept in the same transaction as the passages
    vietqa_stats       passages and total term count per form (BM25's average length)

Terms are those of the local BM25 store (index.lexical), computed in Python: PostgreSQL
has no Vietnamese-aware unaccent, and both backends must see the same words. Scores are
the same BM25 (Lucene idf, k1 1.5, b 0.75) computed in SQL from the term positions the
tsvector keeps, so a PostgreSQL index ranks like the local one. Every change is one
transaction behind an advisory lock: a failed or killed ingest leaves no partial document.
Requires PostgreSQL >= 15 with pgvector >= 0.8 (iterative scans for filtered HNSW search).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from psycopg import sql

from index.documents import Document
from index.errors import IndexNotFound, IndexVersionMismatch, StoreUnavailable
from index.filters import Filters, passage_date
from index.lexical import (
    FORMS,
    K1,
    B,
    bm25_idf,
    coverage,
    query_terms,
    restore_diacritics,
    spelling_keys,
    syllables,
    text_terms,
)
from index.normalize import NORMALIZER_VERSION, unaccent
from index.passages import Passage
from index.store import EmbedderInfo, check_embedder, now_iso

SCHEMA_VERSION = 1
DENSE_KIND = "pgvector-hnsw-ip"
# HNSW build parameters (pgvector's defaults) and the least candidates a query explores.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
MIN_EF_SEARCH = 40
MAX_EF_SEARCH = 1000
# tsvector limits: a lexeme under 2 KB, positions up to 16383, 256 kept per lexeme.
MAX_LEXEME_BYTES = 2046
MAX_POSITION = 16383
MAX_POSITIONS = 256
# One writer at a time per database (pg_advisory_xact_lock key: "vietqa" in ASCII).
WRITE_LOCK = 0x76696574_7161

_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE vietqa_meta (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE vietqa_documents (
    doc_id text PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    metadata jsonb NOT NULL,
    content_hash text NOT NULL,
    position bigserial
);
CREATE TABLE vietqa_passages (
    id bigserial PRIMARY KEY,
    doc_id text NOT NULL REFERENCES vietqa_documents ON DELETE CASCADE,
    start_offset integer NOT NULL,
    end_offset integer NOT NULL,
    doc_date date,
    embedding vector({dim}) NOT NULL,
    lex_accented tsvector NOT NULL,
    lex_plain tsvector NOT NULL,
    len_accented integer NOT NULL,
    len_plain integer NOT NULL
);
CREATE INDEX vietqa_passages_doc ON vietqa_passages (doc_id);
CREATE INDEX vietqa_passages_date ON vietqa_passages (doc_date);
CREATE INDEX vietqa_passages_embedding ON vietqa_passages
    USING hnsw (embedding vector_ip_ops) WITH (m = {m}, ef_construction = {ef_construction});
CREATE INDEX vietqa_passages_accented ON vietqa_passages USING gin (lex_accented);
CREATE INDEX vietqa_passages_plain ON vietqa_passages USING gin (lex_plain);
CREATE TABLE vietqa_terms (
    form text NOT NULL,
    term text NOT NULL,
    plain text NOT NULL,
    df integer NOT NULL,
    PRIMARY KEY (form, term)
);
CREATE INDEX vietqa_terms_spelling ON vietqa_terms (plain, df DESC) WHERE form = 'accented';
CREATE TABLE vietqa_stats (
    form text PRIMARY KEY,
    passages bigint NOT NULL,
    total_length bigint NOT NULL
);
INSERT INTO vietqa_stats VALUES ('accented', 0, 0), ('plain', 0, 0);
"""


def redact(uri: str) -> str:
    """The URI without its password, for messages and `info`."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form; float32 values round-trip exactly."""
    return "[" + ",".join(map(str, np.asarray(vector, dtype=np.float32).tolist())) + "]"


def tsvector_literal(form_terms: Sequence[str]) -> str:
    """A tsvector holding each term with its positions, so SQL can read term frequencies.
    Terms are word characters and underscores, so quoting them needs no escapes."""
    positions: dict[str, list[int]] = defaultdict(list)
    for position, term in enumerate(form_terms, start=1):
        if len(term.encode()) <= MAX_LEXEME_BYTES:
            positions[term].append(min(position, MAX_POSITION))
    return " ".join(
        f"'{term}':{','.join(map(str, places[:MAX_POSITIONS]))}"
        for term, places in positions.items()
    )


def _tsquery_literal(form_terms: Sequence[str]) -> str:
    return " | ".join(f"'{term}'" for term in dict.fromkeys(form_terms))


def _filter_clause(filters: Filters | None) -> tuple[sql.Composable, dict[str, Any]]:
    """A WHERE condition on vietqa_passages p with the same meaning as index.filters.passes."""
    if filters is None:
        return sql.SQL("TRUE"), {}
    parts = [sql.SQL("TRUE")]
    params: dict[str, Any] = {}
    if filters.doc_ids is not None:
        parts.append(sql.SQL("p.doc_id = ANY(%(doc_ids)s)"))
        params["doc_ids"] = sorted(filters.doc_ids)
    if filters.date_from is not None or filters.date_to is not None:
        parts.append(
            sql.SQL(
                "p.doc_date IS NOT NULL"
                " AND (%(date_from)s::date IS NULL OR p.doc_date >= %(date_from)s::date)"
                " AND (%(date_to)s::date IS NULL OR p.doc_date <= %(date_to)s::date)"
            )
        )
        params.update(date_from=filters.date_from, date_to=filters.date_to)
    return sql.SQL(" AND ").join(parts), params


_BM25 = """
SELECT p.id, sum(q.idf * cardinality(u.positions)
    / (cardinality(u.positions) + %(k1)s * (1 - %(b)s + %(b)s * p.{length} / %(avgdl_{form})s)))
FROM vietqa_passages p
CROSS JOIN LATERAL unnest(p.{column}) AS u
JOIN unnest(%(terms_{form})s::text[], %(idfs_{form})s::float8[]) AS q (term, idf)
    ON q.term = u.lexeme
WHERE p.{column} @@ %(query_{form})s::tsquery AND {where}
GROUP BY p.id
"""


class PgView:
    """One search in one read-only, repeatable-read transaction; rows are passage ids."""

    # The database scores BM25, on this view's one connection.
    lexical_rows = 0

    def __init__(self, connection: psycopg.Connection, filters: Filters | None) -> None:
        self._db = connection
        self._where, self._params = _filter_clause(filters)

    def dense(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        # Filtered HNSW scans keep going until `depth` rows pass (pgvector >= 0.8).
        ef_search = min(max(depth, MIN_EF_SEARCH), MAX_EF_SEARCH)
        self._db.execute(
            "SELECT set_config('hnsw.ef_search', %s, true),"
            " set_config('hnsw.iterative_scan', 'relaxed_order', true)",
            (str(ef_search),),
        )
        query = sql.SQL(
            "SELECT p.id, -(p.embedding <#> %(vector)s::vector) FROM vietqa_passages p "
            "WHERE {where} ORDER BY p.embedding <#> %(vector)s::vector LIMIT %(depth)s"
        ).format(where=self._where)
        params = {**self._params, "vector": vector_literal(vector), "depth": depth}
        rows = self._db.execute(query, params).fetchall()
        # relaxed_order may return rows slightly out of order.
        return dict(sorted(((int(r), float(s)) for r, s in rows), key=lambda row: -row[1]))

    def lexical(self, query: str, accented_query: str | None, depth: int) -> dict[int, float]:
        forms = query_terms(query, accented_query)
        stats = dict(
            self._db.execute(
                "SELECT form, (passages, total_length) FROM vietqa_stats WHERE form = ANY(%s)",
                (list(forms),),
            ).fetchall()
        )
        selects = []
        params: dict[str, Any] = {**self._params, "k1": K1, "b": B, "depth": depth}
        for form, form_terms in forms.items():
            passages, total_length = (int(value) for value in stats[form])
            frequencies = self._frequencies(form, form_terms)
            known = [term for term in form_terms if term in frequencies]
            if not known or not passages:
                continue
            selects.append(
                sql.SQL(_BM25).format(
                    length=sql.Identifier(f"len_{form}"),
                    column=sql.Identifier(f"lex_{form}"),
                    form=sql.SQL(form),
                    where=self._where,
                )
            )
            params[f"avgdl_{form}"] = total_length / passages
            params[f"terms_{form}"] = known
            params[f"idfs_{form}"] = [bm25_idf(frequencies[t], passages) for t in known]
            params[f"query_{form}"] = _tsquery_literal(known)
        if not selects:
            return {}
        query = sql.SQL(
            "SELECT id, sum(score) AS total FROM ({union}) AS scored (id, score) "
            "GROUP BY id ORDER BY total DESC, id LIMIT %(depth)s"
        ).format(union=sql.SQL(" UNION ALL ").join(selects))
        return {int(row): float(score) for row, score in self._db.execute(query, params)}

    def _frequencies(self, form: str, form_terms: Sequence[str]) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT term, df FROM vietqa_terms WHERE form = %s AND term = ANY(%s)",
            (form, list(dict.fromkeys(form_terms))),
        )
        return {term: int(df) for term, df in rows}

    def coverage(self, query: str) -> float:
        return coverage(query, self._frequencies("plain", syllables(query)[1]))

    def restore_diacritics(self, query: str) -> str:
        rows = self._db.execute(
            "SELECT DISTINCT ON (plain) plain, term FROM vietqa_terms WHERE form = 'accented'"
            ' AND plain = ANY(%s) ORDER BY plain, df DESC, term COLLATE "C"',
            (list(dict.fromkeys(spelling_keys(query))),),
        )
        return restore_diacritics(query, dict(rows.fetchall()))

    def idf(self, plain_terms: Sequence[str]) -> list[float]:
        (passages,) = self._db.execute(
            "SELECT passages FROM vietqa_stats WHERE form = 'plain'"
        ).fetchone()
        frequencies = self._frequencies("plain", plain_terms)
        return [bm25_idf(frequencies.get(term, 0), int(passages)) for term in plain_terms]

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        found = {
            row: passage
            for row, passage in _passage_rows(self._db, "WHERE p.id = ANY(%s)", (list(rows),))
        }
        return [found[row] for row in rows]


def _passage_rows(
    db: psycopg.Connection, where: str, params: Sequence[object]
) -> Iterator[tuple[int, Passage]]:
    cursor = db.execute(
        "SELECT p.id, p.doc_id, d.title, p.start_offset, p.end_offset,"
        " substr(d.body, p.start_offset + 1, p.end_offset - p.start_offset), d.metadata"
        " FROM vietqa_passages p JOIN vietqa_documents d USING (doc_id) "
        + where
        + " ORDER BY p.id",
        params,
    )
    for row, doc_id, title, start, end, text, metadata in cursor:
        yield int(row), Passage(doc_id, title, start, end, text, MappingProxyType(metadata))


class PgVectorStore:
    """An index in a PostgreSQL database with pgvector; any number of processes may read
    and write it at once (writes are serialised by the database)."""

    def __init__(self, uri: str, embedder: EmbedderInfo) -> None:
        self._uri = uri
        self._embedder = embedder
        self._local = threading.local()

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, uri: str) -> PgVectorStore:
        """The index in the database at `uri`; IndexNotFound when it has none."""
        with _connect(uri) as db:
            meta = _read_meta(db, uri)
        if meta is None:
            raise IndexNotFound(
                f"no index in the database {redact(uri)}. Build one with "
                f"`python -m qa ingest PATH --index {redact(uri)}`."
            )
        return cls(uri, EmbedderInfo(**meta["embedder"]))

    @classmethod
    def create(cls, uri: str, embedder: EmbedderInfo) -> PgVectorStore:
        """The index in the database at `uri`, created empty for `embedder` when missing.

        Raises ModelMismatch when the database holds an index of another embedder.
        """
        with _connect(uri) as db, db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            meta = _read_meta(db, uri)
            if meta is None:
                db.execute(
                    _SCHEMA.format(
                        dim=int(embedder.dim), m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION
                    )
                )
                recorded = {
                    "schema_version": SCHEMA_VERSION,
                    "embedder": dataclasses.asdict(embedder),
                    "normalizer": NORMALIZER_VERSION,
                    "created": now_iso(),
                }
                with db.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO vietqa_meta VALUES (%s, %s::jsonb)",
                        [(key, json.dumps(value)) for key, value in recorded.items()],
                    )
            else:
                check_embedder(redact(uri), EmbedderInfo(**meta["embedder"]), embedder)
        return cls(uri, embedder)

    # -- the Backend interface -------------------------------------------------------------

    @property
    def embedder(self) -> EmbedderInfo:
        return self._embedder

    @property
    def location(self) -> str:
        return redact(self._uri)

    @property
    def dense_kind(self) -> str:
        return DENSE_KIND

    def _db(self) -> psycopg.Connection:
        """This thread's connection (psycopg connections serialise their callers)."""
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.broken:
            connection = _connect(self._uri)
            self._local.connection = connection
        return connection

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()

    def documents(self) -> tuple[Document, ...]:
        rows = self._db().execute(
            "SELECT doc_id, title, body, metadata FROM vietqa_documents ORDER BY position"
        )
        return tuple(Document(i, t, body, MappingProxyType(m)) for i, t, body, m in rows)

    def passages(self) -> tuple[Passage, ...]:
        return tuple(passage for _, passage in _passage_rows(self._db(), "", ()))

    def counts(self) -> tuple[int, int]:
        row = (
            self._db()
            .execute(
                "SELECT (SELECT count(*) FROM vietqa_documents),"
                " (SELECT passages FROM vietqa_stats WHERE form = 'plain')"
            )
            .fetchone()
        )
        return int(row[0]), int(row[1])

    def content_hashes(self) -> dict[str, str]:
        rows = self._db().execute("SELECT doc_id, content_hash FROM vietqa_documents")
        return dict(rows.fetchall())

    @contextlib.contextmanager
    def view(self, filters: Filters | None) -> Iterator[PgView]:
        db = self._db()
        with db.transaction():
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PgView(db, filters)

    def save(self, target: object | None) -> str:
        """Nothing to do: every change is committed as it is made."""
        if target is not None and str(target) not in (self._uri, self.location):
            raise ValueError(f"this index lives in {self.location}; it cannot be saved elsewhere")
        return self.location

    def apply(
        self,
        changes: Mapping[str, Document | None],
        passages: Sequence[Passage],
        vectors: np.ndarray,
    ) -> None:
        if len(passages) != len(vectors):
            raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors")
        db = self._db()
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            _forget(db, sorted(changes))
            with db.cursor().copy(
                "COPY vietqa_documents (doc_id, title, body, metadata, content_hash) FROM STDIN"
            ) as copy:
                for document in changes.values():
                    if document is not None:
                        copy.write_row(
                            (
                                document.doc_id,
                                document.title,
                                document.text,
                                json.dumps(dict(document.metadata), ensure_ascii=False),
                                document.content_hash,
                            )
                        )
            _insert_passages(db, passages, vectors)


def _forget(db: psycopg.Connection, doc_ids: list[str]) -> None:
    """Delete documents with their passages, and take their terms out of the statistics."""
    for form in FORMS:
        emptied = db.execute(
            sql.SQL(
                "WITH gone AS (SELECT u.lexeme AS term, count(*) AS n FROM vietqa_passages p"
                " CROSS JOIN LATERAL unnest(p.{column}) AS u WHERE p.doc_id = ANY(%(ids)s)"
                " GROUP BY u.lexeme) "
                "UPDATE vietqa_terms t SET df = t.df - gone.n FROM gone"
                " WHERE t.form = %(form)s AND t.term = gone.term RETURNING t.term, t.df"
            ).format(column=sql.Identifier(f"lex_{form}")),
            {"ids": doc_ids, "form": form},
        ).fetchall()
        db.execute(
            "DELETE FROM vietqa_terms WHERE form = %s AND term = ANY(%s) AND df <= 0",
            (form, [term for term, df in emptied if df <= 0]),
        )
        db.execute(
            sql.SQL(
                "UPDATE vietqa_stats s SET passages = s.passages - gone.n,"
                " total_length = s.total_length - gone.length"
                " FROM (SELECT count(*) AS n, coalesce(sum(p.{length}), 0) AS length"
                " FROM vietqa_passages p WHERE p.doc_id = ANY(%(ids)s)) AS gone"
                " WHERE s.form = %(form)s"
            ).format(length=sql.Identifier(f"len_{form}")),
            {"ids": doc_ids, "form": form},
        )
    db.execute("DELETE FROM vietqa_documents WHERE doc_id = ANY(%s)", (doc_ids,))


def _insert_passages(
    db: psycopg.Connection, passages: Sequence[Passage], vectors: np.ndarray
) -> None:
    """COPY the passages in, then add their terms to the statistics."""
    frequencies: dict[str, Counter[str]] = {form: Counter() for form in FORMS}
    lengths = dict.fromkeys(FORMS, 0)
    with db.cursor().copy(
        "COPY vietqa_passages (doc_id, start_offset, end_offset, doc_date, embedding,"
        " lex_accented, lex_plain, len_accented, len_plain) FROM STDIN"
    ) as copy:
        for passage, vector in zip(passages, vectors, strict=True):
            forms = text_terms(passage.indexed_text)
            for form, form_terms in forms.items():
                frequencies[form].update(
                    t for t in set(form_terms) if len(t.encode()) <= MAX_LEXEME_BYTES
                )
                lengths[form] += len(form_terms)
            when = passage_date(passage)
            copy.write_row(
                (
                    passage.doc_id,
                    passage.start,
                    passage.end,
                    date.fromisoformat(when) if when else None,
                    vector_literal(vector),
                    tsvector_literal(forms["accented"]),
                    tsvector_literal(forms["plain"]),
                    len(forms["accented"]),
                    len(forms["plain"]),
                )
            )
    for form, counts in frequencies.items():
        db.execute(
            "INSERT INTO vietqa_terms (form, term, plain, df)"
            " SELECT %(form)s, term, plain, df FROM unnest(%(terms)s::text[], %(plains)s::text[],"
            " %(dfs)s::int[]) AS u (term, plain, df)"
            " ON CONFLICT (form, term) DO UPDATE SET df = vietqa_terms.df + EXCLUDED.df",
            {
                "form": form,
                "terms": list(counts),
                "plains": [unaccent(term) if form == "accented" else term for term in counts],
                "dfs": list(counts.values()),
            },
        )
        db.execute(
            "UPDATE vietqa_stats SET passages = passages + %s,"
            " total_length = total_length + %s WHERE form = %s",
            (len(passages), lengths[form], form),
        )


def _connect(uri: str) -> psycopg.Connection:
    try:
        # Autocommit outside explicit transactions; no server-side prepared statements, so a
        # per-transaction setting (hnsw.ef_search) is never bypassed by a cached plan.
        return psycopg.connect(uri, autocommit=True, prepare_threshold=None)
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"cannot connect to {redact(uri)}: {exc}") from exc


def _read_meta(db: psycopg.Connection, uri: str) -> dict[str, Any] | None:
    """The meta rows of the index in this database, checked; None when there is no index."""
    (exists,) = db.execute("SELECT to_regclass('vietqa_meta') IS NOT NULL").fetchone()
    if not exists:
        return None
    meta = dict(db.execute("SELECT key, value FROM vietqa_meta").fetchall())
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION or meta.get("normalizer") != NORMALIZER_VERSION:
        raise IndexVersionMismatch(
            f"{redact(uri)} holds index schema {version!r} (normaliser "
            f"{meta.get('normalizer')!r}); this version reads schema {SCHEMA_VERSION} "
            f"({NORMALIZER_VERSION}). Ingest into a new database, or upgrade."
        )
    return meta
