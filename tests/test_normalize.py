"""Vietnamese normalisation: NFC/NFD, tone placement, case, diacritics, offset maps."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from index.lexical import syllables
from index.normalize import canonical, fold, has_diacritics, normalize, strip_diacritics, unaccent


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoá", "hóa"),
        ("Chiêm Hoá", "Chiêm Hóa"),
        ("Thành uỷ", "Thành ủy"),
        ("thuý", "thúy"),
        ("khoẻ", "khỏe"),
        ("toà", "tòa"),
        ("xoà", "xòa"),
    ],
)
def test_old_tone_placement_becomes_canonical(old: str, new: str) -> None:
    assert canonical(old) == new
    assert fold(old) == fold(new) == new.lower()


@pytest.mark.parametrize("word", ["quý", "hoàng", "ngoài", "thuyền", "khuyến", "của", "mùa"])
def test_tone_stays_where_spelling_is_unambiguous(word: str) -> None:
    assert canonical(word) == word


def test_unaccent_removes_every_mark_and_dbar() -> None:
    assert unaccent("Đồng chí Hà Đức Tập, Phó Bí thư Thường trực") == (
        "dong chi ha duc tap, pho bi thu thuong truc"
    )
    assert has_diacritics("Chiêm Hóa") and not has_diacritics("Chiem Hoa")


def test_offsets_map_back_to_original_in_nfd_text() -> None:
    original = unicodedata.normalize("NFD", "Ông Hà Đức Tập chủ trì ở Chiêm Hoá.")
    normalized = normalize(original)
    start = normalized.text.index("hà đức tập")
    span = normalized.to_original(start, start + len("hà đức tập"))
    assert unicodedata.normalize("NFC", original[slice(*span)]) == "Hà Đức Tập"
    plain = strip_diacritics(normalized)
    start = plain.text.index("chiem hoa")
    span = plain.to_original(start, start + len("chiem hoa"))
    assert unicodedata.normalize("NFC", original[slice(*span)]) == "Chiêm Hoá"


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_fast_and_offset_forms_agree_on_the_corpus(corpus_dir: Path, form: str) -> None:
    for path in sorted(corpus_dir.glob("*.txt")):
        text = unicodedata.normalize(form, path.read_text(encoding="utf-8"))
        normalized = normalize(text)
        assert normalized.text == fold(text)
        assert strip_diacritics(normalized).text == unaccent(text)
        assert len(normalized.starts) == len(normalized.text)
        # Every normalised character maps to a non-empty span of the original.
        assert all(
            0 <= s < e <= len(text)
            for s, e in zip(normalized.starts, normalized.ends, strict=False)
        )


def test_span_outside_text_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        normalize("abc").to_original(2, 5)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("06 tháng", ["6", "tháng"]),
        ("Sáu tháng", ["6", "tháng"]),
        ("Thứ Bảy, 08/04/2021", ["thứ", "7", "8", "4", "2021"]),
        ("mười buổi, 0 và 00", ["10", "buổi", "0", "và", "0"]),
        # Words that are not only numbers stay words: "năm" (year), "hai" (also hải typed bare).
        ("năm 2022 hai mươi", ["năm", "2022", "hai", "mươi"]),
        ("sau tháng", ["sau", "tháng"]),
    ],
)
def test_number_words_and_leading_zeros_become_one_term(text: str, terms: list[str]) -> None:
    accented, plain = syllables(text)
    assert accented == terms
    assert plain == [unaccent(term) for term in terms]
