"""Cloze questions the trained reader learns from besides the marked ones
(qa.reader_training), on the project's own sample reports and XQuAD-vi passages."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

from conftest import EVAL

from models.span_reader_training import read_xquad
from qa.reader_training import _object_phrases, clozes, training_set

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "samples").glob("*.txt"))
QUESTION_WORDS = ("ai", "khi nào", "đâu", "gì", "bao nhiêu")


def test_clozes_ask_for_a_typed_span_where_it_stood() -> None:
    made = [
        c for path in SAMPLES for c in clozes(path.read_text("utf-8"), path.stem, random.Random(0))
    ]
    assert len(made) >= 20
    answers = [c.context[c.start : c.end] for c in made]
    for cloze, answer in zip(made, answers, strict=True):
        assert answer and answer == answer.strip()
        assert cloze.question.endswith("?")
        assert any(word in cloze.question.casefold() for word in QUESTION_WORDS)
    # The answer is replaced by its question word (it may also stand elsewhere).
    assert sum(a not in c.question for c, a in zip(made, answers, strict=True)) >= 0.9 * len(made)
    assert "Hà Đức Tập" in answers, "a person chairing the Chiêm Hóa meeting"
    assert any(a[0].isdigit() for a in answers)


def test_a_what_cloze_asks_for_the_noun_phrase_after_a_verb() -> None:
    sentence = "Buổi làm việc thống nhất sáu nhóm giải pháp cho thời gian tới."
    phrases = [sentence[start:end] for start, end in _object_phrases(sentence)]
    assert "sáu nhóm giải pháp" in phrases
    # Nothing after the verb but a preposition: no phrase.
    assert _object_phrases("Hội nghị diễn ra tại hội trường.") == []


def test_clozes_of_nfd_text_are_those_of_nfc_text() -> None:
    text = SAMPLES[0].read_text("utf-8")
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert clozes(nfd, "s", random.Random(3)) == clozes(text, "s", random.Random(3))


def test_training_set_is_the_questions_then_the_same_clozes_every_time() -> None:
    questions = read_xquad(EVAL)[:30]
    first = training_set(questions, SAMPLES[:2])
    assert first == training_set(questions, SAMPLES[:2])
    assert first[:30] == questions and len(first) > 40
    contexts = {q.context for q in questions} | {
        unicodedata.normalize("NFC", p.read_text("utf-8")) for p in SAMPLES[:2]
    }
    assert all(c.context in contexts for c in first[30:])
