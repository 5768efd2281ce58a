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
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from index.chunk import split_sentences
from index.lexical import pairs, plain_syllable
from index.normalize import compose, fold, unaccent
from models.span_reader import SpanReader
from qa import reader
from qa.candidates import SURNAMES, dates, has_dateline, places
from qa.question import NUMBER, WHAT, WHEN, WHERE, WHO, QuestionInfo, with_marks
from qa.types import Answer, HighlightedHit, Hit, Span

NOT_FOUND = {
    "vi": "Không tìm thấy câu trả lời trong tài liệu.",
    "en": "No answer found in the documents.",
}
# Below this confidence the answer is withheld (calibrated on the seed dev sets).
MIN_CONFIDENCE = 0.40
# A number that does not count what the question counts ("bao nhiêu cán bộ" answered
# "gần 11 nghìn" of something else) keeps this share of its confidence.
UNITLESS_NUMBER = 0.5
# A sum of money asked for ("kinh phí", "how much did it cost") and a number without its
# currency found: this share, below the bar however sure its passage.
NO_CURRENCY = 0.3
# A byline names a person or a body in a few words ("Ban Dân vận huyện uỷ Chiêm Hoá").
BYLINE_WORDS = 7
_BYLINE = re.compile(r"(?i:tác giả|bài và ảnh|bài, ảnh|bài:|nguồn)\b")
_BYLINE_EDGES = " \t\n()[]-–—.,:"
# An answer whose passage (and title) lacks a body's initialism, a place or a year the
# question names keeps this share (_holds_names).
MISSING_NAME = 0.5
# A "who" answer whose sentence gives the asked title only to a deputy ("Phó Bí thư" for
# "Bí thư"), or only to the head when the deputy is asked, keeps this share.
OTHER_TITLE = 0.3
# Titles a "who" question asks for, diacritics-free ("Phó" before one: the deputy's).
_TITLES = ("bi thu", "chu tich", "truong ban", "giam doc", "truong phong", "chanh van phong")
BODY_INITIALISMS = {
    "UBND": "uy ban nhan dan",
    "HĐND": "hoi dong nhan dan",
    "MTTQ": "mat tran to quoc",
}
# Units of measure, money, time and share (diacritics-free).
_MEASURES = frozenset(
    "km km2 m m2 m3 cm mm ha hecta tan kg gam dam vuong khoi lit do phan tram ty trieu "
    "nghin ngan dong usd nam thang ngay gio phut giay tuoi lan".split()
)
# Sentences searched for a typed answer, and for the answer to a "what" question (the
# learned ranker alone scored CV F1 .361-.366 with 3, 4 or 8 of them; 4 keeps `ask` fast).
SENTENCES_TRIED = 8
WHAT_SENTENCES = 4
# A question about when an article was published reads its dateline first.
DATELINE_BONUS = 1.0
# e5 cosines of a question and a passage that answers it lie around 0.80-0.92.
DENSE_FLOOR = 0.78
DENSE_SPAN = 0.12
# The trained reader (when installed) reads the best sentence and its neighbours, up to
# this many characters (150 tokens on average), for "what" and "when" questions, for "who"
# questions about a person whose rules' answer is not a Vietnamese name, and for "where"
# questions whose rules' answer is not an administrative place (_rules_weak). Its
# span wins when it is at least MIN_READ_PROBABILITY probable and, unless the question
# asks "what", neither text holds the other (_overrules). A question whose rules' answer
# falls below MIN_CONFIDENCE (any kind) is read too, and the reader's span is given, with
# that low confidence, when it is at least MIN_UNSURE_READ_PROBABILITY probable and its
# sentence repeats a word from beside the question word (_echoes) and its passage holds
# the places and years the question names (_holds_names). Held-out XQuAD-vi F1
# (benchmarks/train_reader.py, folds 0 / 1, 250 / 173 questions, session 11's readers):
# session 10's rules .461 / .372; a "what" span inside the rules' phrase wins too, at 0.15
# (tuned on fold 0: at 0.1 seed dev loses "Số hotline, email, fanpage" to "Số hotline",
# p .12) .482 / .385; the echo test, which stopped the fold 1 reader's two false answers
# on the seed unanswerable set (.25 -> .083) and no right one, let the bar fall from 0.45
# to 0.3: .488 / .391. Session 12 (counts, "where", readers with "what" clozes, the year
# and list guards): .503 / .430. Reading every kind gave .329-.362 (fold 0, session 9): the rules
# know units and Vietnamese names, and reading costs 50-100 ms (int8, 2 cores).
READ_CHARS = 600
MIN_READ_PROBABILITY = 0.15
# The reader's date replaces the rules' other date when it is this probable. Held-out
# XQuAD-vi F1 over all five folds (908 questions, session 15): never .4932; at 0.6 .4946,
# 0.45 .4971, 0.3 .4976, 0.22 .4982, 0.15 .4970. The report sets do not change at any of
# these; the reader's numbers, tried the same way, cost own report set .044.
MIN_READ_DATE_PROBABILITY = 0.3
MIN_UNSURE_READ_PROBABILITY = 0.3
# ...and only when the rules' confidence is at least this: where the passages hardly
# cover the question ("Ai là chủ tịch nước Pháp năm 1990?" on the sample reports: .07)
# the reader would still name someone. Fold 0's withheld questions the reader answers
# right all lie at .20 or above; the seed unanswerable questions at .05-.41.
MIN_READ_CONFIDENCE = 0.2
_SYLLABLE = re.compile(r"\w+")
_YEAR_TERM = re.compile(r"1[5-9]\d\d|20\d\d")
_LIST_SEPARATOR = re.compile(r"\s*[,;]\s*|\s+(?:và|hoặc|and|or)\s+")
LIST_ITEM_WORDS = 6
_CLAUSE_MARK = re.compile(r"[.:()“”\"]")
# Spaces and sentence punctuation the reader's span may start or end with.
_LEADING = re.compile(r"^[\s,.;:!?…]+")
_TRAILING = re.compile(r"[\s,.;:!?…]+$")
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

    @classmethod
    @functools.lru_cache(maxsize=256)
    def of(cls, text: str) -> _Words:
        """The words of `text`, found on its NFC form, with spans into `text` itself."""
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


@dataclass(frozen=True)
class _Sentences:
    """A text's sentences: their spans in the text and their words, as written (NFC) and
    diacritics-free. Every word of the text lies in one sentence."""

    spans: tuple[Span, ...]
    written: tuple[tuple[str, ...], ...]
    plain: tuple[tuple[str, ...], ...]

    @classmethod
    @functools.lru_cache(maxsize=256)
    def of(cls, text: str) -> _Sentences:
        """Cached: a search's rerank and its answer read the same passages."""
        nfc = unicodedata.is_normalized("NFC", text)
        spans = tuple(Span(s.start, s.end) for s in split_sentences(text))
        written = tuple(
            tuple(_SYLLABLE.findall(piece if nfc else unicodedata.normalize("NFC", piece)))
            for piece in (text[span.start : span.end] for span in spans)
        )
        return cls(spans, written, tuple(tuple(map(plain_syllable, w)) for w in written))

    def capitals(self, initials: frozenset[str]) -> set[str]:
        """Those of `initials` that the text writes in capitals ("GĐVH", "UBND"), Roman
        numerals excluded."""
        if not initials:
            return set()
        return {
            plain
            for written, plains in zip(self.written, self.plain, strict=True)
            for word, plain in zip(written, plains, strict=True)
            if plain in initials and len(word) > 1 and word.isupper() and not _ROMAN.fullmatch(word)
        }


def _held(words: Iterable[str], vocabulary: frozenset[str]) -> set[str]:
    """The words of `words` in `vocabulary`, and the pairs of such words that stand side by
    side ("hoi_nghi"): all the terms a question spelled with `vocabulary` can find there."""
    held: set[str] = set()
    previous = None
    for word in words:
        if word in vocabulary:
            held.add(word)
            if previous is not None:
                held.add(f"{previous}_{word}")
            previous = word
        else:
            previous = None
    return held


def _with_initialisms(held: set[str], capitals: set[str], question: QuestionInfo) -> set[str]:
    """`held` plus the words and word pairs of each question phrase whose initialism the
    text holds in capitals: "GĐVH" stands for "gia đình văn hóa", "KDC" for "khu dân cư"."""
    for initials, phrase in question.initialisms:
        if initials in held and initials in capitals:
            held |= {*phrase, *pairs(phrase)}
    return held


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
    # The initials of the question's phrases ("gdvh"), and every word its terms, anchors
    # and initials are made of: a text's other words can match nothing.
    initials: frozenset[str]
    vocabulary: frozenset[str]

    @classmethod
    def of(cls, question: QuestionInfo, idf: Callable[[Sequence[str]], list[float]]) -> _Weighted:
        terms = question.weighted_terms
        anchors = [*question.anchors, *question.anchor_pairs]
        weights = idf([*terms, *anchors])
        initials = frozenset(initials for initials, _ in question.initialisms)
        vocabulary = initials.union(*(term.split("_") for term in [*terms, *anchors]))
        return cls(
            terms, weights[: len(terms)], anchors, weights[len(terms) :], initials, vocabulary
        )

    def coverage(self, words: set[str]) -> float:
        return _coverage(words, self.terms, self.weights)

    def evidence(self, passage: set[str]) -> float:
        """IDF-weighted share of the question's anchor words and adjacent word pairs that
        a passage holds: "Hà Giang" is missing from a passage about Bắc Giang even though
        "giang" is there."""
        return _coverage(passage, self.anchors, self.anchor_weights)


def _passage_terms(
    text: str, title: str, question: QuestionInfo, weighted: _Weighted
) -> tuple[list[tuple[Span, set[str]]], set[str]]:
    """The question's terms that each sentence of a passage holds, and those the whole
    passage and its title hold, with the question phrases their initialisms stand for."""
    sentences = _Sentences.of(text)
    capitals = sentences.capitals(weighted.initials)
    held = [
        (span, _with_initialisms(_held(words, weighted.vocabulary), capitals, question))
        for span, words in zip(sentences.spans, sentences.plain, strict=True)
    ]
    passage = _held(itertools.chain.from_iterable(sentences.plain), weighted.vocabulary)
    passage = _with_initialisms(passage, capitals, question)
    titled = _Sentences.of(title)
    passage |= _held(itertools.chain.from_iterable(titled.plain), weighted.vocabulary)
    return held, _with_initialisms(passage, titled.capitals(weighted.initials), question)


def _score_sentences(
    question: QuestionInfo,
    hits: Sequence[Hit],
    weighted: _Weighted,
) -> list[_Sentence]:
    """Sentences of all hits, best first, scored by the IDF-weighted share of the
    question's words (and adjacent word pairs) in the sentence and in its passage, the
    passage's embedding similarity to the question, and its retrieval rank; a dateline
    gets DATELINE_BONUS when the question asks when the article was published."""
    dated = question.kind == WHEN and question.published
    sentences = []
    for hit in hits:
        held, passage_terms = _passage_terms(hit.text, hit.title, question, weighted)
        support = weighted.evidence(passage_terms)
        passage_coverage = weighted.coverage(passage_terms)
        prior = 0.2 / (1.0 + 0.25 * (hit.rank - 1)) + 0.5 * _dense_evidence(hit.dense_score)
        for span, terms in held:
            score = weighted.coverage(terms) + 0.5 * passage_coverage + prior
            if dated and has_dateline(compose(hit.text[span.start : span.end]).text):
                score += DATELINE_BONUS
            sentences.append(_Sentence(hit, span, score, support))
    return sorted(sentences, key=lambda s: -s.score)


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
        held, passage_terms = _passage_terms(text, title, question, weighted)
        best = max((weighted.coverage(terms) for _, terms in held), default=0.0)
        supports.append(best * weighted.evidence(passage_terms))
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
) -> tuple[tuple[HighlightedHit, ...], list[Reading], list[_Sentence]]:
    """The hits with their best sentences highlighted, the candidate answers in the
    SENTENCES_TRIED best sentences, and the sentences, best first."""
    words = [_Words.of(hit.text) for hit in hits]
    weighted = _Weighted.of(question, idf)
    sentences = _score_sentences(question, hits, weighted)
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
    return highlighted, found, sentences


def readings(
    question: QuestionInfo,
    hits: Sequence[Hit],
    idf: Callable[[Sequence[str]], list[float]],
) -> list[Reading]:
    """The candidate answers that extract_answer chooses from (for fitting the reader)."""
    return _read(question, hits, idf)[1]


def _context(sentence: _Sentence) -> Span:
    """The sentence with as many neighbours in its passage as fit in READ_CHARS."""
    spans = _Sentences.of(sentence.hit.text).spans
    first = last = spans.index(sentence.span)
    grown = True
    while grown:
        grown = False
        for before, after in ((first - 1, last), (first, last + 1)):
            if (
                before >= 0
                and after < len(spans)
                and spans[after].end - spans[before].start <= READ_CHARS
            ):
                first, last, grown = before, after, True
    return Span(spans[first].start, spans[last].end)


def _trained_span(
    span_reader: SpanReader, question: QuestionInfo, sentence: _Sentence, marks: bool = True
) -> tuple[Span, float] | None:
    """The trained reader's answer around `sentence`, as a span of its passage, and the
    reader's probability for it; None when it points at punctuation only. With `marks`, a
    question typed without diacritics is read with the marks its passage writes."""
    context = _context(sentence)
    composed = compose(sentence.hit.text[context.start : context.end])
    asked = compose(question.text).text
    if marks:
        asked = with_marks(asked, compose(sentence.hit.text).text)
    read = span_reader.read(asked, composed.text)
    if read is None:
        return None
    piece = composed.text[read.start : read.end]
    leading, trailing = _LEADING.match(piece), _TRAILING.search(piece)
    start = read.start + (leading.end() if leading else 0)
    end = read.end - (len(trailing[0]) if trailing else 0)
    if start >= end:
        return None
    first, last = composed.to_original(start, end)
    return Span(context.start + first, context.start + last), read.probability


def _rules_weak(question: QuestionInfo, reading: Reading) -> bool:
    """Whether the trained reader may overrule the rules' answer: for a "what" question,
    for a "when" question (with another whole date: _overrules), for an answer not of
    the asked type (the gap phrase, when a sentence had no body for "cơ quan nào"), for a
    "who" question about a person when the answer does not start with a Vietnamese
    surname (the rules' name finder knows Vietnamese names, not "Peyton Manning"; their
    bodies, "Ban Dân vận Huyện ủy ...", stay), and for a "where" question when it is not
    an administrative place ("tổ 10, phường ...").

    Answers not of the asked type, read too since session 15: held-out XQuAD-vi F1 (five
    folds) .4976 -> .5006, five "cơ quan / tổ chức nào" answers right for one wrong; no
    report set changes."""
    if question.kind in (WHAT, WHEN) or not reader.is_asked(reading.features):
        return True
    text = reading.hit.text[reading.span.start : reading.span.end]
    if question.kind == WHERE:
        return not any(c.start == 0 and c.prior >= 1.0 for c in places(text))
    return (
        question.kind == WHO
        and not question.organisation
        and unaccent(text.split()[0]) not in SURNAMES
    )


def _overrules(
    trained: tuple[Span, float], reading: Reading, sentence: _Sentence, kind: str
) -> bool:
    """Whether the trained reader's span replaces the rules' answer: it is probable enough
    and, unless the question asks "what", neither text holds the other (the rules' "73
    công dân" stays against "73"; a "what" answer has no unit, and the rules' phrase or
    clause around the reader's span is mostly longer than the answer, unless it is a list
    the reader picked one item of: _breaks_list)."""
    span, probability = trained
    if probability < MIN_READ_PROBABILITY:
        return False
    if kind == WHAT:
        return not _breaks_list(span, sentence.hit, reading)
    if kind == WHEN and (probability < MIN_READ_DATE_PROBABILITY or not _is_date(sentence, span)):
        return False
    ours = fold(sentence.hit.text[span.start : span.end])
    theirs = fold(reading.hit.text[reading.span.start : reading.span.end])
    return ours not in theirs and theirs not in ours


def _is_date(sentence: _Sentence, span: Span) -> bool:
    """Whether a span is one whole date ("năm 2005", "tháng 5 năm 2013")."""
    text = compose(sentence.hit.text[span.start : span.end]).text
    return any(c.start == 0 and c.end == len(text) for c in dates(text))


def _whole_list(text: str, span: Span, sentence: Span) -> Span:
    """`span` grown over the short items (LIST_ITEM_WORDS words at most) listed beside it
    in its sentence, when it is itself whole items of that list, for a question that asks
    for several things."""
    # The sentence's items: what lies between separators, less its closing stop.
    close = _TRAILING.search(text, sentence.start, sentence.end)
    items, position = [], sentence.start
    for separator in _LIST_SEPARATOR.finditer(text, sentence.start, sentence.end):
        items.append((position, separator.start()))
        position = separator.end()
    items.append((position, close.start() if close else sentence.end))
    starts = [i for i, (a, _) in enumerate(items) if a == span.start]
    ends = [i for i, (_, b) in enumerate(items) if b == span.end]

    def short(index: int) -> bool:
        item = text[items[index][0] : items[index][1]]
        return 0 < len(item.split()) <= LIST_ITEM_WORDS and not _CLAUSE_MARK.search(item)

    start, end = span.start, span.end
    if ends:
        last = ends[0]
        while last + 1 < len(items) and short(last + 1):
            last += 1
        end = items[last][1]
    if starts:
        first = starts[0]
        while first > 0 and short(first - 1):
            first -= 1
        start = items[first][0]
    return Span(start, end)


def _breaks_list(span: Span, hit: Hit, reading: Reading) -> bool:
    """Whether the reader's span cuts into the rules' answer without covering it where
    that answer is a list of short items ("Số hotline, email, fanpage"): the reader picked
    one item of an enumeration the question asks for whole."""
    if hit.rank != reading.hit.rank or not (
        span.start < reading.span.end and reading.span.start < span.end
    ):
        return False
    if span.start <= reading.span.start and reading.span.end <= span.end:
        return False
    items = _LIST_SEPARATOR.split(reading.hit.text[reading.span.start : reading.span.end])
    return len(items) >= 3 and all(0 < len(item.split()) <= 4 for item in items)


def _echoes(question: QuestionInfo, words: _Words, sentence: Span) -> bool:
    """Whether `sentence` repeats a content word that stands beside the question word in a
    Vietnamese question: the answer stands where the question word does, so a sentence
    that answers "Ai là tác giả bài báo?" says "tác giả" (or the words before "ai"). A
    question without such words (English) never echoes."""
    beside = {*question.before, *question.after}
    return any(word in beside for word, _, _ in words.within(sentence.start, sentence.end))


def _in_byline(reading: Reading) -> bool:
    """Whether a candidate is an article's byline: alone on its line ("Triệu Biển"), or
    after "Tác giả", "Bài và ảnh" or "Nguồn"."""
    line = reading.hit.text[reading.sentence.start : reading.sentence.end].strip(_BYLINE_EDGES)
    name = reading.hit.text[reading.span.start : reading.span.end]
    if len(_SYLLABLE.findall(name)) > BYLINE_WORDS:
        return False
    return line == name or _BYLINE.match(line) is not None


def _holds_initialisms(question: str, passage: str) -> bool:
    """Whether the passage writes every initialism of the local government bodies that
    the question writes: each level has both a People's Council and a People's Committee,
    each with its own chair ("Chủ tịch UBND" asked, "Chủ tịch HĐND" found)."""
    written = _SYLLABLE.findall(unicodedata.normalize("NFC", question))
    asked = [(initials, name) for initials, name in BODY_INITIALISMS.items() if initials in written]
    if not asked:
        return True
    words = _SYLLABLE.findall(unicodedata.normalize("NFC", passage))
    spelt = f" {' '.join(map(plain_syllable, words))} "
    return all(initials in words or f" {name} " in spelt for initials, name in asked)


def _plain_words(text: str) -> list[str]:
    """The words of `text` as diacritics-free syllables."""
    return [plain_syllable(w) for w in _SYLLABLE.findall(unicodedata.normalize("NFC", text))]


def _holds_names(question: QuestionInfo, hit: Hit) -> bool:
    """Whether a passage, with its document's title, writes every body initialism
    (_holds_initialisms) and place the question names, and one of the years it names
    unless it writes no year: a report on Bắc Giang does not answer "... ở tỉnh Bắc
    Kạn?", nor one of 2022 "... năm 2023?" (a passage may say "năm năm trước" for 1995)."""
    text = f"{hit.title}\n{hit.text}"
    if not _holds_initialisms(question.text, text):
        return False
    years = {term for term in question.anchors if _YEAR_TERM.fullmatch(term)}
    if not years and not question.places:
        return True
    words = _plain_words(text)
    spelt = f" {' '.join(words)} "
    written = {word for word in words if _YEAR_TERM.fullmatch(word)}
    return all(f" {name} " in spelt for name in question.places) and (
        not years or not written or not years.isdisjoint(written)
    )


def _title_agrees(question: QuestionInfo, hit: Hit, sentence: Span) -> bool:
    """Whether the sentence of a "who" answer gives the title the question asks for as
    asked: a deputy's ("Phó Trưởng Ban") when the question asks the deputy, else the
    head's. A sentence that does not write the title says nothing either way."""
    if question.kind != WHO:
        return True
    terms = f" {' '.join(question.terms)} "
    title = next((t for t in _TITLES if f" {t} " in terms), None)
    if title is None:
        return True
    words = _plain_words(hit.text[sentence.start : sentence.end])
    size = len(title.split())
    given = [i for i in range(len(words)) if " ".join(words[i : i + size]) == title]
    if not given:
        return True
    deputy = f" pho {title} " in terms
    return any((i > 0 and words[i - 1] == "pho") == deputy for i in given)


def _unitless(question: QuestionInfo, reading: Reading) -> bool:
    """A Vietnamese "bao nhiêu X", X a thing counted (not a measure, which texts write
    many ways: "km2", "km vuông", "%"), answered with a number that does not count X."""
    return (
        question.kind == NUMBER
        and question.language == "vi"
        and bool(question.unit)
        and _MEASURES.isdisjoint(question.unit)
        and not reader.counts_unit(reading.features)
    )


def _sentence_around(text: str, span: Span) -> Span:
    """The sentences of `text` that `span` overlaps, as one span."""
    touched = [s for s in _Sentences.of(text).spans if s.start < span.end and span.start < s.end]
    return Span(touched[0].start, touched[-1].end)


def confidence(evidence: float, sureness: float) -> float:
    """How sure an answer is: its passage's evidence, less when its span's type and place
    support it less (qa.reader.sureness)."""
    return evidence * (0.6 + 0.4 * sureness)


def extract_answer(
    question: QuestionInfo,
    hits: Sequence[Hit],
    idf: Callable[[Sequence[str]], list[float]],
    span_reader: SpanReader | None = None,
) -> Answer:
    """The answer to `question` from `hits` (see the module docstring).

    idf: inverse document frequencies of diacritics-free terms.
    span_reader: the trained reader, which then reads around the best sentence of a
    question the rules are weak at and may overrule their span (MIN_READ_PROBABILITY),
    and gives the answer the rules withhold when it is probable enough
    (MIN_UNSURE_READ_PROBABILITY, MIN_READ_CONFIDENCE).
    """
    highlighted, found, sentences = _read(question, hits, idf)
    if question.author:
        # Only a byline names an author, and the reader does not know bylines.
        found = [reading for reading in found if _in_byline(reading)]
        span_reader = None
    # A number that counts what the question counts comes before one that does not.
    best = max(
        found,
        key=lambda reading: (
            not _unitless(question, reading),
            reader.rank(reading.features, question.kind),
        ),
        default=None,
    )
    sure = 0.0
    if best is not None:
        reading = best
        sure = confidence(reading.evidence, reader.sureness(reading.features, question.kind))
        if _unitless(question, reading):
            sure *= UNITLESS_NUMBER
        if question.money and not reader.counts_unit(reading.features):
            sure *= NO_CURRENCY
        if not _holds_names(question, reading.hit):
            sure *= MISSING_NAME
        if not _title_agrees(question, reading.hit, reading.sentence):
            sure *= OTHER_TITLE
        if sure >= MIN_CONFIDENCE:
            hit, span, sentence = reading.hit, reading.span, reading.sentence
            if span_reader is not None and _rules_weak(question, reading):
                trained = _trained_span(span_reader, question, sentences[0])
                if trained is not None and _overrules(
                    trained, reading, sentences[0], question.kind
                ):
                    hit, span = sentences[0].hit, trained[0]
                    sentence = _sentence_around(hit.text, span)
            return _found(question, hit, span, sentence, sure, highlighted)
    if span_reader is not None and sentences and sure >= MIN_READ_CONFIDENCE:
        # As typed: with marks copied from the passage, a bare question echoes it by
        # construction ("Ai la Truong Cong an huyen Chiem Hoa?" got the chair's name).
        trained = _trained_span(span_reader, question, sentences[0], marks=False)
        if trained is not None and trained[1] >= MIN_UNSURE_READ_PROBABILITY:
            hit, span = sentences[0].hit, trained[0]
            sentence = _sentence_around(hit.text, span)
            words = _Words.of(hit.text)
            if (
                _echoes(question, words, sentence)
                and _holds_names(question, hit)
                and _title_agrees(question, hit, sentence)
            ):
                return _found(question, hit, span, sentence, sure, highlighted)
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


def _found(
    question: QuestionInfo,
    hit: Hit,
    span: Span,
    sentence: Span,
    sure: float,
    highlighted: tuple[HighlightedHit, ...],
) -> Answer:
    """The answer `span` of `hit`, in `sentence`, with its document offsets (grown over
    the list it stands in when the question asks for several things)."""
    if question.plural:
        span = _whole_list(hit.text, span, sentence)
    return Answer(
        question=question.text,
        found=True,
        text=hit.text[span.start : span.end],
        message="",
        kind=question.kind,
        language=question.language,
        confidence=round(sure, 4),
        hit=hit,
        span=span,
        document_span=Span(hit.start + span.start, hit.start + span.end),
        sentence=sentence,
        passages=highlighted,
    )
