"""The BM25 store: its scores against a hand computation and bm25s, and `keep`/`add`
against fresh builds over the same texts, on the shared corpus."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np
import pytest
from conftest import EVAL

from index.documents import read_paths
from index.errors import IndexCorrupted
from index.lexical import (
    FORMS,
    K1,
    B,
    LexicalStore,
    best_rows,
    query_terms,
    spelling_keys,
    text_terms,
)
from index.normalize import unaccent
from index.passages import split_document


def _questions(name: str, count: int) -> list[str]:
    lines = (EVAL / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines[:count]]


@pytest.fixture(scope="module")
def documents(corpus_dir: Path) -> list[list[str]]:
    """The indexed texts of the shared corpus's passages, one list per document."""
    found, _ = read_paths([corpus_dir])
    return [[p.indexed_text for p in split_document(d)] for d in found]


@pytest.fixture(scope="module")
def queries() -> list[str]:
    """Questions about the corpus and XQuAD-vi ones, each also typed without diacritics."""
    questions = _questions("seed_questions_dev.jsonl", 12) + _questions(
        "xquad_vi_dev_questions.jsonl", 8
    )
    return questions + [unaccent(q) for q in questions]


def test_scores_match_a_hand_computation() -> None:
    store = LexicalStore.build(["Hội nghị", "hội nghị hội", "dân vận"])
    # Terms (plain form; the accented one is alike): row 0 hoi, nghi, hoi_nghi (dl 3);
    # row 1 hoi x2, nghi, hoi_nghi, nghi_hoi (dl 5); row 2 dan, van, dan_van (dl 3).
    # avgdl = 11/3. idf(df 2 of 3) = ln(1 + 1.5/2.5) = 0.470004.
    # K1*(1 - B + B*dl/avgdl): row 0 1.5*(0.25 + 0.75*9/11) = 1.295455, row 1 1.909091.
    # "hoi" in row 0: 0.470004 * 1/(1 + 1.295455) = 0.204754;
    #       in row 1: 0.470004 * 2/(2 + 1.909091) = 0.240467.
    np.testing.assert_allclose(store.scores("hoi"), [0.204754, 0.240467, 0], rtol=1e-5)
    # A query with diacritics is scored by both forms, which count alike here.
    np.testing.assert_allclose(store.scores("hội"), [0.409508, 0.480934, 0], rtol=1e-5)
    # "hoi nghi": three terms in each row; row 1's nghi and hoi_nghi weigh
    # 0.470004 * 1/(1 + 1.909091) = 0.161564 each: 3 * 0.204754 = 0.614262 and
    # 0.240467 + 2 * 0.161564 = 0.563595.
    np.testing.assert_allclose(store.scores("hoi nghi"), [0.614262, 0.563595, 0], rtol=1e-5)
    # A repeated query term counts again (hoi_hoi is in no row).
    np.testing.assert_allclose(store.scores("hoi hoi"), [0.409508, 0.480934, 0], rtol=1e-5)
    assert store.scores("xyz").tolist() == [0, 0, 0]
    assert store.scores("hoi").dtype == np.float32
    # idf of dan (df 1): ln(1 + 2.5/1.5) = 0.980829; unknown (df 0): ln(1 + 3.5/0.5) = ln 8.
    np.testing.assert_allclose(
        store.idf(["hoi", "dan", "xyz"]), [0.470004, 0.980829, np.log(8)], rtol=1e-5
    )
    assert store.coverage("hoi nghi xyz") == pytest.approx(2 / 3)
    assert store.restore_diacritics("hoi nghi dan van") == "hội nghị dân vận"


def _bm25s_scores(corpora: dict[str, bm25s.BM25], query: str) -> np.ndarray:
    """Reference scores: one bm25s index per form, summed as LexicalStore sums them."""
    total = np.zeros(corpora["plain"].scores["num_docs"], dtype=np.float32)
    for form, form_terms in query_terms(query).items():
        ids = corpora[form].get_tokens_ids(form_terms)
        if ids:
            total += corpora[form].get_scores_from_ids(ids)
    return total


def test_scores_equal_bm25s(documents: list[list[str]], queries: list[str]) -> None:
    texts = [text for passages in documents for text in passages]
    corpora = {}
    for form in FORMS:
        corpora[form] = bm25s.BM25(k1=K1, b=B)
        corpora[form].index([text_terms(t)[form] for t in texts], show_progress=False)
    store = LexicalStore.build(texts)
    matched = 0
    for query in queries:
        expected = _bm25s_scores(corpora, query)
        np.testing.assert_allclose(store.scores(query), expected, rtol=1e-4, err_msg=query)
        matched += int(expected.any())
    assert matched == len(queries)


def _same_answers(store: LexicalStore, fresh: LexicalStore, queries: list[str]) -> None:
    assert store.size == fresh.size
    for query in queries:
        np.testing.assert_allclose(store.scores(query), fresh.scores(query), rtol=1e-6)
        plain = unaccent(query)
        np.testing.assert_allclose(
            store.scores(plain, query), fresh.scores(plain, query), rtol=1e-6
        )
        assert store.coverage(query) == fresh.coverage(query)
        assert store.idf(spelling_keys(query)) == fresh.idf(spelling_keys(query))
        assert store.restore_diacritics(plain) == fresh.restore_diacritics(plain)


def _words_only_in(removed: list[str], kept: list[str]) -> list[str]:
    """Diacritics-free syllables of `removed` texts that no `kept` text holds."""
    known = {w for text in kept for w in text_terms(text)["plain"]}
    return sorted({w for text in removed for w in text_terms(text)["plain"]} - known)


def test_best_rows_equal_a_full_sort(documents: list[list[str]], queries: list[str]) -> None:
    """The heap selection gives what sorting every positive score gives, ties included
    (the rows of one text repeated have equal scores)."""
    texts = [text for document in documents for text in document]
    store = LexicalStore.build(texts + texts[:40])
    for query in queries:
        scores = store.scores(query)
        positive = np.flatnonzero(scores > 0)
        expected = positive[np.lexsort((positive, -scores[positive]))]
        ordered = scores[expected]
        # Every k that cuts a run of equal scores, beside a few others.
        cuts = np.flatnonzero(ordered[:-1] == ordered[1:]) + 1
        for k in (1, 7, 100, len(scores) + 5, *cuts[:20].tolist()):
            assert best_rows(scores, k).tolist() == expected[:k].tolist()
    assert best_rows(np.zeros(5, dtype=np.float32), 3).tolist() == []
    assert best_rows(np.ones(5, dtype=np.float32), 0).tolist() == []


def test_warm_computes_every_common_word_ahead(
    documents: list[list[str]], queries: list[str]
) -> None:
    """warm() caches the score vector of each word in a quarter of the rows or more, and
    the scores stay those of a store that computes them on first use."""
    texts = [text for document in documents for text in document]
    lazy, warmed = LexicalStore.build(texts), LexicalStore.build(texts)
    warmed.warm()
    common = sum(
        int(np.count_nonzero(np.diff(p.indptr) * 4 >= warmed.size)) for p in warmed._forms.values()
    )
    assert common > 0
    assert warmed.cached_bytes == common * warmed.size * 4
    for query in queries:
        assert np.array_equal(warmed.scores(query), lazy.scores(query))
    assert warmed.cached_bytes == common * warmed.size * 4


def test_keep_and_add_equal_fresh_builds(documents: list[list[str]], queries: list[str]) -> None:
    a = [t for d in documents[0::2] for t in d]  # documents 0, 2, 4
    b = [t for d in documents[1::2] for t in d]  # documents 1, 3
    c = [t for d in documents[1:4] for t in d]  # documents 1, 2, 3 again (repeats a's 2)
    gone = _words_only_in(b, a)
    assert gone, "documents 1 and 3 should hold words that documents 0, 2, 4 lack"
    checks = [*queries, " ".join(gone[:10]), *gone[:5]]

    # Remove documents 1 and 3 (rows in the middle) from an index of all five.
    interleaved = [t for d in documents for t in d]
    kept_rows = [i for i, t in enumerate(interleaved) if t in set(a)]
    kept = LexicalStore.build(interleaved).keep(kept_rows)
    fresh_a = LexicalStore.build([interleaved[i] for i in kept_rows])
    _same_answers(kept, fresh_a, checks)
    # Words left in no row are unknown again, as in a fresh build.
    assert kept.coverage(" ".join(gone)) == 0.0
    assert kept.idf(gone[:3]) == [kept.idf(["xyz"])[0]] * 3

    added = LexicalStore.build(a).add(c)
    _same_answers(added, LexicalStore.build(a + c), checks)
    # What an ingest that replaces documents 1 and 3 does: keep the rest, add the new.
    replaced = LexicalStore.build(a + b).keep(range(len(a))).add(c)
    _same_answers(replaced, LexicalStore.build(a + c), checks)
    # Keeping rows in another order reorders the score vector.
    order = list(reversed(range(len(a))))
    reordered = LexicalStore.build(a).keep(order)
    _same_answers(reordered, LexicalStore.build([a[i] for i in order]), checks)


def test_changes_leave_the_original_store_as_it_was(documents: list[list[str]]) -> None:
    texts = [t for d in documents for t in d]
    store = LexicalStore.build(texts[:20])
    query = "công tác dân vận"
    before = store.scores(query).copy()
    store.add(texts[20:])
    store.keep([3, 1])
    store.keep([])
    np.testing.assert_array_equal(store.scores(query), before)
    assert store.size == 20


def test_keep_refuses_repeated_or_missing_rows() -> None:
    store = LexicalStore.build(["một", "hai", "ba"])
    with pytest.raises(ValueError):
        store.keep([0, 0])
    with pytest.raises(IndexError):
        store.keep([3])
    with pytest.raises(IndexError):
        store.keep([-1])


def test_empty_stores_and_texts_without_words() -> None:
    for empty in (LexicalStore.empty(), LexicalStore.build([]), LexicalStore.build(["x"]).keep([])):
        assert empty.size == 0
        assert empty.scores("hội nghị").shape == (0,)
        assert empty.coverage("hội nghị") == 0.0
        assert empty.idf(["hoi"]) == [0.0]
        assert empty.restore_diacritics("hoi nghi") == "hoi nghi"
    blank = LexicalStore.build(["", "...", "hội nghị"])
    assert blank.scores("hội nghị")[:2].tolist() == [0, 0]
    assert blank.scores("hội nghị")[2] > 0


def test_save_and_load_give_the_same_store(
    documents: list[list[str]], queries: list[str], tmp_path: Path
) -> None:
    texts = [t for d in documents for t in d]
    store = LexicalStore.build(texts).keep(range(0, len(texts), 2)).add(texts[:3])
    store.save(tmp_path / "lexical")
    _same_answers(LexicalStore.load(tmp_path / "lexical"), store, queries)
    LexicalStore.empty().save(tmp_path / "empty")
    assert LexicalStore.load(tmp_path / "empty").size == 0


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _pickled(path: Path) -> None:
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)


def _other_size(path: Path) -> None:
    np.save(path, np.zeros(5, dtype=np.int32))


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("lexical.json", lambda p: p.unlink()),
        ("lexical.json", lambda p: p.write_text('{"size": 3}')),
        ("plain.rows.npy", lambda p: p.unlink()),
        ("plain.rows.npy", _truncate),
        ("accented.counts.npy", _pickled),
        ("accented.lengths.npy", _other_size),
        ("plain.indptr.npy", lambda p: np.save(p, np.zeros(2, dtype=np.int64))),
        ("plain.rows.npy", lambda p: np.save(p, np.full(np.load(p).shape, 99, np.int32))),
        ("plain.terms.json", lambda p: p.write_text('["hoi", "hoi"]')),
        ("accented.terms.json", lambda p: p.write_bytes(b"\xff[")),
    ],
)
def test_damaged_files_raise_index_corrupted(
    tmp_path: Path, name: str, damage: Callable[[Path], None]
) -> None:
    folder = tmp_path / "lexical"
    LexicalStore.build(["hội nghị", "dân vận", "hội nghị dân vận"]).save(folder)
    damage(folder / name)
    with pytest.raises(IndexCorrupted, match="BM25 index"):
        LexicalStore.load(folder)
