"""The span reader: candidate answers in a sentence, their features and their ranking.

A question that asks for a person, number, date or place gets candidates of that type
(qa.candidates, plus numbers in words: "mười", "bốn lựa chọn"), ranked by the hand-set
rules (`rule`: pattern prior, closeness to the question's words, inside the gap) that the
seed reports were tuned with. A "what" question also gets capitalised runs, numbers,
dates and generic phrases (word runs between punctuation, linking words and the
question's own words, up to MAX_PHRASE words) besides the gap phrase (the clause where
the question word would stand), ranked by a logistic regression on numeric features (no
words) plus RULE_WEIGHT times the rules; it was fitted on XQuAD-vi dev's "what"
questions by `benchmarks/fit_reader.py`, which prints its cross-validated scores.
Spans are found on an NFC copy of the sentence and mapped back to the original.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.lexical import pairs, plain_syllable
from index.normalize import compose, fold, unaccent
from qa.candidates import (
    COUNTED_PRIOR,
    OTHER_PRIOR,
    Candidate,
    capitalised_runs,
    dates,
    numbers,
    organisations,
    people,
    places,
)
from qa.question import NUMBER, WHAT, WHEN, WHERE, WHO, QuestionInfo
from qa.types import Span

Words = Sequence[tuple[str, int, int]]

TYPES = ("gap", "person", "organisation", "number", "date", "place", "name", "phrase")
# Question words this many words from a candidate count half (flat within a clause).
CLOSE_WORDS = 12.0
# Question words this many words to either side count as the candidate's neighbours.
NEIGHBOURS = 3
MAX_PHRASE = 10
# Capitalised runs up to this long also give each of their parts.
NAME_WORDS = 6
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
# Between two words: nothing but spaces, or a hyphen, slash or apostrophe inside a word,
# or the point or comma of a number ("1.000").
_JOINED = re.compile(r"\s+|[-/'’]")
_DECIMAL = re.compile(r"[.,]")
# Words that link phrases: a generic candidate neither starts nor ends with one.
LINKING = frozenset(
    unaccent(word)
    for word in (
        "là của và được bởi trong với vào tại ở cho từ đến tới theo khi mà nhưng thì có "
        "đã sẽ đang bị để do vì nên như về sau trước này đó hoặc hay rằng cũng đều"
    ).split()
)
_NUMBER_WORD = (
    r"(?:một|hai|ba|bốn|tư|năm|lăm|sáu|bảy|bẩy|tám|chín|mười|mươi|mốt|trăm|nghìn|ngàn|"
    r"triệu|tỷ|tỉ|rưỡi|nửa|vài|chục|linh|lẻ|hàng)"
)
# Words that only say what kind of date follows.
_DATE_WORDS = frozenset(("nam", "ngay", "thang"))
# A number in words without its unit; "một" alone, mostly the article "a" ("một Lạt-ma").
WORDED_PRIOR = 0.4
ARTICLE_PRIOR = 0.2
_AMBIGUOUS_NUMBER_WORDS = frozenset("năm tư lăm mốt hàng linh lẻ nửa".split())
# "hơn một nửa", "gần ba": as the digits' "hơn 1.100".
_NUMBER_WORDS = re.compile(
    rf"(?<!\w)(?:(?:hơn|gần|khoảng|chừng|tới)\s+)?{_NUMBER_WORD}(?:\s+{_NUMBER_WORD})*(?!\w)",
    re.IGNORECASE,
)
_UNIT_WORD = re.compile(r"\s+([^\W\d_]+)")
_DIGITS = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*%?")
_BOUNDARY = re.compile(r"[\W_]")

FEATURES: tuple[str, ...] = (
    "sentence_score",
    "sentence_first",
    "sentence_drop",
    "passage_first",
    "prior",
    "asked_prior",
    "closeness",
    "left_terms",
    "right_terms",
    "overlap",
    "in_gap",
    "gap_start",
    "gap_distance",
    "before_left",
    "after_right",
    "edge_linking",
    "length",
    "single_word",
    "open_left",
    "open_right",
    "capitals",
    "digits",
    *(f"type:{kind_type}" for kind_type in TYPES),
)

_ASKED = FEATURES.index("asked_prior")
_CLOSENESS = FEATURES.index("closeness")
_IN_GAP = FEATURES.index("in_gap")
_SENTENCE = FEATURES.index("sentence_score")
_GAP = FEATURES.index("type:gap")
# A "what" question's learned score is added to this times the hand-set score: chosen on
# the seed dev set, where 2 loses two of its four "what" answers and 4-8 keep them.
RULE_WEIGHT = 4.0
# A sentence without a candidate of the asked type offers its gap phrase, less trusted.
FALLBACK = 0.5
# An intercept and coefficients in FEATURES order.
Model = tuple[float, Sequence[float]]
# Fitted by benchmarks/fit_reader.py on XQuAD-vi dev's "what" questions (asked_prior is
# always 0 there: it only feeds `rule`).
INTERCEPT = -5.5742
COEFFICIENTS: dict[str, float] = {
    "sentence_score": 0.2345,
    "sentence_first": 0.6322,
    "sentence_drop": -1.7477,
    "passage_first": 0.5506,
    "prior": 1.5251,
    "asked_prior": 0.0000,
    "closeness": 1.6814,
    "left_terms": -0.7413,
    "right_terms": -0.2906,
    "overlap": -1.0416,
    "in_gap": -0.1850,
    "gap_start": -0.4387,
    "gap_distance": -0.4890,
    "before_left": 1.3030,
    "after_right": 1.4698,
    "edge_linking": 0.3727,
    "length": -0.2396,
    "single_word": -2.5216,
    "open_left": -0.1005,
    "open_right": 0.8494,
    "capitals": 0.6904,
    "digits": -0.5987,
    "type:gap": 0.5667,
    "type:person": -0.8699,
    "type:organisation": -0.9807,
    "type:number": 0.4286,
    "type:date": -2.0323,
    "type:place": -2.2479,
    "type:name": 0.9382,
    "type:phrase": 1.0605,
}
_COEFFICIENTS = tuple(COEFFICIENTS[name] for name in FEATURES)


@dataclass(frozen=True)
class Sentence:
    """A sentence as the reader sees it: its text, its words (diacritics-free, with spans
    in the sentence), its score and place among the question's sentences."""

    text: str
    words: Words
    score: float
    rank: int
    best_score: float
    passage_rank: int


@dataclass(frozen=True)
class Proposal:
    """A candidate answer: a span of the sentence and its features (in FEATURES order)."""

    span: Span
    features: tuple[float, ...]


def gap(words: Words, question: QuestionInfo, size: int) -> Span:
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


def gap_phrase(sentence: str, where: Span, question: QuestionInfo) -> Span | None:
    """The words in the gap, cut at clause punctuation and trimmed of linking words ("là",
    "được"); after a colon the whole list is kept, and a phrase in quotes is kept whole."""
    start, end = where.start, where.end
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
    end = start + len(sentence[start:end].rstrip(" ,;:-–"))
    trailing = _TRAILING_FILLER.search(sentence, start, end)
    if trailing:
        end = trailing.start()
    return Span(start, end) if end - start >= 2 else None


def _bare_numbers(text: str) -> list[Candidate]:
    """Numbers without the words around them ("233" of "233 bức tranh"), but not the
    parts of a date ("6" and "10" of "ngày 6 tháng 10 năm 1973")."""
    in_dates = [(d.start, d.end) for d in dates(text)]
    return [
        Candidate(m.start(), m.end(), OTHER_PRIOR)
        for m in _DIGITS.finditer(text)
        if not any(start <= m.start() < end for start, end in in_dates)
    ]


def _number_words(text: str, question: QuestionInfo) -> list[Candidate]:
    """Numbers written as words ("hai", "mười", "bốn lựa chọn"), extended over following
    words that name the question's unit. Words that are mostly something else ("năm" a
    year, "tư" in "tư tưởng") count only with the unit."""
    unit = set(question.unit)
    found = []
    for match in _NUMBER_WORDS.finditer(text):
        end, prior = match.end(), WORDED_PRIOR
        while (word := _UNIT_WORD.match(text, end)) and unaccent(word.group(1)) in unit:
            end, prior = word.end(), COUNTED_PRIOR
        alone = end == match.end()
        if alone and _AMBIGUOUS_NUMBER_WORDS.issuperset(match.group().lower().split()):
            continue
        if alone and match.group().lower() == "một":
            prior = ARTICLE_PRIOR
        # A share is asked for: only a fraction in words is one ("một nửa"); a sum of
        # money is written in digits.
        if (question.share and "nửa" not in match.group().lower()) or question.money:
            prior = OTHER_PRIOR
        found.append(Candidate(match.start(), end, prior))
    return found


def _names(text: str) -> list[Candidate]:
    """Runs of capitalised words (foreign names, titles, places) and, in runs of up to
    NAME_WORDS words, every part of them ("Pro Bowl Kurt Coleman": "Kurt Coleman")."""
    found = []
    for run in capitalised_runs(text):
        if len(run) > NAME_WORDS:
            found.append(Candidate(run[0].start(), run[-1].end(), 0.5))
            continue
        found += [
            Candidate(run[first].start(), run[last].end(), 0.5)
            for first in range(len(run))
            for last in range(first, len(run))
        ]
    return found


def _phrases(text: str, question: QuestionInfo) -> list[Candidate]:
    """Word runs inside a clause (up to MAX_PHRASE words) that start and end at its edges,
    at commas, next to linking words or where the question's words stop or start: the
    noun-phrase-like spans an answer usually is."""
    asked = set(question.terms)
    tokens = list(_SYLLABLE.finditer(text))
    found = []
    clause: list[tuple[re.Match[str], bool]] = []
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        between = text[token.end() : following.start()] if following else "."
        joined = _joined(between, token.group(), following.group() if following else "")
        clause.append((token, not joined and between.strip() == ","))
        if joined or between.strip() == ",":
            continue
        found += _clause_phrases(clause, asked)
        clause = []
    return found


def _joined(between: str, left: str, right: str) -> bool:
    """Whether two words with `between` them belong to one clause without a comma."""
    if _JOINED.fullmatch(between):
        return True
    return bool(_DECIMAL.fullmatch(between) and left.isdigit() and right.isdigit())


def _clause_phrases(clause: list[tuple[re.Match[str], bool]], asked: set[str]) -> list[Candidate]:
    """The phrases of one clause, given its words and whether a comma follows each."""
    plain = [plain_syllable(token.group()) for token, _ in clause]
    linking = [word in LINKING for word in plain]
    question = [word in asked for word in plain]
    size = len(clause)
    # A break after word i: a comma, a linking word on either side, or the question's
    # words ending or starting.
    breaks = [
        clause[i][1] or linking[i] or linking[i + 1] or question[i] != question[i + 1]
        for i in range(size - 1)
    ]
    starts = [i for i in range(size) if not linking[i] and (i == 0 or breaks[i - 1])]
    ends = {i for i in range(size) if not linking[i] and (i + 1 == size or breaks[i])}
    return [
        Candidate(clause[first][0].start(), clause[last][0].end(), 0.0)
        for first in starts
        for last in range(first, min(size, first + MAX_PHRASE))
        if last in ends
    ]


def _typed(text: str, question: QuestionInfo) -> dict[str, list[Candidate]]:
    """The candidates in an NFC sentence, by type: of the asked type only when the question
    asks for one (a person, number, date or place), else of every type."""
    families: dict[str, Callable[[], list[Candidate]]] = {
        "person": lambda: people(text),
        "organisation": lambda: organisations(text),
        "number": lambda: [
            *numbers(text, question),
            *_number_words(text, question),
            *_bare_numbers(text),
        ],
        "date": lambda: dates(text, question.moment),
        "place": lambda: places(text),
        "name": lambda: _names(text),
        "phrase": lambda: _phrases(text, question),
    }
    wanted = asked_type(question)
    return {
        kind_type: find() for kind_type, find in families.items() if wanted in (None, kind_type)
    }


def asked_type(question: QuestionInfo) -> str | None:
    """The candidate type a question asks for (None for "what")."""
    if question.kind == WHO:
        return "organisation" if question.organisation else "person"
    return {NUMBER: "number", WHEN: "date", WHERE: "place"}.get(question.kind)


def proposals(
    sentence: Sentence, question: QuestionInfo, terms: Sequence[str], weights: Sequence[float]
) -> list[Proposal]:
    """The candidate answers of one sentence with their features."""
    text = sentence.text
    where = gap(sentence.words, question, len(text))
    phrase = gap_phrase(text, where, question)
    # Each span with the prior of each type that found it.
    found: dict[tuple[int, int], dict[str, float]] = {}
    if phrase:
        found[phrase.start, phrase.end] = {"gap": 0.0}
    # Most text is NFC already: its spans need no mapping back.
    composed = None if unicodedata.is_normalized("NFC", text) else compose(text)
    for kind_type, candidates in _typed(composed.text if composed else text, question).items():
        for candidate in candidates:
            key = (candidate.start, candidate.end)
            key = composed.to_original(*key) if composed else key
            priors = found.setdefault(key, {})
            priors[kind_type] = max(priors.get(kind_type, 0.0), candidate.prior)
    wanted = asked_type(question)
    if any(wanted in priors for priors in found.values()):
        found = {span: priors for span, priors in found.items() if wanted in priors}
    read = _Reading.of(sentence, question, terms, weights, where, phrase)
    result = []
    for (start, end), priors in found.items():
        features = read.features(start, end, priors)
        if features is not None:
            result.append(Proposal(Span(start, end), features))
    return result


@dataclass(frozen=True)
class _Reading:
    """What the features of one sentence's candidates share: where each question term
    occurs (as word indexes) and the sentence's clauses."""

    sentence: Sentence
    question_words: frozenset[str]
    # The question's words less its unit, and the candidate type it asks for.
    asked: frozenset[str]
    asked_type: str | None
    weights: tuple[float, ...]
    # For each term, the word indexes of its occurrences (a pair: its first syllable).
    occurrences: tuple[tuple[int, ...], ...]
    pair: tuple[bool, ...]
    starts: list[int]
    ends: list[int]
    where: Span
    phrase: Span | None
    # The word index where the gap phrase (or the gap) starts.
    gap_first: int
    segments: list[tuple[int, int]]
    # The question's words right before and right after its question word.
    before: frozenset[str]
    after: frozenset[str]

    @classmethod
    def of(
        cls,
        sentence: Sentence,
        question: QuestionInfo,
        terms: Sequence[str],
        weights: Sequence[float],
        where: Span,
        phrase: Span | None,
    ) -> _Reading:
        plain = [w for w, _, _ in sentence.words]
        starts = [s for _, s, _ in sentence.words]
        deputy = set() if "pho" in question.terms else _deputy_titles(sentence, question)
        at: dict[str, list[int]] = {}
        for index, word in enumerate([*plain, *pairs(plain)]):
            if index % len(plain) not in deputy:
                at.setdefault(word, []).append(index % len(plain))
        # Initials written in capitals ("MTTQ") stand for the question's phrase.
        initialisms = dict(question.initialisms)
        for index, (word, start, end) in enumerate(sentence.words):
            words = initialisms.get(word, ())
            if words and sentence.text[start:end].isupper():
                for term in (*words, *pairs(words)):
                    at.setdefault(term, []).append(index)
        return cls(
            sentence=sentence,
            question_words=frozenset(question.terms),
            asked=frozenset(question.terms) - frozenset(question.unit),
            asked_type=asked_type(question),
            weights=tuple(weights),
            occurrences=tuple(tuple(at.get(term, ())) for term in terms),
            pair=tuple("_" in term for term in terms),
            starts=starts,
            ends=[e for _, _, e in sentence.words],
            where=where,
            phrase=phrase,
            gap_first=bisect.bisect_left(starts, (phrase or where).start),
            segments=[m.span() for m in _SEGMENT.finditer(sentence.text)],
            before=frozenset(question.before),
            after=frozenset(question.after),
        )

    def _near(self, first: int, last: int, low: int, high: int) -> tuple[float, float, float]:
        """For a candidate of words [first, last) in a clause of words [low, high): the
        IDF-weighted share of question terms in the clause, each counted by its distance
        (full weight when adjacent, half at CLOSE_WORDS words away), and the shares among
        the NEIGHBOURS words to its left and to its right."""
        total = sum(self.weights) or 1.0
        close = left = right = 0.0
        for occurrences, pair, weight in zip(
            self.occurrences, self.pair, self.weights, strict=True
        ):
            distances, sides = [], set()
            for index in occurrences:
                end = index + 2 if pair else index + 1
                if index < low or end > high:
                    continue
                distances.append(max(0, first - 1 - index, end - 1 - last))
                if end <= first and first - end < NEIGHBOURS:
                    sides.add("left")
                if index >= last and index - last < NEIGHBOURS:
                    sides.add("right")
            if distances:
                close += weight * 0.5 ** (min(distances) / CLOSE_WORDS)
            left += weight * ("left" in sides)
            right += weight * ("right" in sides)
        return close / total, left / total, right / total

    def features(self, start: int, end: int, priors: dict[str, float]) -> tuple[float, ...] | None:
        """The candidate's features, or None when it only repeats the question."""
        sentence, text = self.sentence, self.sentence.text
        first = bisect.bisect_left(self.starts, start)
        last = bisect.bisect_right(self.ends, end)
        plain = [w for w, _, _ in sentence.words]
        inside = plain[first:last]
        # An answer that only repeats the question ("năm 2022" asked, "năm 2022" found;
        # "quý I năm 2021" for "the first quarter of 2021").
        if all(w in self.question_words or w in _DATE_WORDS for w in inside):
            return None
        # The words counted repeat the question's, less its unit ("73 công dân").
        asked = sum(w in self.asked for w in inside)
        low, high = next(((a, b) for a, b in self.segments if a <= start < b), (0, len(text)))
        before, after = text[:start].rstrip(), text[end:].lstrip()
        # "Lượt xem: 1748": a value right after a colon belongs with the label before it.
        if before.endswith(":"):
            low = max(before.rfind(";"), before.rfind(":", 0, len(before) - 1)) + 1
        close, left, right = self._near(
            first, last, bisect.bisect_left(self.starts, low), bisect.bisect_left(self.starts, high)
        )
        return (
            sentence.score,
            float(sentence.rank == 0),
            sentence.best_score - sentence.score,
            float(sentence.passage_rank == 1),
            max(priors.values()),
            priors.get(self.asked_type, 0.0),
            close,
            left,
            right,
            asked / len(inside),
            float(self.where.start <= start and end <= self.where.end),
            float(self.phrase is not None and self.phrase.start == start),
            math.log(1 + abs(first - self.gap_first)),
            _share(self.before, plain[max(0, first - NEIGHBOURS) : first]),
            _share(self.after, plain[last : last + NEIGHBOURS]),
            float(inside[0] in LINKING or inside[-1] in LINKING),
            math.log(len(inside)),
            float(len(inside) == 1),
            float(not before or bool(_BOUNDARY.fullmatch(before[-1]))),
            float(not after or bool(_BOUNDARY.fullmatch(after[0]))),
            sum(text[s].isupper() for s in self.starts[first:last]) / len(inside),
            float(any(ch.isdigit() for ch in text[start:end])),
            *(float(kind_type in priors) for kind_type in TYPES),
        )


def _deputy_titles(sentence: Sentence, question: QuestionInfo) -> set[int]:
    """Word indexes of the question's words right after "Phó" (deputy) and those joined
    to them: "Phó Trưởng Ban Dân vận" does not answer who the "Trưởng Ban Dân vận" is."""
    asked = set(question.terms)
    found: set[int] = set()
    for index, (word, start, end) in enumerate(sentence.words[:-1]):
        # "pho" is also "phố" (street) and "phở": only "Phó" counts.
        if word != "pho" or fold(sentence.text[start:end]) != "phó":
            continue
        following = index + 1
        while following < len(sentence.words) and sentence.words[following][0] in asked:
            found.add(following)
            following += 1
    return found


def _share(wanted: frozenset[str], words: list[str]) -> float:
    """The share of `wanted` among `words` (0 when nothing is wanted)."""
    return len(wanted.intersection(words)) / len(wanted) if wanted else 0.0


def is_asked(features: Sequence[float]) -> bool:
    """Whether a candidate is of the type its question asks for (a person for "who")."""
    return features[_ASKED] > 0


def counts_unit(features: Sequence[float]) -> bool:
    """Whether a number candidate names what the question counts: its unit after it
    ("166 mô hình", "mười hai tổ"), the percentage asked for, or its unit or two of the
    question's words right before it ("Lượt xem: 1748", "đăng ký mới 99")."""
    return features[_ASKED] >= COUNTED_PRIOR


def rule(features: Sequence[float], kind: str) -> float:
    """The hand-set prior of a candidate: for one of the asked type, its pattern prior
    plus its closeness to the question's words, plus 0.5 inside the gap; 0.5 for the gap
    phrase, FALLBACK of that when the question asked for a type; else 0."""
    if is_asked(features):
        return features[_ASKED] + features[_CLOSENESS] + 0.5 * features[_IN_GAP]
    return 0.5 * features[_GAP] * (1.0 if kind == WHAT else FALLBACK)


def logit(features: Sequence[float], model: Model | None = None) -> float:
    """The learned score of a candidate (log-odds that it is the answer)."""
    intercept, coefficients = model or (INTERCEPT, _COEFFICIENTS)
    return intercept + sum(c * value for c, value in zip(coefficients, features, strict=True))


def rank(features: Sequence[float], kind: str, model: Model | None = None) -> tuple[float, float]:
    """The sort key of a candidate, best highest. A question asking for a person,
    number, date or place keeps the hand-set ranking (sentence score plus rule), which the
    seed reports are written for, and the learned score only breaks its ties; a "what"
    question ranks by the learned score plus RULE_WEIGHT times the hand-set one."""
    hand = features[_SENTENCE] + rule(features, kind)
    if kind == WHAT:
        return logit(features, model) + RULE_WEIGHT * hand, 0.0
    return hand, logit(features, model)


def sureness(features: Sequence[float], kind: str) -> float:
    """How much the chosen span's type and place support it, 0..1 (a "what" answer: 0.5,
    as the gap phrase always had)."""
    return 0.5 if kind == WHAT else min(1.0, rule(features, kind))
