"""`python -m qa` ingest, search, info and eval on the real corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.cli import main


def test_ingest_search_info(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    index = str(tmp_path / "ix")
    assert main(["ingest", str(corpus_dir), "--index", index]) == 0
    assert "5 added" in capsys.readouterr().out
    assert main(["ingest", str(corpus_dir), "--index", index]) == 0
    assert "5 unchanged" in capsys.readouterr().out
    assert main(["search", "Who chaired the Chiêm Hóa meeting?", "--index", index, "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["doc_id"].startswith("004_") and "Hà Đức Tập" in hits[0]["text"]
    assert main(["info", "--index", index, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == 5


def test_errors_are_messages_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["search", "hội nghị", "--index", str(tmp_path / "none")]) == 2
    assert "no index at" in capsys.readouterr().err


def test_eval_reports_metrics(
    corpus_dir: Path, saved_index: Path, capsys: pytest.CaptureFixture
) -> None:
    questions = corpus_dir.parent / "eval" / "seed_questions_dev.jsonl"
    args = ["eval", "--questions", str(questions), "--index", str(saved_index), "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["questions"] == 31
    assert result["recall@1"] >= 0.7
    assert set(result["by_variant"]) == {"plain", "english", "no-diacritics", "old-tone"}


def test_ask_prints_the_marked_answer_and_its_source(
    saved_index: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["ask", "Ai chủ trì hội nghị ở Chiêm Hóa?", "--index", str(saved_index)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Hà Đức Tập") and "[[Hà Đức Tập]]" in out and "004_" in out
    question = "Who chaired the Chiêm Hóa meeting?"
    assert main(["ask", question, "--index", str(saved_index), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] and answer["text"] == "Hà Đức Tập"
    assert answer["hit"]["text"][answer["span"]["start"] : answer["span"]["end"]] == "Hà Đức Tập"
