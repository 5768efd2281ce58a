"""BM25 over Vietnamese syllables, with a second index on the diacritics-free form.

Tokens are the syllables of the normalised text (NFC, canonical tones, lower case),
one-letter syllables such as "ở" and "ý" included, and no stop-word list, plus
adjacent-syllable pairs, since Vietnamese words are mostly two syllables
("hội nghị", "dân vận"). Queries typed without any diacritics are scored against
the diacritics-free index only; other queries against both.

Each form is an inverted index of raw counts in numpy arrays: a vocabulary (term ->
column), each column's postings (rows holding the term, and how often) and each row's
number of terms. BM25 (Lucene, as bm25s computes it) is scored at query time from the
document frequencies and lengths, so adding rows tokenises only the new texts and
removing rows only drops postings; stored passages are never tokenised again. A query's
postings are scored and summed in one compiled loop (numba). The scores of the words in
a quarter of the rows or more, which most queries hold, are kept per store once computed
(4 bytes a row each).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
import threading
from collections import defaultdict
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numba
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


# Texts tokenised at a time: only their token strings are held before they become ids.
_CHUNK = 2048
# The layout of the files `LexicalStore.save` writes, recorded in lexical.json.
_FILE_FORMAT = 1
# The arrays of one form, as saved: name -> dtype.
_ARRAYS = {"indptr": np.int64, "rows": np.int32, "counts": np.uint16, "lengths": np.int32}
# A term in at least one row in _COMMON is common: a store keeps its score of every row
# (float32) once a query has used it. Such words are in most queries and hold most of the
# postings those read; there are at most 4 times as many as a row has distinct terms.
_COMMON = 4
_MAX_COUNT = np.iinfo(np.uint16).max


@dataclass(frozen=True)
class _Postings:
    """One form's inverted index, column j for the j-th term of `columns` (CSC layout).

    Every term occurs in at least one row. The arrays are never written to after
    construction: stores made from this one share them.
    """

    columns: dict[str, int]  # term -> column, in column order
    indptr: np.ndarray  # int64: column j's postings are indptr[j]:indptr[j + 1]
    rows: np.ndarray  # int32: the row of each posting
    counts: np.ndarray  # uint16: how often the term occurs in that row
    lengths: np.ndarray  # int32 per row: its number of terms, repeats included


_NO_POSTINGS = _Postings(
    {},
    np.zeros(1, np.int64),
    np.zeros(0, np.int32),
    np.zeros(0, np.uint16),
    np.zeros(0, np.int32),
)


# One chunk's postings, ordered by column then row: columns (int32), rows (int32), counts.
_Chunk = tuple[np.ndarray, np.ndarray, np.ndarray]


def _count_terms(
    texts: Sequence[str], first_row: int, vocabularies: Mapping[str, dict[str, int]]
) -> dict[str, tuple[list[_Chunk], np.ndarray]]:
    """Per form: the postings of `texts` (rows from `first_row`) chunk by chunk, and each
    text's number of terms. `vocabularies` are defaultdicts that give a new term the next
    column."""
    found: dict[str, tuple[list[_Chunk], list[np.ndarray]]] = {f: ([], []) for f in FORMS}
    for start in range(0, len(texts), _CHUNK):
        chunk = texts[start : start + _CHUNK]
        tokens: dict[str, list[str]] = {form: [] for form in FORMS}
        sizes: dict[str, list[int]] = {form: [] for form in FORMS}
        for text in chunk:
            for form, form_terms in text_terms(text).items():
                tokens[form].extend(form_terms)
                sizes[form].append(len(form_terms))
        first = first_row + start
        for form, (chunks, lengths) in found.items():
            column_of = vocabularies[form].__getitem__
            columns = np.fromiter(map(column_of, tokens[form]), np.int64, len(tokens[form]))
            lengths.append(np.array(sizes[form], dtype=np.int32))
            rows = np.repeat(np.arange(first, first + len(chunk), dtype=np.int64), lengths[-1])
            keys, counts = np.unique(columns << 32 | rows, return_counts=True)
            chunks.append(
                (
                    (keys >> 32).astype(np.int32),
                    (keys & 0xFFFFFFFF).astype(np.int32),
                    np.minimum(counts, _MAX_COUNT).astype(np.uint16),
                )
            )
    return {form: (chunks, np.concatenate(lengths)) for form, (chunks, lengths) in found.items()}


def _runs(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The runs of equal values in sorted `columns`: their values, starts and lengths."""
    starts = np.flatnonzero(np.diff(columns, prepend=-1))
    return columns[starts], starts, np.diff(starts, append=len(columns))


def _merged(chunks: list[_Chunk], size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunks' postings as (indptr, rows, counts) over `size` columns, by column then
    row: a counting sort, since the chunks follow each other in row order. Empties
    `chunks` as it goes, so each is freed once placed."""
    frequencies = np.zeros(size, dtype=np.int64)
    for columns, _, _ in chunks:
        values, _, lengths = _runs(columns)
        frequencies[values] += lengths
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(frequencies, out=indptr[1:])
    rows = np.empty(indptr[-1], dtype=np.int32)
    counts = np.empty(indptr[-1], dtype=np.uint16)
    cursor = indptr[:-1].copy()
    while chunks:
        columns, chunk_rows, chunk_counts = chunks.pop(0)
        values, starts, lengths = _runs(columns)
        places = np.repeat(cursor[values] - starts, lengths) + np.arange(len(columns))
        rows[places] = chunk_rows
        counts[places] = chunk_counts
        cursor[values] += lengths
    return indptr, rows, counts


def _appended(
    old: _Postings, vocabulary: dict[str, int], new: tuple[list[_Chunk], np.ndarray]
) -> _Postings:
    """`old` with new rows' postings (from _count_terms) after each column's old ones."""
    chunks, lengths = new
    indptr, rows, counts = _merged(chunks, len(vocabulary))
    if len(old.rows):
        # Old postings' bounds per column, the columns of new terms empty at the end.
        before = np.full(len(vocabulary) + 1, len(old.rows), dtype=np.int64)
        before[: len(old.indptr)] = old.indptr
        where = np.repeat(before[1:], np.diff(indptr))
        indptr = indptr + before
        rows = np.insert(old.rows, where, rows)
        counts = np.insert(old.counts, where, counts)
    return _Postings(vocabulary, indptr, rows, counts, np.concatenate([old.lengths, lengths]))


def _kept(old: _Postings, moved_to: np.ndarray, rows: np.ndarray) -> _Postings:
    """`old` with only `rows`: `moved_to` maps an old row to its new one, or -1. Terms no
    kept row holds leave the vocabulary."""
    new_rows = moved_to[old.rows]
    dropped = np.flatnonzero(new_rows < 0)
    lengths = old.lengths[rows]
    if not len(dropped):
        return _Postings(old.columns, old.indptr, new_rows, old.counts, lengths)
    dropped_columns = np.searchsorted(old.indptr, dropped, side="right") - 1
    frequencies = np.diff(old.indptr) - np.bincount(dropped_columns, minlength=len(old.columns))
    alive = frequencies > 0
    columns = old.columns
    if not alive.all():
        columns = dict(zip(itertools.compress(old.columns, alive), itertools.count()))
    indptr = np.zeros(len(columns) + 1, dtype=np.int64)
    np.cumsum(frequencies[alive], out=indptr[1:])
    return _Postings(
        columns, indptr, np.delete(new_rows, dropped), np.delete(old.counts, dropped), lengths
    )


# Compiled (or read from numba's cache) on import, for the arrays the store holds, so
# that no search waits for it.
@numba.njit(
    "void(f4[::1], i4[::1], u2[::1], f4[::1], i8[::1], i8[::1], f4[::1])",
    cache=True,
    nogil=True,
    boundscheck=False,
)
def _add_bm25(
    total: np.ndarray,
    rows: np.ndarray,
    counts: np.ndarray,
    norms: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    weights: np.ndarray,
) -> None:
    """total[row] += idf * tf / (tf + norm[row]) over the postings starts[t]:ends[t] of
    each term t, weights[t] being its idf: one compiled pass, without the temporary
    arrays that numpy needs (1.6x faster on the millions of postings of a 1M-row index)."""
    for term in range(starts.shape[0]):
        weight = weights[term]
        for posting in range(starts[term], ends[term]):
            row = rows[posting]
            count = np.float32(counts[posting])
            total[row] += count / (count + norms[row]) * weight


@numba.njit("i8[::1](f4[::1], i8)", cache=True, nogil=True, boundscheck=False)
def _top_positive(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the k (>= 1) highest positive scores, in no order; of equal scores the
    lower rows. A min-heap of the best so far, whose worst score rejects almost every row
    in one comparison: 2x faster than np.argpartition over 1M rows."""
    heap_scores = np.empty(k, np.float32)
    heap_rows = np.empty(k, np.int64)
    size = 0
    floor = np.float32(0.0)
    for row in range(scores.shape[0]):
        score = scores[row]
        if score <= floor:
            continue
        if size < k:
            # Sift up: rows come in order, so an equal score ranks below its parent.
            slot = size
            size += 1
            while slot > 0 and heap_scores[(slot - 1) >> 1] >= score:
                parent = (slot - 1) >> 1
                heap_scores[slot], heap_rows[slot] = heap_scores[parent], heap_rows[parent]
                slot = parent
        else:
            # Replace the worst and sift down, along the worse child.
            slot = 0
            while 2 * slot + 1 < k:
                child = 2 * slot + 1
                other = child + 1
                if other < k and (
                    heap_scores[other] < heap_scores[child]
                    or (
                        heap_scores[other] == heap_scores[child]
                        and heap_rows[other] > heap_rows[child]
                    )
                ):
                    child = other
                if heap_scores[child] >= score:
                    break
                heap_scores[slot], heap_rows[slot] = heap_scores[child], heap_rows[child]
                slot = child
        heap_scores[slot], heap_rows[slot] = score, row
        if size == k:
            floor = heap_scores[0]
    return heap_rows[:size].copy()


def best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the k highest positive scores (float32), best first; equal scores in row
    order."""
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    rows = _top_positive(np.ascontiguousarray(scores, dtype=np.float32), k)
    return rows[np.lexsort((rows, -scores[rows]))]


def _length_norm(lengths: np.ndarray) -> np.ndarray:
    """K1 * (1 - B + B * dl / avgdl) per row, the tf saturation of Lucene's BM25."""
    average = float(lengths.mean()) if len(lengths) and lengths.any() else 1.0
    return (K1 * (1 - B + B * lengths / average)).astype(np.float32)


class LexicalStore:
    """BM25 scores for every passage row, from two inverted indexes (accented, plain).

    A store never changes (only its cache of common words' scores grows): `add` and
    `keep` return new stores, so searches can read this one while the next is built.
    """

    def __init__(self, forms: Mapping[str, _Postings]) -> None:
        self._forms = dict(forms)
        self.size = len(self._forms["plain"].lengths)
        self._norms = {form: _length_norm(p.lengths) for form, p in self._forms.items()}
        self._common: dict[tuple[str, int], np.ndarray] = {}
        self._warming = threading.Lock()

    @classmethod
    def empty(cls) -> LexicalStore:
        """A store with no rows."""
        return cls(dict.fromkeys(FORMS, _NO_POSTINGS))

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalStore:
        """Index `texts`; row i of every score vector is texts[i]."""
        return cls.empty().add(texts)

    def add(self, texts: Sequence[str]) -> LexicalStore:
        """A new store with `texts` appended as rows size, size + 1, ..."""
        if not texts:
            return self
        vocabularies = {
            form: defaultdict(itertools.count(len(p.columns)).__next__, p.columns)
            for form, p in self._forms.items()
        }
        found = _count_terms(texts, self.size, vocabularies)
        for vocabulary in vocabularies.values():
            vocabulary.default_factory = None  # from here on, a plain mapping
        return LexicalStore(
            {form: _appended(p, vocabularies[form], found[form]) for form, p in self._forms.items()}
        )

    def keep(self, rows: Sequence[int]) -> LexicalStore:
        """A new store holding only `rows` (distinct), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.size):
            raise IndexError(f"rows must lie in 0..{self.size - 1}")
        moved_to = np.full(self.size, -1, dtype=np.int32)
        moved_to[rows] = np.arange(len(rows))
        if np.count_nonzero(moved_to >= 0) != len(rows):
            raise ValueError("keep() takes each row at most once")
        return LexicalStore({form: _kept(p, moved_to, rows) for form, p in self._forms.items()})

    def _accumulate(self, total: np.ndarray, form: str, columns: Sequence[int]) -> None:
        """Add the BM25 score of each column's term to `total` (float32, one per row)."""
        postings = self._forms[form]
        chosen = np.asarray(columns, dtype=np.int64)
        starts, ends = postings.indptr[chosen], postings.indptr[chosen + 1]
        weights = np.array([bm25_idf(f, self.size) for f in (ends - starts).tolist()], np.float32)
        _add_bm25(total, postings.rows, postings.counts, self._norms[form], starts, ends, weights)

    @property
    def cached_bytes(self) -> int:
        """Memory taken by the common words' score vectors computed so far."""
        return sum(scores.nbytes for scores in list(self._common.values()))

    def _common_scores(self, form: str, column: int) -> np.ndarray:
        """A common term's BM25 score of every row, kept once computed (the store never
        changes): the few such terms hold most of the postings a query reads."""
        scores = self._common.get((form, column))
        if scores is None:
            scores = np.zeros(self.size, dtype=np.float32)
            self._accumulate(scores, form, [column])
            self._common[form, column] = scores
        return scores

    def warm(self) -> None:
        """Compute the score vector of every common word now rather than on first use
        (about 1.4 s for the 249 such words of benchmarks/scale.py's 1M rows); a second
        caller waits for the first."""
        with self._warming:
            for form, postings in self._forms.items():
                frequencies = np.diff(postings.indptr)
                for column in np.flatnonzero(frequencies * _COMMON >= self.size).tolist():
                    self._common_scores(form, column)

    def _add_scores(self, total: np.ndarray, form: str, form_terms: Sequence[str]) -> None:
        """Add one form's BM25 scores to `total`; each occurrence of a term in the query
        adds its share again, as bm25s does."""
        postings = self._forms[form]
        columns = [c for c in map(postings.columns.get, form_terms) if c is not None]
        rare = []
        for column in columns:
            if (postings.indptr[column + 1] - postings.indptr[column]) * _COMMON >= self.size:
                total += self._common_scores(form, column)
            else:
                rare.append(column)
        if rare:
            self._accumulate(total, form, rare)

    def scores(self, query: str, accented_query: str | None = None) -> np.ndarray:
        """BM25 score of every row for `query` (zeros when nothing matches).

        The diacritics-free index always scores the query; the accented index scores
        `accented_query` (default: the query itself when it has any diacritics).
        """
        total = np.zeros(self.size, dtype=np.float32)
        for form, form_terms in query_terms(query, accented_query).items():
            self._add_scores(total, form, form_terms)
        return total

    def coverage(self, query: str) -> float:
        """Share of the query's syllables found in the indexed text (0 for an English query
        over Vietnamese reports, 1 when every word occurs somewhere)."""
        return coverage(query, self._forms["plain"].columns)

    def idf(self, plain_terms: Sequence[str]) -> list[float]:
        """BM25's inverse document frequency of diacritics-free terms (unknown terms get
        the highest value: they occur in no passage)."""
        if not self.size:
            return [0.0] * len(plain_terms)
        postings = self._forms["plain"]
        weights = []
        for term in plain_terms:
            column = postings.columns.get(term)
            frequency = (
                0 if column is None else int(postings.indptr[column + 1] - postings.indptr[column])
            )
            weights.append(bm25_idf(frequency, self.size))
        return weights

    @cached_property
    def _accented_by_plain(self) -> dict[str, str]:
        """For each diacritics-free term, its most frequent accented spelling in the index
        (the first in code-point order among equally frequent ones, as PgVectorStore picks)."""
        postings = self._forms["accented"]
        frequencies = np.diff(postings.indptr).tolist()
        best: dict[str, tuple[str, int]] = {}
        for term, column in postings.columns.items():
            frequency = frequencies[column]
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
        """Write per form the term list (JSON, in column order) and the arrays (.npy)."""
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"format": _FILE_FORMAT, "size": self.size}
        (folder / "lexical.json").write_text(json.dumps(meta))
        for form, postings in self._forms.items():
            terms_json = json.dumps(list(postings.columns), ensure_ascii=False)
            (folder / f"{form}.terms.json").write_text(terms_json, encoding="utf-8")
            for name in _ARRAYS:
                np.save(folder / f"{form}.{name}.npy", getattr(postings, name), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalStore:
        """Read a store written by `save`; missing, damaged or mismatched files raise
        IndexCorrupted."""
        try:
            meta = json.loads((folder / "lexical.json").read_text())
            if meta.get("format") != _FILE_FORMAT:
                raise ValueError(f"lexical.json names format {meta.get('format')!r}")
            size = int(meta["size"])
            return cls({form: _read_postings(folder, form, size) for form in FORMS})
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError) as exc:
            raise IndexCorrupted(f"the BM25 index in {folder} cannot be read: {exc}") from exc


def _read_postings(folder: Path, form: str, size: int) -> _Postings:
    """One form's files, checked against each other and the row count; ValueError if not."""
    terms = json.loads((folder / f"{form}.terms.json").read_text(encoding="utf-8"))
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise ValueError(f"{form}.terms.json is not a list of terms")
    columns = dict(zip(terms, itertools.count()))
    if len(columns) != len(terms):
        raise ValueError(f"{form}.terms.json repeats a term")
    arrays = {}
    for name, dtype in _ARRAYS.items():
        array = np.load(folder / f"{form}.{name}.npy", allow_pickle=False)
        if array.dtype != dtype or array.ndim != 1:
            raise ValueError(f"{form}.{name}.npy is not a one-dimensional {np.dtype(dtype)} array")
        arrays[name] = array
    indptr, rows = arrays["indptr"], arrays["rows"]
    if (
        len(indptr) != len(terms) + 1
        or indptr[0] != 0
        or (np.diff(indptr) <= 0).any()
        or indptr[-1] != len(rows)
        or len(arrays["counts"]) != len(rows)
    ):
        raise ValueError(f"the {form} postings do not match its {len(terms)} terms")
    if len(arrays["lengths"]) != size or (len(rows) and not 0 <= rows.min() <= rows.max() < size):
        raise ValueError(f"the {form} index does not hold {size} rows")
    return _Postings(columns, **arrays)
