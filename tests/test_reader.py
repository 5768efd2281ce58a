"""The span reader: candidates and features on real sentences (no index)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from index.lexical import plain_syllable
from index.normalize import compose
from qa import reader
from qa.question import analyse

# XQuAD-vi dev, passage 0-0: the answer to "bao nhiêu lần" is a number word, "mười".
PRICE = "Sẽ chỉ công bằng khi từ bây giờ các ông trả tiền dầu cao hơn. Ví dụ như mười lần."


def _sentence(text: str) -> reader.Sentence:
    composed = compose(text)
    words = [
        (plain_syllable(m.group()), *composed.to_original(*m.span()))
        for m in re.finditer(r"\w+", composed.text)
    ]
    return reader.Sentence(text, words, score=1.0, rank=0, best_score=1.0, passage_rank=1)


def _proposed(text: str, question: str) -> list[str]:
    asked = analyse(question)
    terms = list(asked.terms)
    found = reader.proposals(_sentence(text), asked, terms, [1.0] * len(terms))
    return [text[p.span.start : p.span.end] for p in found]


def test_a_number_word_is_a_candidate(corpus_dir: Path) -> None:
    passages = corpus_dir.parent / "eval" / "xquad_vi_dev_passages.jsonl"
    first = json.loads(passages.read_text(encoding="utf-8").splitlines()[0])
    assert PRICE in first["text"]
    question = "Các quốc gia khác phải trả bao thêm bao nhiêu lần cho giá dầu?"
    assert "mười lần" in _proposed(PRICE, question)


def test_a_number_word_takes_the_counted_unit() -> None:
    text = "Đội thủ tự hào với bốn lựa chọn Pro Bowl."
    assert "bốn lựa chọn" in _proposed(text, "Đội thủ có bao nhiêu lựa chọn?")


def test_a_what_question_gets_phrases_and_names() -> None:
    text = "Đội hình có hậu vệ tham gia Pro Bowl Kurt Coleman, người dẫn đầu đội bóng."
    found = _proposed(text, "Hậu vệ tham gia Pro Bowl là gì?")
    assert "Kurt Coleman" in found and "người dẫn đầu đội bóng" in found


def test_spans_of_a_decomposed_sentence_index_the_original() -> None:
    composed = "Tesla qua đời vào ngày 7 tháng 1 năm 1943 tại Thành phố New York."
    decomposed = unicodedata.normalize("NFD", composed)
    question = "Tesla mất ở đâu?"
    found = _proposed(decomposed, question)
    assert found and all(unicodedata.is_normalized("NFD", text) for text in found)
    assert [unicodedata.normalize("NFC", text) for text in found] == _proposed(composed, question)


def test_every_feature_has_a_coefficient() -> None:
    assert set(reader.COEFFICIENTS) == set(reader.FEATURES)
    features = reader.proposals(
        _sentence(PRICE), analyse("Giá dầu là gì?"), ["gia", "dau"], [1.0, 1.0]
    )[0].features
    assert len(features) == len(reader.FEATURES)
