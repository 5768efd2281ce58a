"""BM25 over Vietnamese syllables (bm25s), with a second index on the diacritics-free form.

Tokens are the syllables of the normalised text (NFC, canonical tones, lower case),
one-letter syllables such as "ở" and "ý" included, and no stop-word list, plus
adjacent-syllable pairs, since Vietnamese words are mostly two syllables
("hội nghị", "dân vận"). Queries typed without any diacritics are scored against
the diacritics-free index only; other queries against both.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections.abc import Container, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import bm25s
import numpy as np

from index.errors import IndexCorrupted
from index.normalize import fold, unaccent

_SYLLABLE = re.compile(r"\w+")
FORMS = ("accented", "plain")
# bm25s's defaults, named so that a store scoring BM25 elsewhere (SQL) uses the same ones.
K1 = 1.5
B = 0.75


# Number words that can only mean a number. "hai", "ba", "năm" and "một" stay words:
# without diacritics, or as "year" and "a", they mean other things.
_NUMBER_WORDS = {"bốn": "4", "sáu": "6", "bảy": "7", "tám": "8", "chín": "9", "mười": "10"}


def number_term(word: str) -> str:
    """A folded syllable as a term: digits without leading zeros and number words as
    digits, so "06 tháng", "6 tháng" and "sáu tháng" share their terms."""
    if word.isascii() and word.isdigit():
        return word.lstrip("0") or "0"
    return _NUMBER_WORDS.get(word, word)


def syllables(text: str) -> tuple[list[str], list[str]]:
    """Normalised syllables of `text` (see number_term), with and without diacritics."""
    accented = [number_term(word) for word in _SYLLABLE.findall(fold(text))]
    return accented, [plain_syllable(word) for word in accented]


@functools.lru_cache(maxsize=1 << 17)
def plain_syllable(syllable: str) -> str:
    """One syllable as a diacritics-free term (folded, see number_term): a language has
    few syllables, so cache them all."""
    return unaccent(number_term(fold(syllable)))


def pairs(words: Sequence[str]) -> list[str]:
    """Adjacent syllables as the index spells a pair term: "hoi_nghi"."""
    return [f"{a}_{b}" for a, b in itertools.pairwise(words)]


def terms(words: Sequence[str]) -> list[str]:
    """BM25 terms: every syllable and every pair of adjacent syllables."""
    return [*words, *pairs(words)]


def text_terms(text: str) -> dict[str, list[str]]:
    """The BM25 terms of an indexed text in each form (accented, plain)."""
    accented, plain = syllables(text)
    return {"accented": terms(accented), "plain": terms(plain)}


def query_terms(query: str, accented_query: str | None = None) -> dict[str, list[str]]:
    """The BM25 terms a query is scored by, per form: the diacritics-free form always,
    the accented form for `accented_query` (default: the query when it has diacritics)."""
    accented, plain = syllables(query)
    if accented_query is not None:
        accented = syllables(accented_query)[0]
    forms = {"plain": terms(plain)}
    if accented != plain:
        forms["accented"] = terms(accented)
    return forms


def bm25_idf(frequency: int, size: int) -> float:
    """BM25's (Lucene) inverse document frequency of a term found in `frequency` of `size` rows."""
    return math.log(1 + (size - frequency + 0.5) / (frequency + 0.5))


def coverage(query: str, known: Container[str]) -> float:
    """Share of the query's diacritics-free syllables that are `known` terms."""
    plain = syllables(query)[1]
    return sum(word in known for word in plain) / len(plain) if plain else 0.0


def spelling_keys(query: str) -> list[str]:
    """The diacritics-free syllables and syllable pairs restore_diacritics looks up."""
    return terms(syllables(query)[1])


def restore_diacritics(query: str, spelling: Mapping[str, str]) -> str:
    """Put back the diacritics of a query typed without them, as `spelling` (a diacritics-free
    term -> its most frequent accented spelling in the index) has them: "chu tri hoi nghi" ->
    "chủ trì hội nghị". Syllable pairs are looked up before single syllables; unknown words
    stay as typed."""
    words = syllables(query)[1]
    restored: list[str] = []
    position = 0
    while position < len(words):
        pair = "_".join(words[position : position + 2])
        if position + 1 < len(words) and pair in spelling:
            restored.extend(spelling[pair].split("_"))
            position += 2
        else:
            restored.append(spelling.get(words[position], words[position]))
            position += 1
    return " ".join(restored)


class LexicalStore:
    """BM25 scores for every passage row, from two bm25s indexes (accented, plain)."""

    def __init__(self, retrievers: dict[str, bm25s.BM25] | None, size: int) -> None:
        self._retrievers = retrievers
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalStore:
        """Index `texts`; row i of every score vector is texts[i]."""
        if not texts:
            return cls(None, 0)
        corpora: dict[str, list[list[str]]] = {form: [] for form in FORMS}
        for text in texts:
            for form, form_terms in text_terms(text).items():
                corpora[form].append(form_terms)
        retrievers = {}
        for form, corpus in corpora.items():
            retriever = bm25s.BM25(k1=K1, b=B)
            retriever.index(corpus, show_progress=False)
            retrievers[form] = retriever
        return cls(retrievers, len(texts))

    def scores(self, query: str, accented_query: str | None = None) -> np.ndarray:
        """BM25 score of every row for `query` (zeros when nothing matches).

        The diacritics-free index always scores the query; the accented index scores
        `accented_query` (default: the query itself when it has any diacritics).
        """
        total = np.zeros(self.size, dtype=np.float32)
        if self._retrievers is None:
            return total
        for form, form_terms in query_terms(query, accented_query).items():
            retriever = self._retrievers[form]
            ids = retriever.get_tokens_ids(form_terms)
            if ids:
                total += retriever.get_scores_from_ids(ids)
        return total

    def coverage(self, query: str) -> float:
        """Share of the query's syllables found in the indexed text (0 for an English query
        over Vietnamese reports, 1 when every word occurs somewhere)."""
        if self._retrievers is None:
            return 0.0
        return coverage(query, self._retrievers["plain"].vocab_dict)

    def idf(self, plain_terms: Sequence[str]) -> list[float]:
        """BM25's inverse document frequency of diacritics-free terms (unknown terms get
        the highest value: they occur in no passage)."""
        if self._retrievers is None:
            return [0.0] * len(plain_terms)
        retriever = self._retrievers["plain"]
        indptr = retriever.scores["indptr"]
        weights = []
        for term in plain_terms:
            column = retriever.vocab_dict.get(term)
            known = column is not None and column + 1 < len(indptr)
            frequency = int(indptr[column + 1] - indptr[column]) if known else 0
            weights.append(bm25_idf(frequency, self.size))
        return weights

    @cached_property
    def _accented_by_plain(self) -> dict[str, str]:
        """For each diacritics-free term, its most frequent accented spelling in the index
        (the first in code-point order among equally frequent ones, as PgVectorStore picks)."""
        if self._retrievers is None:
            return {}
        retriever = self._retrievers["accented"]
        indptr = retriever.scores["indptr"]
        best: dict[str, tuple[str, int]] = {}
        for term, column in retriever.vocab_dict.items():
            if not term or column + 1 >= len(indptr):
                continue
            frequency = int(indptr[column + 1] - indptr[column])
            key = unaccent(term)
            if key not in best or (-frequency, term) < (-best[key][1], best[key][0]):
                best[key] = (term, frequency)
        return {key: term for key, (term, _) in best.items()}

    def restore_diacritics(self, query: str) -> str:
        """Put back the diacritics of a query typed without them, as the indexed text
        spells its words: "chu tri hoi nghi" -> "chủ trì hội nghị". Syllable pairs are
        looked up before single syllables; unknown words stay as typed."""
        return restore_diacritics(query, self._accented_by_plain)

    def save(self, folder: Path) -> None:
        """Write the bm25s arrays (numpy, no pickle) and their row count."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lexical.json").write_text(json.dumps({"size": self.size}))
        if self._retrievers is not None:
            for form, retriever in self._retrievers.items():
                retriever.save(folder / form)

    @classmethod
    def load(cls, folder: Path) -> LexicalStore:
        """Read a store written by `save`; damaged files raise IndexCorrupted."""
        try:
            size = int(json.loads((folder / "lexical.json").read_text())["size"])
            if size == 0:
                return cls(None, 0)
            retrievers = {
                form: bm25s.BM25.load(folder / form, allow_pickle=False, show_progress=False)
                for form in FORMS
            }
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise IndexCorrupted(f"the BM25 index in {folder} cannot be read: {exc}") from exc
        for form, retriever in retrievers.items():
            if retriever.scores["num_docs"] != size:
                raise IndexCorrupted(f"the BM25 index '{form}' in {folder} has the wrong size")
        return cls(retrievers, size)
