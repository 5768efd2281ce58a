"""The app's parts without a server: HTML rendering, uploaded files, the cached corpus index."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import docx
import pytest
from app_server import SAMPLES
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from qa import Engine
from qa.corpus_index import open_corpus_index
from qa.render import answer_html, answer_json, highlight
from qa.types import Answer, HighlightedHit, Hit, Span
from qa.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, read_upload, read_uploads

HOSTILE = 'Ông <b onmouseover="x()">Tập</b> & <script>alert(1)</script> chủ trì.'


def _hit(text: str, rank: int = 1) -> Hit:
    return Hit(rank, "doc.txt", "<Tiêu đề>", 10, 10 + len(text), text, 1.0, 0.5, 2.0)


def test_highlight_nests_the_answer_inside_the_sentence() -> None:
    text = "Mở đầu. Chủ trì là Hà Đức Tập. Kết thúc."
    sentence = Span(8, 30)
    answer = Span(text.index("Hà"), text.index("Hà") + len("Hà Đức Tập"))
    assert highlight(text, sentence, [answer], "answer") == (
        'Mở đầu. <span class="sentence">Chủ trì là <mark class="answer">Hà Đức Tập</mark>.'
        "</span> Kết thúc."
    )


def test_marks_crossing_the_sentence_edge_are_split() -> None:
    html = highlight("abcdef", Span(2, 4), [Span(1, 3)], "x")
    assert (
        html == 'a<mark class="x">b</mark><span class="sentence"><mark class="x">c</mark>d</span>ef'
    )


def test_document_text_is_escaped_never_injected() -> None:
    hit = _hit(HOSTILE)
    start = HOSTILE.index("Tập")
    answer = Answer(
        question="Ai?",
        found=True,
        text="Tập",
        message="",
        kind="who",
        language="vi",
        confidence=0.9,
        hit=hit,
        span=Span(start, start + 3),
        document_span=Span(10 + start, 13 + start),
        sentence=Span(0, len(HOSTILE)),
        passages=(HighlightedHit(hit, None, ()), HighlightedHit(_hit(HOSTILE, 2), None, ())),
    )
    page = answer_html(answer)
    assert "<script>" not in page and "<b onmouseover" not in page and "<Tiêu" not in page
    assert "&lt;script&gt;" in page and '<mark class="answer">Tập</mark>' in page
    assert page.count('class="passage"') == 1  # the answer's own passage is not repeated
    data = answer_json(answer)
    assert data["passage"][data["spans"]["answer"]["start"] :].startswith("Tập")


def test_not_found_reply_says_so_in_english_with_closest_passages() -> None:
    hits = tuple(HighlightedHit(_hit("đoạn văn", rank), None, ()) for rank in (1, 2))
    answer = Answer("Who?", False, "", "No answer found.", "who", "en", 0.0, *[None] * 4, hits)
    page = answer_html(answer)
    assert "No answer found." in page and "Closest passages (2)" in page
    assert '<details class="passages" open>' in page
    assert answer_json(answer)["source"] is None


def _pdf(path: Path, lines: list[str]) -> None:
    """A one-page PDF with a real text layer (standard Helvetica, so ASCII text)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    body = "".join(
        f"BT /F1 12 Tf 72 {720 - 20 * i} Td ({line}) Tj ET\n" for i, line in enumerate(lines)
    )
    stream = DecodedStreamObject()
    stream.set_data(body.encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as handle:
        writer.write(handle)


def test_pdf_and_docx_uploads_become_documents(tmp_path: Path) -> None:
    _pdf(
        tmp_path / "tan-an.pdf", ["Hoi nghi xa Tan An", "Chu tri hoi nghi la ong Nguyen Van Binh."]
    )
    word = docx.Document()
    word.add_paragraph("Hội nghị xã Tân Lập")
    word.add_paragraph("Chủ trì hội nghị là bà Lò Thị Mai.")
    word.save(tmp_path / "tan-lap.docx")
    pdf, docx_document = (read_upload(tmp_path / name) for name in ("tan-an.pdf", "tan-lap.docx"))
    assert pdf.doc_id == "tan-an.pdf" and pdf.title == "Hoi nghi xa Tan An"
    assert "Nguyen Van Binh" in pdf.text
    assert docx_document.title == "Hội nghị xã Tân Lập" and "Lò Thị Mai" in docx_document.text


@pytest.mark.parametrize("name", ["../../../tmp/x.txt", "..\\..\\x.txt", "/etc/x.txt", "x.txt"])
def test_upload_names_lose_their_folders(tmp_path: Path, name: str) -> None:
    (tmp_path / "upload.bin").write_text("Báo cáo của xã.", encoding="utf-8")
    document = read_upload(tmp_path / "upload.bin", name)
    assert document.doc_id == "x.txt"


def test_each_refused_upload_gets_its_own_message(tmp_path: Path) -> None:
    files = {
        "tool.exe": b"MZ",
        "broken.pdf": b"not a pdf",
        "broken.docx": b"PK\x03\x04 not a zip",
        "scan.txt": bytes(range(256)) * 8,
        "empty.md": b"  \n",
        "big.txt": b"a" * (MAX_UPLOAD_BYTES + 1),
        "good.txt": "Báo cáo ngắn.".encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    seen: list[str] = []
    documents, refused = read_uploads(
        [tmp_path / name for name in files], lambda i, name: seen.append(name)
    )
    assert seen == list(files)
    assert [document.doc_id for document in documents] == ["good.txt"]
    expected = ["type .exe", "readable PDF", "readable .docx", "not readable as text", "no text"]
    expected.append("limit per file")
    assert len(refused) == len(expected)
    for message, name, words in zip(refused, files, expected, strict=False):
        assert message.startswith(f"{name}: ") and words in message
        assert str(tmp_path) not in message


def test_too_many_files_are_refused_by_name(tmp_path: Path) -> None:
    paths = []
    for i in range(MAX_UPLOAD_FILES + 2):
        paths.append(tmp_path / f"r{i}.txt")
        paths[-1].write_text(f"Báo cáo số {i}.", encoding="utf-8")
    documents, refused = read_uploads(paths)
    assert len(documents) == MAX_UPLOAD_FILES
    assert refused == [
        f"r20.txt, r21.txt: at most {MAX_UPLOAD_FILES} files per upload; add them next time."
    ]


def test_corpus_index_is_built_once_reused_and_rebuilt_on_change(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    folder = tmp_path / "index"
    caplog.set_level(logging.INFO, logger="qa")

    def opened() -> tuple[int, bool]:
        caplog.clear()
        documents = open_corpus_index(corpus, folder, embedder=engine.embedder).info().documents
        return documents, any("indexing" in r.message for r in caplog.records)

    assert opened() == (5, True)
    assert opened() == (5, False)
    (corpus / "new.md").write_text("# Báo cáo mới\n\nMột hội nghị khác.", encoding="utf-8")
    assert opened() == (6, True)
    (corpus / "notes.bin").write_bytes(b"\x00")  # not a corpus file: no rebuild
    assert opened() == (6, False)
