"""The trained reader that `make test` (like `make run`) trains from ../shared/eval: its
training windows, what it reads, how `ask` uses it, and a damaged copy."""

from __future__ import annotations

import functools
import hashlib
import logging
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from conftest import EVAL

from models.span_reader import INFO_FILE, SpanReader, load_span_reader, reader_dir
from models.span_reader_training import XQUAD_PASSAGES, XQUAD_QUESTIONS, read_xquad, windows
from qa import Engine
from qa.answer import (
    Reading,
    _echoes,
    _overrules,
    _rules_weak,
    _Sentence,
    _Sentences,
    _trained_span,
    _Words,
    extract_answer,
)
from qa.cli import _reader_note
from qa.question import NUMBER, WHAT, WHEN, WHO, analyse
from qa.reader import FEATURES
from qa.types import Hit, Span

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
# Own text, not in any training set: a made-up commune's report.
REPORT = (
    "Ngày 12/3/2024, Ủy ban nhân dân xã Tân Lập tổ chức hội nghị sơ kết quý I. "
    "Bà Nguyễn Thị Lan, Chủ tịch UBND xã, chủ trì hội nghị. "
    "Trong quý, xã đã làm mới 4,5 km đường bê tông và trồng 3.200 cây keo trên đồi Nà Mạ. "
    "Nguồn vốn chủ yếu đến từ chương trình nông thôn mới."
)
QUESTIONS = {
    "Ai chủ trì hội nghị sơ kết quý I?": "Nguyễn Thị Lan",
    "Ai là Chủ tịch UBND xã Tân Lập?": "Nguyễn Thị Lan",
    "Xã Tân Lập trồng cây keo ở đâu?": "đồi Nà Mạ",
    "Nguồn vốn chủ yếu đến từ đâu?": "chương trình nông thôn mới",
    "Nguồn vốn chủ yếu đến từ chương trình gì?": "nông thôn mới",
    "Xã đã làm mới bao nhiêu km đường bê tông?": "4,5 km",
    "Xã trồng bao nhiêu cây keo?": "3.200",
    "Hội nghị sơ kết quý I được tổ chức vào ngày nào?": "12/3/2024",
}


@pytest.fixture(scope="module")
def reader() -> SpanReader:
    found = load_span_reader()
    if found is None:
        pytest.fail(f"no trained reader in {reader_dir()}: `make reader` trains it")
    return found


def test_reader_records_what_it_learnt_from(reader: SpanReader) -> None:
    learnt = [EVAL / XQUAD_QUESTIONS, EVAL / XQUAD_PASSAGES, *sorted(SAMPLES.glob("*.txt"))]
    digests = tuple(hashlib.sha256(path.read_bytes()).hexdigest() for path in learnt)
    assert reader.info.sources == digests
    assert reader.info.questions == len(read_xquad(EVAL))


def test_training_windows_label_the_answer_tokens() -> None:
    from transformers import AutoTokenizer

    from models.convert_e5 import converted_model_dir

    tokenizer = AutoTokenizer.from_pretrained(str(converted_model_dir()), local_files_only=True)
    example = read_xquad(EVAL)[0]
    found = windows(tokenizer, example)
    labelled = [w for w in found if w.label != (0, 0)]
    assert labelled, "the answer lies in some window"
    first, last = labelled[0].label
    pointed = "".join(tokenizer.decode(labelled[0].ids[first : last + 1]).split()).casefold()
    answer = "".join(example.context[example.start : example.end].split()).casefold()
    # The first and last tokens cover the answer, and little more.
    assert answer in pointed and len(pointed) <= len(answer) + 6


def test_reader_answers_questions_on_unseen_text(reader: SpanReader) -> None:
    overlapping = 0
    for question, expected in QUESTIONS.items():
        span = reader.read(question, REPORT)
        assert span is not None and 0 <= span.start < span.end <= len(REPORT)
        assert 0.0 < span.probability <= 1.0
        start = REPORT.index(expected)
        overlapping += span.start < start + len(expected) and start < span.end
    # Measured: 7 of 8 (it reads "3.200" for the kilometres of road).
    assert overlapping >= 6


def test_trained_span_indexes_nfd_text(reader: SpanReader) -> None:
    text = unicodedata.normalize("NFD", REPORT)
    hit = Hit(1, "report.txt", "report", 0, len(text), text, 1.0, 0.9, 1.0)
    last = _Sentences.of(text).spans[-1]
    question = analyse("Nguồn vốn chủ yếu đến từ chương trình gì?")
    found = _trained_span(reader, question, _Sentence(hit, last, 1.0, 1.0))
    assert found is not None
    span, probability = found
    assert 0.0 < probability <= 1.0
    assert last.start <= span.start < span.end <= last.end
    assert "nông thôn" in unicodedata.normalize("NFC", text[span.start : span.end])
    answer = extract_answer(question, [hit], lambda terms: [1.0] * len(terms), reader)
    assert answer.found and answer.span is not None
    assert text[answer.span.start : answer.span.end] == answer.text


def test_ask_uses_the_installed_reader_unless_told_not_to(
    engine: Engine, reader: SpanReader
) -> None:
    fresh = Engine(engine.embedder, engine._backend)
    assert fresh.span_reader is reader
    fresh.span_reader = None
    answer = fresh.ask("Ai chủ trì hội nghị ở Chiêm Hóa?")
    assert answer.found and answer.text == "Hà Đức Tập"


def test_eval_says_when_the_reader_learnt_from_the_questions(engine: Engine) -> None:
    assert _reader_note(engine, EVAL / XQUAD_QUESTIONS)["in_sample"] is True
    assert _reader_note(engine, EVAL / "seed_questions_dev.jsonl")["in_sample"] is False


def test_damaged_reader_is_refused_not_loaded(
    reader: SpanReader,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("VIETQA_CACHE_DIR", str(tmp_path))
    copy = reader_dir()
    shutil.copytree(reader.folder, copy)
    onnx = copy / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[: onnx.stat().st_size // 2])
    with caplog.at_level(logging.WARNING):
        assert load_span_reader.__wrapped__() is None
    assert "files missing, truncated or changed" in caplog.text
    (copy / INFO_FILE).write_text("{", encoding="utf-8")
    assert load_span_reader.__wrapped__() is None


def test_xquad_offsets_are_checked(tmp_path: Path) -> None:
    for name in ("xquad_vi_dev_passages.jsonl", XQUAD_QUESTIONS):
        text = (EVAL / name).read_text(encoding="utf-8")
        if name == XQUAD_QUESTIONS:
            text = text.replace('"answer_starts": [', '"answer_starts": [7', 1)
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="Answer offset"):
        read_xquad(tmp_path)


def _rules_answer(text: str, asked: bool = True) -> Reading:
    """The rules' answer `text`, as its whole one-sentence passage: of the asked type, or
    the gap phrase standing in for it."""
    hit = Hit(1, "report.txt", "report", 0, len(text), text, 1.0, 0.9, 1.0)
    features = [0.0] * len(FEATURES)
    features[FEATURES.index("asked_prior")] = 1.0 if asked else 0.0
    return Reading(hit, Span(0, len(text)), Span(0, len(text)), 1.0, tuple(features))


def test_reader_may_overrule_what_when_foreign_names_other_places_and_fallbacks_only() -> None:
    who = analyse("Ai chủ trì hội nghị?")
    assert _rules_weak(analyse("Hội nghị bàn về vấn đề gì?"), _rules_answer("công tác dân vận"))
    assert _rules_weak(analyse("Hội nghị họp khi nào?"), _rules_answer("14/7/2022"))
    assert _rules_weak(who, _rules_answer("Peyton Manning"))
    assert not _rules_weak(who, _rules_answer("Hà Đức Tập"))
    assert not _rules_weak(who, _rules_answer(unicodedata.normalize("NFD", "Đặng Thị Hoa")))
    assert not _rules_weak(analyse("Có bao nhiêu mô hình?"), _rules_answer("166 mô hình"))
    body = analyse("Đơn vị nào tổ chức hội nghị sơ kết?")
    assert not _rules_weak(body, _rules_answer("Ban Dân vận Huyện ủy Chiêm Hóa"))
    # The gap phrase where no body was found is no body.
    assert _rules_weak(body, _rules_answer("tổ chức hội nghị sơ kết", asked=False))
    where = analyse("Nhà tình nghĩa được xây ở đâu?")
    assert not _rules_weak(where, _rules_answer("tổ 10, phường Phùng Chí Kiên"))
    assert not _rules_weak(where, _rules_answer("xã Tân Thịnh"))
    assert _rules_weak(where, _rules_answer("Bắc và Tây Phi"))


def _overrules_in(text: str, rules: str, read: str, probability: float, kind: str) -> bool:
    """_overrules on a one-sentence passage `text`: the rules' answer `rules` against the
    reader's span `read` (each the first place it stands)."""
    hit = Hit(1, "report.txt", "report", 0, len(text), text, 1.0, 0.9, 1.0)
    whole = Span(0, len(text) - 1)
    start, first = text.index(rules), text.index(read)
    reading = Reading(hit, whole, Span(start, start + len(rules)), 1.0, ())
    trained = (Span(first, first + len(read)), probability)
    return _overrules(trained, reading, _Sentence(hit, whole, 1.0, 1.0), kind)


def test_reader_span_inside_the_rules_answer_wins_for_what_only() -> None:
    text = (
        "Ban Dân vận Huyện ủy Chiêm Hóa và lực lượng vũ trang đã vận động 73 công dân lên "
        "đường nhập ngũ năm 2022 (huyện Chiêm Hoá)."
    )
    overrules = functools.partial(_overrules_in, text)

    # "What": the rules' clause holds the reader's shorter phrase, which wins when probable.
    assert overrules("vận động 73 công dân lên đường nhập ngũ", "73 công dân", 0.5, WHAT)
    assert not overrules("vận động 73 công dân lên đường nhập ngũ", "73 công dân", 0.05, WHAT)
    # A number keeps the rules' unit; a different number from the reader wins.
    assert not overrules("73 công dân", "73", 0.9, NUMBER)
    assert overrules("73 công dân", "năm 2022", 0.9, NUMBER)
    # Old and new tone placement (hoá/hóa) are the same text.
    assert not overrules("Ban Dân vận Huyện ủy Chiêm Hóa", "Chiêm Hoá", 0.9, WHO)


def test_reader_replaces_a_date_only_with_another_whole_date() -> None:
    text = "Năm 2021 huyện lập tổ công tác, đến tháng 5 năm 2022 mới hoạt động."
    overrules = functools.partial(_overrules_in, text)
    assert overrules("Năm 2021", "tháng 5 năm 2022", 0.5, WHEN)
    # Not when unsure, not with words around a date, nor with a part of the same date.
    assert not overrules("Năm 2021", "tháng 5 năm 2022", 0.2, WHEN)
    assert not overrules("Năm 2021", "mới hoạt động", 0.9, WHEN)
    assert not overrules("tháng 5 năm 2022", "năm 2022", 0.9, WHEN)


def test_reader_item_of_the_rules_list_does_not_win() -> None:
    text = "Ban lắng nghe nhân dân qua các kênh, bao gồm: Số hotline, email, fanpage của tỉnh."
    rules = "Số hotline, email, fanpage"
    assert not _overrules_in(text, rules, "hotline", 0.5, WHAT)
    assert not _overrules_in(text, rules, "bao gồm: Số hotline", 0.5, WHAT)
    # A span holding the whole list, or a phrase that is no list, still wins.
    assert _overrules_in(text, rules, "các kênh, bao gồm: Số hotline, email, fanpage", 0.5, WHAT)
    assert _overrules_in(text, "lắng nghe nhân dân qua các kênh", "các kênh", 0.5, WHAT)


@pytest.mark.parametrize(
    ("question", "sentence", "echoes"),
    [
        # The words after "ai" ("tác giả bài báo") must come back in the answer's sentence.
        ("Ai là tác giả bài báo về hội nghị?", "Tác giả bài báo là Lê Văn An.", True),
        ("Ai là tác giả bài báo về hội nghị?", "Đồng chí Ngô Mạnh Điềm dự hội nghị.", False),
        # ...or the words before "nào", written without diacritics or in NFD.
        ("Cong trinh nao cua Luther tro nen pho bien?", "Kinh Thánh là công trình lớn.", True),
        ("Công trình nào phổ biến?", unicodedata.normalize("NFD", "Công trình ấy."), True),
        # An English question has no such words: never.
        ("Who wrote the article?", "The article was written by Lê Văn An.", False),
    ],
)
def test_unsure_answer_needs_its_sentence_to_echo_the_question(
    question: str, sentence: str, echoes: bool
) -> None:
    assert _echoes(analyse(question), _Words.of(sentence), Span(0, len(sentence))) is echoes


def test_a_long_span_must_be_clearly_more_probable_than_a_short_one() -> None:
    """Decoding alone, on given scores: the span "b c d" is a little more probable than
    "b", so the shorter one wins (LENGTH_DECAY); the probability told is the span's own."""
    context = "a b c d"
    offsets = [(0, 1), (2, 3), (4, 5), (6, 7)]
    # Start at "b" for sure; end at "b" or "d", "d" slightly more likely.
    starts = [-9.0, 9.0, -9.0, -9.0]
    ends = [-9.0, 0.0, -9.0, 0.05]

    class Scored(SpanReader):
        def __init__(self) -> None:  # no model: only read()'s decoding is tested
            pass

        def scores(self, question: str, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
            return np.array(list(zip(starts, ends, strict=True))), offsets

    found = Scored().read("?", context)
    assert found is not None and context[found.start : found.end] == "b"
    assert 0.3 < found.probability < 0.5
    ends[3] = 1.0  # now "b c d" is clearly more probable
    found = Scored().read("?", context)
    assert found is not None and context[found.start : found.end] == "b c d"
