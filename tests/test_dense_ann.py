"""The approximate dense index (IVF-SQ8) against exact FAISS search as the oracle."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

import index.dense as dense_module
from index.chunk import split_sentences
from index.dense import FLAT, IVF, DenseStore, recall_at_k
from index.documents import text_document
from index.lexical import LexicalStore
from index.passages import split_document
from index.store import EmbedderInfo, IndexData, load_index, now_iso, read_manifest, save_index

DIM = 64
ROWS = 6000


def _clustered(rng: np.random.Generator, rows: int, centres: np.ndarray) -> np.ndarray:
    """Unit vectors scattered around random centres, like topics in a report collection."""
    picked = centres[rng.integers(0, len(centres), rows)]
    vectors = (picked + 0.6 * rng.standard_normal((rows, DIM)) / np.sqrt(DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def collection() -> tuple[np.ndarray, np.ndarray]:
    """Stored vectors and fresh queries from the same topics."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((300, DIM)) / np.sqrt(DIM)
    return _clustered(rng, ROWS, centres), _clustered(rng, 300, centres)


@pytest.fixture(scope="module")
def ivf_store(collection: tuple[np.ndarray, np.ndarray]) -> DenseStore:
    store = DenseStore.empty(DIM, IVF)
    store.add(collection[0])
    return store


def _exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    return exact.search(queries, k)[1]


def test_ivf_recall_against_exact_search_on_unseen_queries(
    ivf_store: DenseStore, collection: tuple[np.ndarray, np.ndarray]
) -> None:
    vectors, queries = collection
    assert ivf_store.kind == IVF and ivf_store.size == ROWS
    found = np.stack([np.pad(ivf_store.search(q, 10)[0], (0, 10))[:10] for q in queries])
    assert recall_at_k(found, _exact_top(vectors, queries, 10)) >= 0.95
    # The tuned nprobe probes a fraction of the lists, or the index would be pointless.
    assert ivf_store.describe()["nprobe"] < ivf_store.describe()["nlist"] / 2


def test_auto_policy_switches_to_ivf_at_the_threshold(
    collection: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dense_module, "ANN_MIN_PASSAGES", 4000)
    vectors = collection[0]
    store = DenseStore.empty(DIM)
    store.add(vectors[:3999])
    assert store.kind == FLAT
    store.add(vectors[3999:4001])
    assert store.kind == IVF and store.size == 4001
    # Exact search stays exact whatever the size.
    fixed = DenseStore.empty(DIM, FLAT)
    fixed.add(vectors)
    assert fixed.kind == FLAT


def test_keep_preserves_rows_and_their_order(ivf_store: DenseStore) -> None:
    rows = np.arange(ROWS - 1, -1, -2)
    kept = ivf_store.keep(rows)
    assert kept.kind == IVF and kept.size == len(rows)
    # Decoded 8-bit vectors re-encode to the same codes: nothing drifts.
    np.testing.assert_array_equal(kept.vectors(), ivf_store.vectors(rows))


def test_filtered_search_is_exact_among_allowed_rows(
    ivf_store: DenseStore, collection: tuple[np.ndarray, np.ndarray]
) -> None:
    query = collection[1][0]
    allowed = np.arange(0, ROWS, 37)
    rows, scores = ivf_store.search(query, 5, allowed)
    expected = allowed[np.argsort(-(ivf_store.vectors(allowed) @ query), kind="stable")[:5]]
    np.testing.assert_array_equal(rows, expected)
    assert np.all(np.diff(scores) <= 0)


def test_ivf_index_round_trips_through_the_index_folder(
    ivf_store: DenseStore, corpus_dir: Path, tmp_path: Path
) -> None:
    """A saved IVF index loads back with its kind, lists, nprobe and policy."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(corpus_dir.iterdir()))
    sentences = [text[span.start : span.end] for span in split_sentences(text)]
    documents = tuple(
        text_document(f"{sentences[i % len(sentences)]} (bản {i})", f"doc-{i}", "report")
        for i in range(ROWS)
    )
    passages = tuple(p for d in documents for p in split_document(d))
    assert len(passages) == ROWS
    data = IndexData(
        EmbedderInfo("synthetic", DIM, "none"),
        documents,
        passages,
        ivf_store,
        LexicalStore.build([p.indexed_text for p in passages]),
        now_iso(),
    )
    save_index(tmp_path / "ix", data)
    assert read_manifest(tmp_path / "ix")["dense"] == {**ivf_store.describe(), "policy": IVF}
    loaded = load_index(tmp_path / "ix").dense
    assert loaded.describe() == ivf_store.describe() and loaded.policy == IVF
    query = ivf_store.vectors(np.array([5]))[0]
    np.testing.assert_array_equal(loaded.search(query, 10)[0], ivf_store.search(query, 10)[0])


def test_too_few_rows_stay_exact_even_when_ivf_is_asked_for(ivf_store: DenseStore) -> None:
    assert ivf_store.keep(range(100)).kind == FLAT
