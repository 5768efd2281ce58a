"""Vietnamese normalisation on copies of the text, each with an offset map back to the original.

The user's text is never changed. A `Normalized` holds the normalised copy and, for every
character of it, the span of original characters it came from, so a match found in the
normalised form can be highlighted in the original.

Steps: NFC (NFD input composes), canonical tone placement (the "hóa", "ủy", "khỏe"
style: tone on the first vowel of a final oa/oe/uy), case folding, and optionally a
diacritics-free form (đ -> d) for queries typed without accents.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

NORMALIZER_VERSION = "vi-2"

# The five Vietnamese tone marks as combining characters.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Syllables that end in o/u + a/e/y (any tone, NFC, either case): the only ones whose tone
# can move. Matching just these keeps canonical() fast on long texts.
_MOVABLE_SYLLABLE = re.compile(
    r"\b\w{0,4}(?:[oòóỏõọ][aàáảãạeèéẻẽẹ]|[uùúủũụ][yỳýỷỹỵ])\b", re.IGNORECASE
)
# Finals where old and new spelling place the tone differently ("hoá" vs "hóa").
_MOVABLE_NUCLEI = ("oa", "oe", "uy")
_VOWELS = frozenset("aăâeêioôơuưy")
# Removes combining marks from NFD text and turns đ into d.
_STRIP_TABLE = {
    **{code: None for code in range(0x0300, 0x0370)},
    ord("đ"): "d",
    ord("Đ"): "D",
}


@dataclass(frozen=True)
class Normalized:
    """A normalised copy of `original` with per-character spans back into it."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span [start, end) of the normalised text to a span of the original."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span ({start}, {end}) outside normalised text of {len(self.text)}")
        return self.starts[start], self.ends[end - 1]


def _clusters(text: str) -> list[tuple[int, int]]:
    """Spans of a base character followed by its combining marks."""
    spans: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(text) + 1):
        if index == len(text) or not unicodedata.combining(text[index]):
            spans.append((start, index))
            start = index
    return spans if text else []


@functools.lru_cache(maxsize=1 << 16)
def _canonical_tone(syllable: str) -> str:
    """Move the tone of a final oa/oe/uy onto its first vowel: hoá -> hóa, uỷ -> ủy."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [ch for ch in decomposed if ch in _TONE_MARKS]
    if len(tones) != 1:
        return syllable
    bare = "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
    bare_nfc = unicodedata.normalize("NFC", bare)
    lower = bare_nfc.lower()
    movable = lower.endswith(_MOVABLE_NUCLEI)
    # "qu" + y keeps the tone on y ("quý"); a vowel before the pair makes it no final pair.
    if not movable or lower[:-2].endswith("q") or lower[:-2][-1:] in _VOWELS:
        return syllable
    target = len(bare_nfc) - 2
    rebuilt = bare_nfc[:target] + unicodedata.normalize("NFC", bare_nfc[target] + tones[0])
    rebuilt += bare_nfc[target + 1 :]
    return rebuilt if len(rebuilt) == len(syllable) else syllable


def compose(text: str) -> Normalized:
    """NFC only, case and tones kept, with offsets into `text` (for pattern matching)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in _clusters(text):
        for ch in unicodedata.normalize("NFC", text[start:end]):
            chars.append(ch)
            starts.append(start)
            ends.append(end)
    return Normalized(text, "".join(chars), tuple(starts), tuple(ends))


def normalize(text: str) -> Normalized:
    """NFC, canonical tone placement and lower case, with offsets into `text`."""
    composed = compose(text)
    # Tone placement changes characters but never the length of an NFC syllable.
    toned = _MOVABLE_SYLLABLE.sub(lambda match: _canonical_tone(match.group()), composed.text)
    folded: list[str] = []
    fold_starts: list[int] = []
    fold_ends: list[int] = []
    for ch, start, end in zip(toned, composed.starts, composed.ends, strict=True):
        for lowered in ch.lower():
            folded.append(lowered)
            fold_starts.append(start)
            fold_ends.append(end)
    return Normalized(text, "".join(folded), tuple(fold_starts), tuple(fold_ends))


def strip_diacritics(normalized: Normalized) -> Normalized:
    """The diacritics-free form of a normalised text (đ -> d), offsets kept."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for ch, start, end in zip(normalized.text, normalized.starts, normalized.ends, strict=True):
        for out in unicodedata.normalize("NFD", ch).translate(_STRIP_TABLE):
            chars.append(out)
            starts.append(start)
            ends.append(end)
    return Normalized(normalized.original, "".join(chars), tuple(starts), tuple(ends))


def fold(text: str) -> str:
    """The normalised string alone (NFC, canonical tones, lower case); fast, no offsets."""
    return canonical(text).lower()


def unaccent(text: str) -> str:
    """The diacritics-free normalised string alone (đ -> d); fast, no offsets."""
    bare = unicodedata.normalize("NFD", fold(text)).translate(_STRIP_TABLE)
    return unicodedata.normalize("NFC", bare)


def has_diacritics(text: str) -> bool:
    """True when the text carries any Vietnamese mark (tones, hats, horns, đ)."""
    return fold(text) != unaccent(text)


def canonical(text: str) -> str:
    """NFC with canonical tone placement, case kept: what the embedder should see."""
    composed = unicodedata.normalize("NFC", text)
    return _MOVABLE_SYLLABLE.sub(lambda match: _canonical_tone(match.group()), composed)
