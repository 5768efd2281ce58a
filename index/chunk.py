"""Documents -> sentences -> passages, each with exact character offsets into the original text."""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET_WORDS = 120
MAX_WORDS = 200
MIN_WORDS = 60
# A sentence this short is repeated at the start of the next passage as overlap.
OVERLAP_MAX_WORDS = 40

# End of sentence: . ! ? … followed by space or directly by a capital letter
# ("năm 2022.Đồng chí"), but not a decimal point ("11.963") or an abbreviation.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*|\n\s*")
_ABBREVIATIONS = frozenset(
    {"tp", "tt", "ths", "ts", "pgs", "gs", "bs", "ks", "st", "mr", "mrs", "dr", "vv", "q", "p"}
)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class TextSpan:
    """A span [start, end) of a document's original text."""

    start: int
    end: int


def _trimmed(text: str, start: int, end: int) -> TextSpan | None:
    """The span without surrounding white space, or None when nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return TextSpan(start, end) if end > start else None


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the full stop at `dot` closes a known abbreviation such as "TP."."""
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    return text[word_start:dot].lower().strip("(") in _ABBREVIATIONS


def _ends_sentence(text: str, mark: int, after: int) -> bool:
    """Whether punctuation at text[mark:after] closes a sentence."""
    if after < len(text) and not (text[after].isspace() or text[after].isupper()):
        return False
    return not (text[mark] == "." and _is_abbreviation(text, mark))


def split_sentences(text: str) -> list[TextSpan]:
    """Sentence spans of `text`, trimmed, in order, never overlapping."""
    sentences: list[TextSpan] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group()[0] != "\n" and not _ends_sentence(text, match.start(), match.end()):
            continue
        span = _trimmed(text, start, match.end())
        if span:
            sentences.append(span)
        start = match.end()
    span = _trimmed(text, start, len(text))
    if span:
        sentences.append(span)
    return sentences


def _word_spans(text: str, span: TextSpan) -> list[TextSpan]:
    return [TextSpan(m.start(), m.end()) for m in _WORD.finditer(text, span.start, span.end)]


def _bounded_sentences(text: str) -> list[tuple[TextSpan, int]]:
    """Sentences with their word counts; a sentence over MAX_WORDS is cut into pieces."""
    pieces: list[tuple[TextSpan, int]] = []
    for sentence in split_sentences(text):
        words = _word_spans(text, sentence)
        for first in range(0, len(words), MAX_WORDS):
            chunk = words[first : first + MAX_WORDS]
            pieces.append((TextSpan(chunk[0].start, chunk[-1].end), len(chunk)))
    return pieces


def chunk_text(text: str) -> list[TextSpan]:
    """Passages of about TARGET_WORDS words made of whole sentences, with a little overlap.

    Every passage is a span of `text`; short texts give a single passage.
    """
    sentences = _bounded_sentences(text)
    counts = [words for _, words in sentences]
    passages: list[TextSpan] = []
    first = 0
    while first < len(sentences):
        last = first
        words = counts[first]
        while (
            last + 1 < len(sentences)
            and (
                (words < TARGET_WORDS and words + counts[last + 1] <= MAX_WORDS)
                # Absorb a short remainder rather than leave it as a stub passage.
                or (
                    sum(counts[last + 1 :]) < MIN_WORDS
                    and words + sum(counts[last + 1 :]) <= MAX_WORDS
                )
            )
        ):
            last += 1
            words += counts[last]
        if last + 1 == len(sentences) and passages:
            # A tail that could not be absorbed grows backwards instead.
            while first > 0 and words < MIN_WORDS and words + counts[first - 1] <= MAX_WORDS:
                first -= 1
                words += counts[first]
        passages.append(TextSpan(sentences[first][0].start, sentences[last][0].end))
        if last + 1 == len(sentences):
            break
        overlap = last > first and counts[last] <= OVERLAP_MAX_WORDS
        first = last if overlap else last + 1
    return passages
