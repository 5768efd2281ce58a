"""Typed answer candidates in a sentence: people, numbers with units, dates, places.

Every pattern runs on the NFC copy of the sentence (case kept) and returns spans of
that copy; callers map them back to the original text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from index.lexical import plain_syllable
from index.normalize import fold, unaccent
from qa.question import CAPITALISED_RUN, CLOCK, PERIOD, WEEKDAY, QuestionInfo

# Common Vietnamese family names: a run of capitalised syllables starting with one is
# almost surely a person ("Hà Đức Tập", "Triệu Thị Thu Hoài").
SURNAMES = frozenset(
    unaccent(name)
    for name in (
        "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Hà Triệu "
        "Lương Ma Nông Đinh Lâm Mai Trịnh Đoàn Cao Chu Tạ Vi Lò Lục Bế Hứa Quan Tô Thân "
        "Đàm Lưu Phùng Kiều Khổng Tăng Từ La Lã Âu Mạc Đào Tống Thái Giáp Mông Hầu Lộc"
    ).split()
)
# Capitalised words that name offices, bodies, places and dates rather than people
# (compared with diacritics kept: "Trưởng" is a title, "Trường" a given name).
NOT_NAME_WORDS = frozenset(
    fold(word)
    for word in (
        "Đồng Chí Ban Dân Vận Thành Ủy Uỷ Tỉnh Huyện Quận Phường Xã Trấn Đảng Bộ Mặt "
        "Trận Tổ Quốc Hội Nghị Bí Thư Phó Chủ Tịch Trưởng Thường Trực Chính Trị Nhân Công "
        "An Quân Sự Sở Ngày Tháng Năm Quý Chiều Sáng Tối Thứ Liên Đề Án Quyết Kết Luận "
        "Chỉ Thị Định Ông Bà Anh Chị Các Những Trong Với Theo Tại Ở Sau Khi Đ/c Đc UBND "
        "HĐND MTTQ TP Viên Cựu Chiến Binh Phụ Nữ Niên Khối Cơ Phòng Vụ Cục Trung "
        "Ương Việt Nam Cộng Sản Kinh Tế The A An In On At Of Tin Tức Kiện Nổi "
        "Bật Giao Dự Cùng Đại Biểu Phát Biểu BTV UVTV Thể Tổng Giám Đốc Thống Thủ Tướng "
        "Vua Giáo Sư"
    ).split()
)
_TOKEN = re.compile(r"[^\W\d_]+(?:/[^\W\d_]+)?")
_DOCUMENT_CODE = re.compile(r"-[A-ZĐ]{1,8}(?:/[A-ZĐ]{1,8})+")
_NUMBER = re.compile(
    r"(?:(?:hơn|trên|gần|khoảng|đạt|tới|over|about|nearly|almost)\s+)?"
    r"\d+(?:[.,]\d+)*(?:/\d+(?:[.,]\d+)*)?"
    # A range, a score or a ratio: "6-9%", "20-18", "20:1" (a time of day is dropped below).
    r"(?:[-–:]\d+(?:[.,]\d+)*)?"
    # A document's number and its issuer's letters: "217-QĐ/TW", "06-ĐA/TU".
    rf"(?:{_DOCUMENT_CODE.pattern})?"
    r"(?:\s*%|\s+phần trăm|\s+(?:nghìn|ngàn|triệu|tỷ|trăm|vạn|million|billion|thousand))?"
)
# Middle names that never end a name.
_MIDDLE_NAMES = frozenset(("thị", "văn"))
# Words that never sit inside a person's name (unlike "Văn", "Công", "Thành").
_BODY_WORDS = frozenset(
    fold(word)
    for word in "Ban Ủy Uỷ Tỉnh Huyện Quận Phường Xã Đảng Hội Nghị MTTQ UBND HĐND TP Sở".split()
)
_YEAR = re.compile(r"(?:(?i:năm)\s+)?(?:1[5-9]|20)\d\d(?:\s*[-–]\s*(?:1[5-9]|20)\d\d)?")
# A time of day ("11:22") is not a count.
_CLOCK = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?![\d:])")
_DAY_MONTH = re.compile(r"\d{1,2}/\d{1,2}(?:/\d{2,4})?")
# Words that end a person's name run: what precedes a place or a body.
_PLACE_WORDS = frozenset(
    fold(word)
    for word in "tỉnh thành phố huyện quận xã phường thị trấn ủy uỷ tp thôn tổ bản".split()
)
# A lower-case word, then a comma and a title: "Hà Đức tập, Phó Bí thư".
_LOWER_GIVEN = re.compile(
    r" ([^\W\d_]+)(?=,\s*(?:Phó|Chủ|Bí|Giám|Trưởng|Ủy|Uỷ|Thường|Tổng|Chánh|Đại)\b)"
)
_SET_PHRASE = re.compile(r"(?i:tư tưởng|đạo đức|phong cách|tấm gương|lời dạy)\s+$")
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\s+$")
_ORDINAL = re.compile(r"(?:(\w+)\s+)?(thứ\s+(?:[IVXLCDM]+|\d+)\b)")
# The prior of a number that counts what the question asks, short of a number with its
# unit written after it (1.0): the unit or two of the question's words right before it
# ("Lượt xem: 1748", "đăng ký mới 99"), or a number in words with its unit (qa.reader).
COUNTED_PRIOR = 0.9
# A number with nothing to tie it to the question.
NUMBER_PRIOR = 0.6
# A year, or a number that is not of the asked kind (not a share when one is asked).
OTHER_PRIOR = 0.3
_CURRENCY = re.compile(r"\s*(?:đồng|đ|VNĐ|VND|USD|đô la|euro|dollars?)(?!\w)", re.IGNORECASE)
_PERCENT = re.compile(r"%|phần trăm")
_SYLLABLE = re.compile(r"[^\W\d_]+")
# A breakdown's item: a short label after a bracket or separator, its number, then the
# next separator ("(duy trì 69, đăng ký mới 99, cá nhân 19)").
_ITEM = re.compile(r"[(,;:]\s*(?:[^\W\d_]+\s+){1,4}$")
_ITEM_END = re.compile(r"\s*(?:[,;)]|$)")
# The two words right before a number, with nothing but spaces (or ": ") between.
_LABEL = re.compile(r"([^\W\d_]+\s+[^\W\d_]+)\s*:?\s+$")
# A word right after a number, possibly after a comma: "6 nhiệm vụ, giải pháp".
_UNIT_WORD = re.compile(r"\s*(?:,\s*)?([^\W\d_]+)")
# A span of years, written "2018 – 2020" or "2023 -2028" as often as "2020-2025".
_YEARS = re.compile(
    r"(?:(?i:từ)\s+)?(?:(?i:năm)\s+)?\b(?:1[0-9]|20)\d\d"
    r"(?:\s*[-–]\s*|\s+(?:đến|tới)\s+(?:năm\s+)?)(?:1[0-9]|20)\d\d\b"
)
_DATES = (
    re.compile(r"\d{1,2}\s*[/-]\s*\d{1,2}\s*[/-]\s*\d{2,4}"),
    re.compile(r"(?:tháng\s+)?\d{1,2}/\d{4}"),
    re.compile(r"ngày\s+\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?", re.IGNORECASE),
    re.compile(r"tháng\s+\d{1,2}(?:\s+năm\s+\d{4})?", re.IGNORECASE),
    re.compile(r"quý\s+[IV]+(?:\s*/\s*\d{4}|\s+năm\s+\d{4})?", re.IGNORECASE),
    re.compile(r"\d{1,2}\s+tháng\s+(?:đầu|cuối)\s+năm(?:\s+\d{4})?", re.IGNORECASE),
    # A year, "năm" before it in any case, but not the month "tháng Năm" (May).
    re.compile(r"(?:(?<!tháng )(?i:năm)\s+)?\b(?:1[0-9]|20)\d\d\b"),
    re.compile(r"thế kỷ\s+(?:[IVXLC]+|\d+)", re.IGNORECASE),
    re.compile(r"\d{1,2}/\d{1,2}"),
    _YEARS,
)
# A time of day ("11:22", "10 giờ 30", "8h30") and a weekday ("Thứ Sáu", "Chủ nhật";
# capitalised, so not "thứ hai", second): answers only when the question asks for them.
_CLOCK_TIME = re.compile(
    r"(?<![\d:])\d{1,2}(?::\d{2}|\s*giờ(?:\s*\d{1,2}(?:\s*phút)?)?|h\d{2})(?![\d:])"
)
_WEEKDAY = re.compile(r"Thứ\s+(?:[Hh]ai|[Bb]a|[Tt]ư|[Nn]ăm|[Ss]áu|[Bb]ảy)|Chủ\s+[Nn]hật")
_ASKED_ONLY = {CLOCK: (_CLOCK_TIME,), WEEKDAY: (_WEEKDAY,)}
_ASKED_FORM = {PERIOD: _YEARS, CLOCK: _CLOCK_TIME, WEEKDAY: _WEEKDAY}
_ADMIN = (
    r"(?<!\w)(?i:tổ|thôn|bản|xóm|ấp|khu phố|phường|xã|thị trấn|thị xã|huyện|quận|thành phố|"
    r"tỉnh|TP\.?)"
)
# The level's word in any case ("Phường", "TP."), then a number or capitalised words.
_PLACE_NAME = rf"(?:\d+|{CAPITALISED_RUN})"
_PLACE = re.compile(rf"{_ADMIN}\s+{_PLACE_NAME}(?:\s*,\s*{_ADMIN}\s+{_PLACE_NAME})*")
_LEVELS = re.compile(rf"(?:các|những|mọi)\s+{_ADMIN}(?:\s*(?:,|và)\s*{_ADMIN})*(?!\w)")
# The place a party committee is named after: "Huyện ủy Chiêm Hóa".
_COMMITTEE_OF = re.compile(rf"(?:Tỉnh|Huyện|Thành|Quận|Thị)\s+(?:ủy|uỷ)\s+({CAPITALISED_RUN})")
_AFTER_PREPOSITION = re.compile(rf"(?:\bở|\btại|\bin|\bat)\s+({CAPITALISED_RUN})")


# A dateline: "Thứ Ba, 23/7/2024", "Thứ Ba, ngày 19 tháng 7 năm 2022", "Ngày đăng
# 08/04/2021": a weekday (capitalised, so not "thứ hai" = second) and a whole date.
_DATELINE = re.compile(
    rf"(?:(?:{_WEEKDAY.pattern})\s*,\s*|Ngày\s+đăng\s+)"
    r"(?:ngày\s+)?(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4})"
)


def has_dateline(text: str) -> bool:
    """True when `text` (NFC) holds an article's dateline."""
    return _DATELINE.search(text) is not None


@dataclass(frozen=True)
class Candidate:
    """A typed span [start, end) of a composed sentence, with a prior in [0, 1]."""

    start: int
    end: int
    prior: float


def capitalised_runs(text: str) -> Iterator[list[re.Match[str]]]:
    """Runs of capitalised words separated by single spaces."""
    run: list[re.Match[str]] = []
    for match in _TOKEN.finditer(text):
        joined = run and text[run[-1].end() : match.start()] == " "
        if match.group()[0].isupper() and (not run or joined):
            run.append(match)
            continue
        if run:
            yield run
        run = [match] if match.group()[0].isupper() else []
    if run:
        yield run


def people(text: str) -> list[Candidate]:
    """Person names: capitalised runs of 2-5 words without office or place words.

    Titles are not part of the answer: "Phó Bí thư Thường trực Hà Đức Tập" gives
    "Hà Đức Tập". A run right after a place word ("tỉnh Bắc Giang") is a place.
    """
    found = []
    for run in capitalised_runs(text):
        words = list(run)
        while words and fold(words[0].group()) in NOT_NAME_WORDS:
            words.pop(0)
        # After a surname, "Thị" or "Văn" is a middle name: the word after it is part
        # of the name even when it can also be an office word ("Vũ Thị Thành").
        named = len(words) >= 3 and unaccent(words[0].group()) in SURNAMES
        kept = 3 if named and fold(words[1].group()) in _MIDDLE_NAMES else 0
        while len(words) > kept and fold(words[-1].group()) in NOT_NAME_WORDS:
            words.pop()
        if not 2 <= len(words) <= 5:
            continue
        if any(fold(w.group()) in _BODY_WORDS for w in words):
            continue
        # Only a place word right before the run, with no punctuation between, makes a place.
        before = _WORD_BEFORE.search(text, 0, words[0].start())
        if before and fold(before.group(1)) in _PLACE_WORDS and words[0] is run[0]:
            continue
        # "tư tưởng, đạo đức, phong cách Hồ Chí Minh": a name in a set phrase.
        if _SET_PHRASE.search(text, max(0, words[0].start() - 20), words[0].start()):
            continue
        surname = unaccent(words[0].group()) in SURNAMES
        end = words[-1].end()
        # "Hà Đức tập, Phó Bí thư": a given name typed in lower case before a title.
        given = _LOWER_GIVEN.match(text, end)
        if surname and len(words) == 2 and given and given.group(1).islower():
            end = given.end()
        found.append(Candidate(words[0].start(), end, 1.0 if surname else 0.4))
    return found


_ORGANISATION = re.compile(
    r"(?:Ban|Ủy ban|Uỷ ban|UBND|HĐND|Hội|Đoàn|Sở|Phòng|Mặt trận|Bộ|Đảng ủy|Đảng uỷ|"
    r"Huyện ủy|Huyện uỷ|Tỉnh ủy|Tỉnh uỷ|Thành ủy|Thành uỷ|Quận ủy|Quận uỷ)"
    r"(?:\s+(?:Trung ương|Chấp hành|Chính trị|Chính phủ|Thường vụ|[A-ZĐ][^\W\d_]*|vận|ủy|uỷ|"
    r"nhân dân|tổ quốc|thường vụ|chỉ đạo|tuyên giáo|khối vận))+"
    # The National Assembly, with its term: "Quốc hội khóa XV".
    r"|Quốc hội(?:\s+(?:khóa|khoá)\s+[IVXL]+)?"
)


def organisations(text: str) -> list[Candidate]:
    """Bodies such as "Ban Dân vận Huyện ủy Chiêm Hóa"."""
    return [Candidate(m.start(), m.end(), 1.0) for m in _ORGANISATION.finditer(text)]


def numbers(text: str, question: QuestionInfo) -> list[Candidate]:
    """Numbers, extended over following words that name the question's unit ("09 nhiệm
    vụ", or its initials: "117/117 KDC"); a number right after the unit ("Đã xem: 263")
    or after two of the question's words ("đăng ký mới 99") also fits, and a percentage
    fits "bao nhiêu phần trăm" as it is. Ordinals ("lần thứ VII") when the question asks
    "thứ mấy"."""
    found = []
    unit = set(question.unit)
    asked = set(question.terms)
    # The unit's initials as reports write them: "KDC" for "khu dân cư".
    short = {letters for letters, words in question.initialisms if unit.issuperset(words)}
    in_dates = [(d.start, d.end) for d in dates(text) if not _YEAR.fullmatch(text[d.start : d.end])]
    in_dates += [m.span() for m in _CLOCK.finditer(text)]
    narrowing = []
    for match in _NUMBER.finditer(text):
        if _DAY_MONTH.fullmatch(match.group()) or any(a <= match.start() < b for a, b in in_dates):
            continue
        # The document the question names ("Đề án 06") is not its answer.
        code = _DOCUMENT_CODE.search(match.group())
        if code is not None and plain_syllable(match.group()[: code.start()]) in asked:
            continue
        # A bare year is rarely a count.
        year = _YEAR.fullmatch(match.group()) is not None
        end, prior = match.end(), OTHER_PRIOR if year else NUMBER_PRIOR
        if _PERCENT.search(match.group()):
            # A percentage carries its unit ("100%", not "100% bếp than").
            prior = 1.0 if question.share else prior
        else:
            while (
                (word := _UNIT_WORD.match(text, end))
                and _names_unit(word.group(1), unit, short)
                # A comma goes on a list of units ("6 nhiệm vụ, giải pháp"), not a number.
                and (end > match.end() or "," not in word.group())
            ):
                end, prior = word.end(), 1.0
        before = re.findall(r"[^\W\d_]+", text[max(0, match.start() - 20) : match.start()])
        # After its unit ("Đã xem: 263"), or right after two of the question's words
        # ("đăng ký mới 99").
        label = _LABEL.search(text, max(0, match.start() - 40), match.start())
        named = [] if year or label is None else [unaccent(w) for w in label.group(1).split()]
        by_label = bool(named) and asked.issuperset(named)
        if prior < 1.0 and (by_label or (before and unaccent(before[-1]) in unit)):
            prior = COUNTED_PRIOR
            if by_label and _narrows(text, match, named, unit):
                narrowing.append(len(found))
        if question.share and not _PERCENT.search(match.group()):
            # A share is asked for: a count or an amount is not one.
            prior = min(prior, OTHER_PRIOR)
        if question.money:
            # A sum of money is asked for: the number with its currency, or no answer.
            currency = _CURRENCY.match(text, end)
            end, prior = (currency.end(), 1.0) if currency else (end, min(prior, OTHER_PRIOR))
        found.append(Candidate(match.start(), end, prior))
    if len(narrowing) == 1:
        found = [
            Candidate(c.start, c.end, 1.0 if i in narrowing else min(c.prior, NUMBER_PRIOR))
            for i, c in enumerate(found)
        ]
    for match in _ORDINAL.finditer(text):
        counted = match.group(1) and unaccent(match.group(1)) in asked
        start = match.start() if counted else match.start(2)
        found.append(Candidate(start, match.end(), 1.0 if question.ordinal else 0.3))
    return found


def _narrows(text: str, match: re.Match[str], label: list[str], unit: set[str]) -> bool:
    """Whether a number labelled by two question words is an item of a breakdown ("166
    mô hình (duy trì 69, đăng ký mới 99, cá nhân 19)") and one of those words is said
    nowhere else in the sentence nor part of the unit: it narrows the total to what the
    question asks ("bao nhiêu mô hình ... đăng ký mới?")."""
    if _ITEM.search(text, 0, match.start()) is None or not _ITEM_END.match(text, match.end()):
        return False
    words = Counter(unaccent(w) for w in _SYLLABLE.findall(text))
    return any(words[w] == 1 and w not in unit for w in label)


def _names_unit(word: str, unit: set[str], initials: set[str]) -> bool:
    """Whether a word after a number is part of the question's unit, or its initials."""
    bare = unaccent(word)
    return bare in unit or (word.isupper() and bare in initials)


def dates(text: str, moment: str = "") -> list[Candidate]:
    """Dates and periods; the longest match at a position wins. When a form is asked for
    (QuestionInfo.moment: a span of years, a time of day, a weekday), it comes first."""
    patterns = [*_DATES, *_ASKED_ONLY.get(moment, ())]
    found = [
        Candidate(m.start(), m.end(), 1.0 - 0.05 * rank)
        for rank, pattern in enumerate(patterns)
        for m in pattern.finditer(text)
    ]
    if moment:
        asked = _ASKED_FORM[moment]
        found = [
            Candidate(
                c.start, c.end, 1.0 if asked.fullmatch(text[c.start : c.end]) else c.prior / 2
            )
            for c in found
        ]
    return _longest(found)


def places(text: str) -> list[Candidate]:
    """Administrative places ("tổ 10, phường Phùng Chí Kiên"), names after ở / tại,
    levels named in general ("các xã, phường") and the place a party committee is named
    for ("Chiêm Hóa" of "Huyện ủy Chiêm Hóa")."""
    found = [Candidate(m.start(), m.end(), 1.0) for m in _PLACE.finditer(text)]
    found += [Candidate(m.start(1), m.end(1), 0.7) for m in _AFTER_PREPOSITION.finditer(text)]
    found += [Candidate(m.start(), m.end(), 0.6) for m in _LEVELS.finditer(text)]
    found += [Candidate(m.start(1), m.end(1), 0.8) for m in _COMMITTEE_OF.finditer(text)]
    return _longest(found)


def _longest(candidates: list[Candidate]) -> list[Candidate]:
    """Drop candidates contained in a longer one."""
    kept: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.start, -(c.end - c.start))):
        if kept and candidate.end <= kept[-1].end:
            continue
        kept.append(candidate)
    return kept
