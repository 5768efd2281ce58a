"""Reading files in their encodings and cutting documents into passages with exact offsets."""

from __future__ import annotations

import codecs
import json
import unicodedata
from pathlib import Path

import pytest

from index.chunk import MAX_WORDS, chunk_text, split_sentences
from index.documents import decode_bytes, read_paths
from index.errors import UnsupportedFile
from index.passages import split_document

TEXT = "Đồng chí Hà Đức Tập chủ trì hội nghị ở Chiêm Hóa ngày 19/7/2022."
TONES = "\u0300\u0301\u0303\u0309\u0323"


def _windows_1258_form(text: str) -> str:
    """Windows-1258 spells letters with hats and horns precomposed, tones combining."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out.append(base + "".join(c for c in parts if c in TONES))
    return "".join(out)


def test_sentences_split_on_a_missing_space_but_not_on_numbers() -> None:
    text = "Có 11.963/12.011 hộ đạt chuẩn. TP. Bắc Kạn có 03 buổi năm 2022.Đồng chí Hoài dự."
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    assert sentences == [
        "Có 11.963/12.011 hộ đạt chuẩn.",
        "TP. Bắc Kạn có 03 buổi năm 2022.",
        "Đồng chí Hoài dự.",
    ]


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_passages_are_exact_spans_of_every_report(corpus_dir: Path, form: str) -> None:
    documents, skipped = read_paths([corpus_dir])
    assert len(documents) == 5 and not skipped
    for document in documents:
        document = type(document)(
            document.doc_id, document.title, unicodedata.normalize(form, document.text)
        )
        passages = split_document(document)
        assert passages, document.doc_id
        for passage in passages:
            assert document.text[passage.start : passage.end] == passage.text
            assert len(passage.text.split()) <= MAX_WORDS
        # Together the passages cover every word of the document.
        covered = {i for p in passages for i in range(p.start, p.end)}
        assert all(i in covered for i, ch in enumerate(document.text) if not ch.isspace())


def test_a_long_sentence_is_cut_below_the_word_limit() -> None:
    text = " ".join(["từ"] * (3 * MAX_WORDS)) + "."
    spans = chunk_text(text)
    assert len(spans) == 3
    assert all(len(text[s.start : s.end].split()) <= MAX_WORDS for s in spans)


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),
        unicodedata.normalize("NFD", TEXT).encode("utf-8"),
        _windows_1258_form(TEXT).encode("cp1258"),
    ],
    ids=["utf8-bom", "utf16", "nfd", "windows-1258"],
)
def test_encodings_decode_to_the_same_text(data: bytes) -> None:
    decoded = decode_bytes(data, "report.txt")
    assert unicodedata.normalize("NFC", decoded) == TEXT


def test_binary_file_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(UnsupportedFile, match=r"photo\.txt"):
        read_paths([path])


def test_jsonl_ids_titles_metadata_and_broken_line(tmp_path: Path) -> None:
    good = tmp_path / "reports.jsonl"
    good.write_text(
        json.dumps({"id": "a/1", "title": "Hội nghị", "text": TEXT, "date": "2022-07-19"}) + "\n",
        encoding="utf-8",
    )
    documents, _ = read_paths([good])
    assert [(d.doc_id, d.title, d.metadata["date"]) for d in documents] == [
        ("a/1", "Hội nghị", "2022-07-19")
    ]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(good.read_text() + "{not json\n", encoding="utf-8")
    with pytest.raises(UnsupportedFile, match=r"broken\.jsonl:2"):
        read_paths([broken])


def test_folder_ids_are_relative_paths_and_other_types_are_reported(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4")
    documents, skipped = read_paths([tmp_path])
    assert [d.doc_id for d in documents] == ["sub/a.md"]
    assert [Path(s.path).name for s in skipped] == ["b.pdf"]
