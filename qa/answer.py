"""Answer extraction: score the sentences of the top passages, pick a typed span, highlight.

The pipeline, for a question and its retrieved hits:
1. every sentence of every hit is scored by the IDF-weighted share of the question's
   terms it holds (and its passage holds), plus the hit's retrieval rank (and, for a
   question about when an article was published, whether it is the dateline);
2. the best sentences are searched for candidates (qa.reader): one of the asked kind (a
   person, a number with its unit, a date, a place) is ranked by the hand-set rules; a
   "what" question ranks phrases, names and the gap phrase (the clause where its question
   word would stand) by a learned score plus the rules;
3. the answer's confidence is how much of the question its passage covers, less when its
   span's type and place support it less; below the calibrated threshold the engine says
   it found no answer.
The same sentence scores (sentence_support) let the search reorder its best hits.
Spans are found on an NFC copy and mapped back, so they index the original text.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from index.chunk import split_sentences
from index.lexical import pairs, plain_syllable
from index.normalize import compose
from qa import reader
from qa.candidates import has_dateline
from qa.question import WHAT, WHEN, QuestionInfo
from qa.types import Answer, HighlightedHit, Hit, Span

NOT_FOUND = {
    "vi": "Không tìm thấy câu trả lời trong tài liệu.",
    "en": "No answer found in the documents.",
}
# Below this confidence the answer is withheld (calibrated on the seed dev sets).
MIN_CONFIDENCE = 0.40
# Sentences searched for a typed answer, and for the answer to a "what" question (the
# learned ranker alone scored CV F1 .361-.366 with 3, 4 or 8 of them; 4 keeps `ask` fast).
SENTENCES_TRIED = 8
WHAT_SENTENCES = 4
# A question about when an article was published reads its dateline first.
DATELINE_BONUS = 1.0
# e5 cosines of a question and a passage that answers it lie around 0.80-0.92.
DENSE_FLOOR = 0.78
DENSE_SPAN = 0.12
_SYLLABLE = re.compile(r"\w+")
_ROMAN = re.compile(r"[IVXLCDM]+")


@dataclass(frozen=True)
class _Sentence:
    hit: Hit
    span: Span  # in the passage
    score: float
    evidence: float  # how much of the question the sentence's passage supports, 0..1


@dataclass(frozen=True)
class _Words:
    """Diacritics-free syllables of a passage with their spans in the passage."""

    words: tuple[tuple[str, int, int], ...]
    # Words written in capitals, two letters or more ("GĐVH", "UBND"): initialisms.
    capitals: frozenset[str]

    @classmethod
    @functools.lru_cache(maxsize=256)
    def of(cls, text: str) -> _Words:
        """The words of `text`, found on its NFC form, with spans into `text` itself.

        Cached: a search's rerank and its answer read the same passages."""
        if unicodedata.is_normalized("NFC", text):
            # Most text: the spans are the regex's own, 10x faster than mapping them back.
            words = tuple((plain_syllable(m.group()), *m.span()) for m in _SYLLABLE.finditer(text))
        else:
            composed = compose(text)
            words = tuple(
                (plain_syllable(m.group()), *composed.to_original(m.start(), m.end()))
                for m in _SYLLABLE.finditer(composed.text)
            )
        capitals = frozenset(
            w
            for w, s, e in words
            if e - s > 1 and text[s:e].isupper() and not _ROMAN.fullmatch(text[s:e])
        )
        return cls(words, capitals)

    def with_initialisms(self, found: set[str], question: QuestionInfo) -> set[str]:
        """`found` (words of this text) plus the words and word pairs of each question
        phrase whose initialism it holds in capitals: "GĐVH" stands for "gia đình văn
        hóa", "KDC" for "khu dân cư"."""
        if not self.capitals:
            # Most sentences write no initialism: skip the question's phrases.
            return found
        for initials, phrase in question.initialisms:
            if initials in found and initials in self.capitals:
                found |= {*phrase, *pairs(phrase)}
        return found

    @cached_property
    def _starts(self) -> list[int]:
        return [start for _, start, _ in self.words]

    @cached_property
    def _ends(self) -> list[int]:
        return [end for _, _, end in self.words]

    def within(self, start: int, end: int) -> list[tuple[str, int, int]]:
        """The words inside [start, end), in order (words never overlap, so both their
        starts and their ends are sorted)."""
        first = bisect.bisect_left(self._starts, start)
        last = bisect.bisect_right(self._ends, end)
        return list(self.words[first:last])


def _coverage(words: set[str], terms: Sequence[str], weights: Sequence[float]) -> float:
    """IDF-weighted share of the question terms found in `words`."""
    total = sum(weights)
    if not total:
        return 0.0
    return sum(w for term, w in zip(terms, weights, strict=True) if term in words) / total


def term_spans(words: _Words, terms: Sequence[str]) -> tuple[Span, ...]:
    """Spans of the syllables that match question terms (for highlighting)."""
    wanted = set(terms)
    return tuple(Span(start, end) for word, start, end in words.words if word in wanted)


def _dense_evidence(similarity: float | None) -> float:
    """A question-passage cosine as a score in 0..1 (0 in lexical-only mode)."""
    if similarity is None:
        return 0.0
    return min(1.0, max(0.0, (similarity - DENSE_FLOOR) / DENSE_SPAN))


@dataclass(frozen=True)
class _Weighted:
    """The question's scored terms (words and word pairs) and its anchors, each with its
    IDF, looked up once per question: a lookup is a query when the index is in SQL."""

    terms: list[str]
    weights: list[float]
    anchors: list[str]
    anchor_weights: list[float]

    @classmethod
    def of(cls, question: QuestionInfo, idf: Callable[[Sequence[str]], list[float]]) -> _Weighted:
        terms = question.weighted_terms
        anchors = [*question.anchors, *question.anchor_pairs]
        weights = idf([*terms, *anchors])
        return cls(terms, weights[: len(terms)], anchors, weights[len(terms) :])

    def coverage(self, words: set[str]) -> float:
        return _coverage(words, self.terms, self.weights)

    def evidence(self, passage: set[str]) -> float:
        """IDF-weighted share of the question's anchor words and adjacent word pairs that
        a passage holds: "Hà Giang" is missing from a passage about Bắc Giang even though
        "giang" is there."""
        return _coverage(passage, self.anchors, self.anchor_weights)


def _word_set(words: _Words, title: str, question: QuestionInfo) -> set[str]:
    """The syllables and adjacent pairs of a passage and its title, with the question
    phrases their initialisms stand for."""
    title_words = _Words.of(title)
    sequence = [w for w, _, _ in words.words]
    found = {*sequence, *pairs(sequence)}
    titled = [w for w, _, _ in title_words.words]
    found = words.with_initialisms(found, question)
    return title_words.with_initialisms(found | {*titled, *pairs(titled)}, question)


def _score_sentences(
    question: QuestionInfo,
    hits: Sequence[Hit],
    words: Sequence[_Words],
    weighted: _Weighted,
) -> list[_Sentence]:
    """Sentences of all hits, best first, scored by the IDF-weighted share of the
    question's words (and adjacent word pairs) in the sentence and in its passage, the
    passage's embedding similarity to the question, and its retrieval rank; a dateline
    gets DATELINE_BONUS when the question asks when the article was published."""
    dated = question.kind == WHEN and question.published
    sentences = []
    for hit, passage_words in zip(hits, words, strict=True):
        passage_set = _word_set(passage_words, hit.title, question)
        support = weighted.evidence(passage_set)
        passage_coverage = weighted.coverage(passage_set)
        prior = 0.2 / (1.0 + 0.25 * (hit.rank - 1)) + 0.5 * _dense_evidence(hit.dense_score)
        for span, coverage in _sentence_coverages(hit.text, passage_words, question, weighted):
            score = coverage + 0.5 * passage_coverage + prior
            if dated and has_dateline(compose(hit.text[span.start : span.end]).text):
                score += DATELINE_BONUS
            sentences.append(_Sentence(hit, span, score, support))
    return sorted(sentences, key=lambda s: -s.score)


def _sentence_coverages(
    text: str, words: _Words, question: QuestionInfo, weighted: _Weighted
) -> list[tuple[Span, float]]:
    """Each sentence of a passage with the IDF-weighted share of the question it holds."""
    found = []
    for span in split_sentences(text):
        inside = [w for w, _, _ in words.within(span.start, span.end)]
        held = words.with_initialisms({*inside, *pairs(inside)}, question)
        found.append((Span(span.start, span.end), weighted.coverage(held)))
    return found


def sentence_support(
    question: QuestionInfo,
    passages: Sequence[tuple[str, str]],
    idf: Callable[[Sequence[str]], list[float]],
) -> list[float]:
    """For each (text, title) passage, the share of the question's words and word pairs
    (IDF-weighted) that its best single sentence holds, times the passage's evidence
    (its share of the question's anchors): an answer usually sits in one sentence that
    repeats the question, in a passage that names what the question names ("Chiêm Hóa")."""
    weighted = _Weighted.of(question, idf)
    supports = []
    for text, title in passages:
        words = _Words.of(text)
        best = max(
            (c for _, c in _sentence_coverages(text, words, question, weighted)), default=0.0
        )
        supports.append(best * weighted.evidence(_word_set(words, title, question)))
    return supports


@dataclass(frozen=True)
class Reading:
    """A candidate answer: its passage, sentence and span (in the passage), the evidence
    of its passage (0..1) and its reader features (qa.reader.FEATURES)."""

    hit: Hit
    sentence: Span
    span: Span
    evidence: float
    features: tuple[float, ...]


def _read(
    question: QuestionInfo,
    hits: Sequence[Hit],
    idf: Callable[[Sequence[str]], list[float]],
) -> tuple[tuple[HighlightedHit, ...], list[Reading]]:
    """The hits with their best sentences highlighted, and the candidate answers in the
    SENTENCES_TRIED best sentences."""
    words = [_Words.of(hit.text) for hit in hits]
    weighted = _Weighted.of(question, idf)
    sentences = _score_sentences(question, hits, words, weighted)
    best_sentence: dict[int, Span] = {}
    for sentence in sentences:
        best_sentence.setdefault(sentence.hit.rank, sentence.span)
    highlighted = tuple(
        HighlightedHit(hit, best_sentence.get(hit.rank), term_spans(passage_words, question.terms))
        for hit, passage_words in zip(hits, words, strict=True)
    )
    words_of = {hit.rank: passage_words for hit, passage_words in zip(hits, words, strict=True)}
    found = []
    tried = WHAT_SENTENCES if question.kind == WHAT else SENTENCES_TRIED
    for rank, sentence in enumerate(sentences[:tried]):
        start, end = sentence.span.start, sentence.span.end
        read = reader.Sentence(
            text=sentence.hit.text[start:end],
            words=[
                (w, s - start, e - start)
                for w, s, e in words_of[sentence.hit.rank].within(start, end)
            ],
            score=sentence.score,
            rank=rank,
            best_score=sentences[0].score,
            passage_rank=sentence.hit.rank,
        )
        for proposal in reader.proposals(read, question, weighted.terms, weighted.weights):
            span = Span(start + proposal.span.start, start + proposal.span.end)
            found.append(
                Reading(sentence.hit, sentence.span, span, sentence.evidence, proposal.features)
            )
    return highlighted, found


def readings(
    question: QuestionInfo,
    hits: Sequence[Hit],
    idf: Callable[[Sequence[str]], list[float]],
) -> list[Reading]:
    """The candidate answers that extract_answer chooses from (for fitting the reader)."""
    return _read(question, hits, idf)[1]


def confidence(evidence: float, sureness: float) -> float:
    """How sure an answer is: its passage's evidence, less when its span's type and place
    support it less (qa.reader.sureness)."""
    return evidence * (0.6 + 0.4 * sureness)


def extract_answer(
    question: QuestionInfo,
    hits: Sequence[Hit],
    idf: Callable[[Sequence[str]], list[float]],
) -> Answer:
    """The answer to `question` from `hits` (see the module docstring).

    idf: inverse document frequencies of diacritics-free terms.
    """
    highlighted, found = _read(question, hits, idf)
    best = max(
        found, key=lambda reading: reader.rank(reading.features, question.kind), default=None
    )
    sure = 0.0
    if best is not None:
        reading = best
        sure = confidence(reading.evidence, reader.sureness(reading.features, question.kind))
        if sure >= MIN_CONFIDENCE:
            span, offset = reading.span, reading.hit.start
            return Answer(
                question=question.text,
                found=True,
                text=reading.hit.text[span.start : span.end],
                message="",
                kind=question.kind,
                language=question.language,
                confidence=round(sure, 4),
                hit=reading.hit,
                span=span,
                document_span=Span(offset + span.start, offset + span.end),
                sentence=reading.sentence,
                passages=highlighted,
            )
    return Answer(
        question=question.text,
        found=False,
        text="",
        message=NOT_FOUND[question.language],
        kind=question.kind,
        language=question.language,
        confidence=round(sure, 4),
        hit=None,
        span=None,
        document_span=None,
        sentence=None,
        passages=highlighted,
    )
