"""search and ask at 10k, 100k and 1M passages, beside LlamaIndex and numpy on the same vectors.

    HF_HUB_OFFLINE=1 python benchmarks/scale.py [--shared ../shared] [--sizes 10000 100000]

Passages: three to six real Vietnamese sentences (shared corpus and XQuAD-vi passages)
joined; their vector is the unit mean of those sentences' real embeddings plus a little
noise, so topics cluster as in a real collection. Queries: XQuAD-vi dev questions.
Latencies are per question, one at a time; "search" and "ask" include embedding the
question, and from WARM_MIN_ROWS passages start once the BM25 store's background warm-up
(index.local) is done. The dense-only rows time the same precomputed query vectors in
each store.
LlamaIndex (llama-index-core, `pip install -e ".[bench]"`) holds its vectors as Python
lists, so it runs only up to --llama-max passages.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.chunk import split_sentences  # noqa: E402
from index.dense import NPROBES, DenseStore, recall_at_k  # noqa: E402
from index.documents import Document  # noqa: E402
from index.lexical import LexicalStore  # noqa: E402
from index.local import WARM_MIN_ROWS  # noqa: E402
from index.passages import Passage  # noqa: E402
from index.store import EmbedderInfo, IndexData, now_iso  # noqa: E402
from models import DEFAULT_MODEL, load_embedder  # noqa: E402
from qa import Engine  # noqa: E402

NOISE = 0.02


def rss_bytes() -> int:
    """Resident memory of this process, after a garbage collection."""
    gc.collect()
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def sentence_pool(shared: Path, limit: int) -> list[str]:
    """Real sentences of 6 words or more from the shared corpus and XQuAD-vi passages."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((shared / "corpus").glob("*.txt"))]
    texts += [r["text"] for r in read_jsonl(shared / "eval" / "xquad_vi_dev_passages.jsonl")]
    sentences = [t[s.start : s.end] for t in texts for s in split_sentences(t)]
    return [s for s in sentences if len(s.split()) >= 6][:limit]


def synthetic_collection(
    pool: list[str], pool_vectors: np.ndarray, size: int, seed: int
) -> tuple[list[str], np.ndarray]:
    """`size` passages of 3-6 pool sentences, and their vectors (see the module docstring)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 7, size)
    picks = rng.integers(0, len(pool), int(lengths.sum()))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    vectors = np.add.reduceat(pool_vectors[picks], starts, axis=0)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors += (
        NOISE * rng.standard_normal(vectors.shape).astype(np.float32) / np.sqrt(vectors.shape[1])
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [
        " ".join(pool[i] for i in picks[s : s + n]) for s, n in zip(starts, lengths, strict=True)
    ]
    return texts, vectors.astype(np.float32)


def percentiles(times: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def timed(run: Callable[[object], object], inputs: Sequence[object]) -> tuple[float, float]:
    """p50/p95 of `run` over `inputs`, after two warm-up calls."""
    for item in inputs[:2]:
        run(item)
    times = []
    for item in inputs:
        start = time.perf_counter()
        run(item)
        times.append(time.perf_counter() - start)
    return percentiles(times)


def numpy_top10(vectors: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Brute force in numpy on one BLAS thread, as our FAISS search runs one query per thread
    (several BLAS threads are slower for one query on 2 busy cores)."""

    def search(query: np.ndarray) -> np.ndarray:
        with threadpool_limits(1):
            scores = vectors @ query
        best = np.argpartition(-scores, 10)[:10]
        return best[np.argsort(-scores[best])]

    return search


def llama_top10(texts: list[str], vectors: np.ndarray) -> Callable[[np.ndarray], object]:
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores import SimpleVectorStore
    from llama_index.core.vector_stores.types import VectorStoreQuery

    store = SimpleVectorStore()
    store.add(
        [
            TextNode(text=text, id_=str(row), embedding=vector.tolist())
            for row, (text, vector) in enumerate(zip(texts, vectors, strict=True))
        ]
    )
    return lambda query: store.query(
        VectorStoreQuery(query_embedding=query.tolist(), similarity_top_k=10)
    )


def dense_top10(dense: DenseStore, query_vectors: np.ndarray) -> np.ndarray:
    """The store's top-10 rows for each query (-1 where it returned fewer)."""
    return np.stack(
        [np.pad(dense.search(q, 10)[0], (0, 10), constant_values=-1)[:10] for q in query_vectors]
    )


def nprobe_sweep(
    dense: DenseStore, query_vectors: np.ndarray, truth: np.ndarray
) -> list[dict[str, float]]:
    """Recall@10 and p50 ms of the real questions at each nprobe (the tuned one restored)."""
    tuned, sweep = dense.nprobe, []
    for nprobe in NPROBES:
        dense.nprobe = nprobe
        found = dense_top10(dense, query_vectors)
        p50 = timed(lambda q: dense.search(q, 10), list(query_vectors))[0]
        sweep.append({"nprobe": nprobe, "recall@10": recall_at_k(found, truth), "p50 ms": p50})
    dense.nprobe = tuned
    return sweep


def serving_memory(folder: Path, dim: int, size: int) -> dict[str, float]:
    """Bytes per passage that loading each store adds, measured in a fresh process."""
    probe = subprocess.run(
        [sys.executable, __file__, "--probe-memory", str(folder), str(dim), str(size)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(probe.stdout.splitlines()[-1])


def probe_memory(folder: Path, dim: int, size: int) -> None:
    """Print the RSS that loading the dense store, then the BM25 store, adds per passage."""
    before = rss_bytes()
    dense = DenseStore.load(folder / "dense.faiss", dim, size)
    after_dense = rss_bytes()
    memory = {"dense": (after_dense - before) / size}
    if (folder / "lexical").is_dir():
        lexical = LexicalStore.load(folder / "lexical")
        memory["bm25"] = (rss_bytes() - after_dense) / size
        del lexical
    del dense
    print(json.dumps(memory))


def saved_parts(folder: Path, dense: DenseStore, lexical: LexicalStore | None) -> dict:
    """Disk and serving-memory bytes per passage of the stores written to `folder`."""
    dense.save(folder / "dense.faiss")
    disk = {"dense": (folder / "dense.faiss").stat().st_size / dense.size}
    if lexical is not None:
        lexical.save(folder / "lexical")
        files = (folder / "lexical").rglob("*")
        disk["bm25"] = sum(p.stat().st_size for p in files if p.is_file()) / dense.size
    return {"disk": disk, "memory": serving_memory(folder, dense.dim, dense.size)}


def measure(args: argparse.Namespace, size: int, parts: dict) -> dict:
    """One collection of `size` passages: build, time every store, measure bytes."""
    embedder, query_vectors = parts["embedder"], parts["queries"]
    row: dict[str, object] = {"passages": size}
    texts, vectors = synthetic_collection(parts["pool"], parts["pool_vectors"], size, seed=size)

    start = time.perf_counter()
    dense = DenseStore.empty(vectors.shape[1])
    dense.add(vectors)
    row["dense build s"] = time.perf_counter() - start
    row["index"] = dense.describe()
    exact = numpy_top10(vectors)
    row["dense ms"] = timed(lambda q: dense.search(q, 10), list(query_vectors))
    row["numpy ms"] = timed(exact, list(query_vectors))
    truth = np.stack([exact(q) for q in query_vectors])
    row["recall@10"] = recall_at_k(dense_top10(dense, query_vectors), truth)
    if dense.nprobe is not None:
        row["nprobe sweep"] = nprobe_sweep(dense, query_vectors, truth)
    if size <= args.llama_max:
        llama = llama_top10(texts, vectors)
        row["llamaindex ms"] = timed(llama, list(query_vectors[: args.llama_queries]))
        del llama
    row["embed ms"] = timed(lambda q: embedder.encode_queries([q]), parts["questions"])

    lexical = None
    if size <= args.hybrid_max:
        documents = tuple(Document(f"synthetic-{i}", "", t) for i, t in enumerate(texts))
        passages = tuple(Passage(d.doc_id, "", 0, len(d.text), d.text) for d in documents)
        start = time.perf_counter()
        lexical = LexicalStore.build([p.indexed_text for p in passages])
        row["bm25 build s"] = time.perf_counter() - start
        info = EmbedderInfo(embedder.name, embedder.dim, embedder.fingerprint)
        engine = Engine(embedder, IndexData(info, documents, passages, dense, lexical, now_iso()))
        if size >= WARM_MIN_ROWS:
            # The engine computes a large store's common words in the background: wait for it.
            lexical.warm()
        row["search ms"] = timed(lambda q: engine.search(q, k=5), parts["questions"])
        row["ask ms"] = timed(lambda q: engine.ask(q, k=5), parts["questions"][: args.ask_queries])
        row["bm25 cache B"] = lexical.cached_bytes / size
    del texts, vectors
    folder = Path(tempfile.mkdtemp(prefix="vietqa-scale-"))
    try:
        row.update(saved_parts(folder, dense, lexical))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return row


COLUMNS = (
    "passages | dense index | search ms p50/p95 | ask ms p50/p95 | query embed ms p50 | "
    "dense ms p50/p95 | numpy ms p50 | LlamaIndex ms p50 | numpy/ours | LlamaIndex/ours | "
    "recall@10 | build s dense/BM25 | RAM B/passage dense/BM25 (+score cache) | "
    "disk B/passage dense/BM25"
)


def table_row(row: dict) -> str:
    """One markdown table row; "-" where a figure was not measured at this size."""

    def ms(key: str, both: bool = True) -> str:
        value = row.get(key)
        if not value:
            return "-"
        return f"{value[0]:.1f} / {value[1]:.1f}" if both else f"{value[0]:.1f}"

    def ratio(key: str) -> str:
        return f"{row[key][0] / row['dense ms'][0]:.1f}x" if key in row else "-"

    def pair(values: dict) -> str:
        return " / ".join(f"{values[k]:.0f}" if k in values else "-" for k in ("dense", "bm25"))

    index = row["index"]
    kind = index["kind"] + (
        f" (nlist {index['nlist']}, nprobe {index['nprobe']})" if "nlist" in index else ""
    )
    build = f"{row['dense build s']:.1f} / " + (
        f"{row['bm25 build s']:.0f}" if "bm25 build s" in row else "-"
    )
    cells = [
        f"{row['passages']:,}",
        kind,
        ms("search ms"),
        ms("ask ms"),
        ms("embed ms", both=False),
        ms("dense ms"),
        ms("numpy ms", both=False),
        ms("llamaindex ms", both=False),
        ratio("numpy ms"),
        ratio("llamaindex ms"),
        f"{row['recall@10']:.3f}",
        build,
        pair(row["memory"]) + (f" (+{row['bm25 cache B']:.0f})" if "bm25 cache B" in row else ""),
        pair(row["disk"]),
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--probe-memory":
        probe_memory(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ask-queries", type=int, default=100)
    parser.add_argument("--llama-max", type=int, default=100_000)
    parser.add_argument("--llama-queries", type=int, default=20)
    parser.add_argument(
        "--hybrid-max",
        type=int,
        default=1_000_000,
        help="largest size that also builds BM25 and times search/ask",
    )
    parser.add_argument("--pool", type=int, default=800, help="real sentences to embed")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args()

    embedder = load_embedder(DEFAULT_MODEL)
    pool = sentence_pool(args.shared, args.pool)
    print(f"embedding {len(pool)} real sentences with {embedder.name}...", flush=True)
    questions = [
        q["question"]
        for q in read_jsonl(args.shared / "eval" / "xquad_vi_dev_questions.jsonl")[: args.queries]
    ]
    parts = {
        "embedder": embedder,
        "pool": pool,
        "pool_vectors": embedder.encode_passages(pool, progress=True),
        "questions": questions,
        "queries": embedder.encode_queries(questions),
    }
    rows = []
    for size in args.sizes:
        rows.append(measure(args, size, parts))
        print(table_row(rows[-1]), flush=True)
        gc.collect()
    print(f"\n| {COLUMNS} |\n|{'---|' * (COLUMNS.count('|') + 1)}")
    for row in rows:
        print(table_row(row))
    for row in rows:
        for point in row.get("nprobe sweep", []):
            print(
                f"{row['passages']:,} passages, nprobe {point['nprobe']}: recall@10 "
                f"{point['recall@10']:.3f}, p50 {point['p50 ms']:.2f} ms"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
