"""Answer extraction: score the sentences of the top passages, pick a typed span, highlight.

The pipeline, for a question and its retrieved hits:
1. every sentence of every hit is scored by the IDF-weighted share of the question's
   terms it holds (and its passage holds), plus the hit's retrieval rank (and, for a
   question about when an article was published, whether it is the dateline);
2. the best sentences are searched for candidates of the asked kind (a person, a number
   with its unit, a date, a place); a "what" question takes the clause after the words it
   shares with the question;
3. the answer's confidence is how much of the question its passage covers; below the
   calibrated threshold the engine says it found no answer.
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
from qa.candidates import Candidate, has_dateline, typed_candidates
from qa.question import WHAT, WHEN, QuestionInfo
from qa.types import Answer, HighlightedHit, Hit, Span

NOT_FOUND = {
    "vi": "Không tìm thấy câu trả lời trong tài liệu.",
    "en": "No answer found in the documents.",
}
# Below this confidence the answer is withheld (calibrated on the seed dev sets).
MIN_CONFIDENCE = 0.40
SENTENCES_TRIED = 8
# A question about when an article was published reads its dateline first.
DATELINE_BONUS = 1.0
FALLBACK_PRIOR = 0.5
# Question words this many words from a candidate count half (12: flat within a
# clause, so mostly a tie-break between candidates; 3-60 measured within 0.5 F1).
CLOSE_WORDS = 12.0
# e5 cosines of a question and a passage that answers it lie around 0.80-0.92.
DENSE_FLOOR = 0.78
DENSE_SPAN = 0.12
_SYLLABLE = re.compile(r"\w+")
_CLAUSE_END = re.compile(r"[.;:!?…]|,\s|\s[-–]\s")
_LEADING_FILLER = re.compile(
    r"(?:\W+|(?:là|gồm|bao gồm|có|được|đã|sẽ|the|is|was|were|are|of|by)\b)+\s*",
    re.IGNORECASE,
)
_TRAILING_FILLER = re.compile(r"\s+(?:là|đã|được|của|thì|và)\s*$", re.IGNORECASE)
_QUOTED = re.compile(r"[“\"«]([^”\"»]+)[”\"»]")
_LIST_END = re.compile(r"[.;!?…]")
# Parts of a sentence that keep a name with its title: "A, Chủ tịch X; B, Phó Chủ tịch Y".
_SEGMENT = re.compile(r"[^;:]+")
_LABELLED = re.compile(r"[^;:]+:\s*$")


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

    @classmethod
    @functools.lru_cache(maxsize=256)
    def of(cls, text: str) -> _Words:
        """The words of `text`, found on its NFC form, with spans into `text` itself.

        Cached: a search's rerank and its answer read the same passages."""
        if unicodedata.is_normalized("NFC", text):
            # Most text: the spans are the regex's own, 10x faster than mapping them back.
            return cls(
                tuple((plain_syllable(m.group()), *m.span()) for m in _SYLLABLE.finditer(text))
            )
        composed = compose(text)
        return cls(
            tuple(
                (plain_syllable(m.group()), *composed.to_original(m.start(), m.end()))
                for m in _SYLLABLE.finditer(composed.text)
            )
        )

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


def _word_set(words: _Words, title: str) -> set[str]:
    """The syllables and adjacent pairs of a passage and its title."""
    title_words = [w for w, _, _ in _Words.of(title).words]
    sequence = [w for w, _, _ in words.words]
    return {*sequence, *title_words, *pairs(sequence), *pairs(title_words)}


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
        passage_set = _word_set(passage_words, hit.title)
        support = weighted.evidence(passage_set)
        passage_coverage = weighted.coverage(passage_set)
        prior = 0.2 / (1.0 + 0.25 * (hit.rank - 1)) + 0.5 * _dense_evidence(hit.dense_score)
        for span, coverage in _sentence_coverages(hit.text, passage_words, weighted):
            score = coverage + 0.5 * passage_coverage + prior
            if dated and has_dateline(compose(hit.text[span.start : span.end]).text):
                score += DATELINE_BONUS
            sentences.append(_Sentence(hit, span, score, support))
    return sorted(sentences, key=lambda s: -s.score)


def _sentence_coverages(text: str, words: _Words, weighted: _Weighted) -> list[tuple[Span, float]]:
    """Each sentence of a passage with the IDF-weighted share of the question it holds."""
    found = []
    for span in split_sentences(text):
        inside = [w for w, _, _ in words.within(span.start, span.end)]
        found.append((Span(span.start, span.end), weighted.coverage({*inside, *pairs(inside)})))
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
        best = max((c for _, c in _sentence_coverages(text, words, weighted)), default=0.0)
        supports.append(best * weighted.evidence(_word_set(words, title)))
    return supports


def _gap(words: list[tuple[str, int, int]], question: QuestionInfo, size: int) -> Span:
    """Where the answer should stand in a sentence: after the last occurrence of the
    words that precede the question word, before the next occurrence of the words that
    follow it (the whole sentence when neither is found)."""
    start = 0
    for word in reversed(question.before):
        ends = [e for w, _, e in words if w == word]
        if ends:
            start = ends[-1]
            break
    end = size
    for word in question.after:
        starts = [s for w, s, _ in words if w == word and s >= start]
        if starts:
            end = starts[0]
            break
    return Span(start, end) if end > start else Span(0, size)


def _gap_phrase(sentence: str, gap: Span, question: QuestionInfo) -> Candidate | None:
    """For "what" questions: the words in the gap, cut at clause punctuation and trimmed
    of linking words ("là", "được"); after a colon the whole list is kept, and a phrase in
    quotes is kept whole."""
    start, end = gap.start, gap.end
    filler = _LEADING_FILLER.match(sentence, start)
    listed = filler is not None and ":" in filler.group()
    start = filler.end() if filler else start
    quoted = _QUOTED.match(sentence, start - 1) if start else None
    if quoted:
        # A quoted name or slogan is one answer, commas and all.
        end = quoted.end(1)
    elif question.before:
        stop = (_LIST_END if listed else _CLAUSE_END).search(sentence, start, end)
        end = stop.start() if stop else end
    else:
        # The question word opened the question: the answer ends the clause before the gap end.
        end = len(sentence[:end].rstrip(" .!?…"))
        clause_starts = [m.end() for m in _CLAUSE_END.finditer(sentence, 0, end)]
        start = max([start, *clause_starts])
    text = sentence[start:end]
    trimmed = text.rstrip(" ,;:-–")
    end = start + len(trimmed)
    trailing = _TRAILING_FILLER.search(sentence, start, end)
    if trailing:
        end = trailing.start()
    if end - start < 2:
        return None
    return Candidate(start, end, 0.5)


def _closeness(
    near: list[tuple[str, int, int]],
    start: int,
    end: int,
    terms: Sequence[str],
    weights: Sequence[float],
) -> float:
    """IDF-weighted share of the question terms among `near` words, each counted by how
    close it stands to the candidate [start, end): full weight when adjacent, half at
    CLOSE_WORDS words away."""
    total = sum(weights)
    if not total:
        return 0.0
    last_left = sum(s < start for _, s, _ in near) - 1
    first_right = len(near) - sum(s >= end for _, s, _ in near)
    distance: dict[str, int] = {}
    gaps = [max(0, last_left - index, index - first_right) for index in range(len(near))]
    for (word, _, _), gap in zip(near, gaps, strict=True):
        distance[word] = min(gap, distance.get(word, gap))
    # Adjacent pairs ("cong_nhan"), as far as their farther syllable.
    for index, pair in enumerate(pairs([word for word, _, _ in near])):
        gap = max(gaps[index], gaps[index + 1])
        distance[pair] = min(gap, distance.get(pair, gap))
    found = sum(
        weight * 0.5 ** (distance[term] / CLOSE_WORDS)
        for term, weight in zip(terms, weights, strict=True)
        if term in distance
    )
    return found / total


def _candidates(
    sentence: str,
    words: list[tuple[str, int, int]],
    question: QuestionInfo,
    weighted: _Weighted,
) -> list[tuple[Span, float]]:
    """Scored answer spans in one sentence (offsets within the sentence)."""
    gap = _gap(words, question, len(sentence))
    phrase = _gap_phrase(sentence, gap, question)
    gap_answer = [(Span(phrase.start, phrase.end), phrase.prior)] if phrase else []
    if question.kind == WHAT:
        return gap_answer
    composed = compose(sentence)
    terms = set(question.terms)
    segments = [m.span() for m in _SEGMENT.finditer(sentence)]
    scored = []
    for candidate in typed_candidates(composed.text, question):
        start, end = composed.to_original(candidate.start, candidate.end)
        inside = [w for w, s, e in words if s >= start and e <= end]
        # An answer that only repeats the question ("năm 2022" asked, "năm 2022" found).
        if inside and all(w in terms for w in inside):
            continue
        segment = next(((a, b) for a, b in segments if a <= start < b), (0, len(sentence)))
        # "Lượt xem: 1748": a value right after a colon belongs with the label before it.
        label = _LABELLED.search(sentence, 0, start)
        first = label.start() if label else segment[0]
        near = [(w, s, e) for w, s, e in words if first <= s < segment[1]]
        closeness = _closeness(near, start, end, weighted.terms, weighted.weights)
        placed = 0.5 if gap.start <= start and end <= gap.end else 0.0
        scored.append((Span(start, end), candidate.prior + closeness + placed))
    # No span of the asked type: the words where the answer should stand, less trusted.
    return scored or [(span, FALLBACK_PRIOR * prior) for span, prior in gap_answer]


def extract_answer(
    question: QuestionInfo,
    hits: Sequence[Hit],
    idf: Callable[[Sequence[str]], list[float]],
) -> Answer:
    """The answer to `question` from `hits` (see the module docstring).

    idf: inverse document frequencies of diacritics-free terms.
    """
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
    best: tuple[float, _Sentence, Span, float] | None = None
    for sentence in sentences[:SENTENCES_TRIED]:
        text = sentence.hit.text[sentence.span.start : sentence.span.end]
        local_words = [
            (w, s - sentence.span.start, e - sentence.span.start)
            for w, s, e in words_of[sentence.hit.rank].within(
                sentence.span.start, sentence.span.end
            )
        ]
        for local, prior in _candidates(text, local_words, question, weighted):
            total = sentence.score + prior
            if best is None or total > best[0]:
                span = Span(sentence.span.start + local.start, sentence.span.start + local.end)
                best = (total, sentence, span, prior)
    confidence = 0.0
    if best is not None:
        _, sentence, span, prior = best
        confidence = sentence.evidence * (0.6 + 0.4 * min(1.0, prior))
        if confidence >= MIN_CONFIDENCE:
            offset = sentence.hit.start
            return Answer(
                question=question.text,
                found=True,
                text=sentence.hit.text[span.start : span.end],
                message="",
                kind=question.kind,
                language=question.language,
                confidence=round(confidence, 4),
                hit=sentence.hit,
                span=span,
                document_span=Span(offset + span.start, offset + span.end),
                sentence=sentence.span,
                passages=highlighted,
            )
    return Answer(
        question=question.text,
        found=False,
        text="",
        message=NOT_FOUND[question.language],
        kind=question.kind,
        language=question.language,
        confidence=round(confidence, 4),
        hit=None,
        span=None,
        document_span=None,
        sentence=None,
        passages=highlighted,
    )
