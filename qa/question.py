"""Question understanding: language, expected answer kind, content terms and unit.

Patterns are written with diacritics and matched on the normalised question; a question
typed without diacritics is matched on the diacritics-free form, so "ai chu tri",
"Ai chủ trì" and "Ai chủ trì" (old tones) read the same.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.lexical import pairs, plain_syllable, syllables
from index.normalize import canonical, fold, has_diacritics, unaccent

WHO, NUMBER, WHEN, WHERE, WHAT = "who", "number", "when", "where", "what"

# Checked in this order: "năm nào" is a date before "nào" is anything else.
_KIND_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        WHEN,
        (
            "khi nào",
            "bao giờ",
            "lúc nào",
            "ngày nào",
            "ngày bao nhiêu",
            "hôm nào",
            "thời gian nào",
            "thời điểm nào",
            "năm nào",
            "năm bao nhiêu",
            "tháng nào",
            "quý nào",
            "giai đoạn nào",
            "nhiệm kỳ nào",
            "thời kỳ nào",
            "when",
            "what year",
            "what date",
            "which year",
            "what day",
            "what time",
            "what month",
            "what century",
        ),
    ),
    (
        NUMBER,
        (
            "bao nhiêu",
            "mấy",
            "số lượng",
            "how many",
            "how much",
            "what number",
            "which number",
            "decision number",
            "document number",
            "what percentage",
            "how long",
            "how old",
            "how large",
            "how big",
        ),
    ),
    (
        WHO,
        (
            "ai",
            "người nào",
            "đồng chí nào",
            "ông nào",
            "bà nào",
            "những ai",
            "người đứng đầu",
            "who",
            "whom",
            "whose",
        ),
    ),
    (
        WHERE,
        (
            "ở đâu",
            "tại đâu",
            "nơi nào",
            "ở nơi nào",
            "đâu",
            "địa điểm nào",
            "tỉnh nào",
            "huyện nào",
            "xã nào",
            "phường nào",
            "quận nào",
            "thành phố nào",
            "nước nào",
            "quốc gia nào",
            "thôn nào",
            "tổ nào",
            "where",
            *(
                f"{which} {place}"
                for which in ("which", "what")
                for place in (
                    "country province city district ward commune town village place "
                    "location region area venue"
                ).split()
            ),
        ),
    ),
)

# English function words: enough of them marks an English question.
_ENGLISH = frozenset(
    "the a an of in on at to for by with from did does do is are was were what who whom "
    "whose when where which how many much why and or this that these those".split()
)

# Words that ask rather than tell; never counted as content terms.
_QUESTION_WORD_LIST = (
    "ai gì nào đâu sao bao nhiêu mấy khi giờ lúc thế là của và có được những các "
    "một cho với về trong tại ở thì mà đã đang sẽ này đó hay hoặc không nhỉ vậy hả ạ "
    "gồm cái việc làm như nhiều"
).split()
# Typed without marks, "the" is more often "thể" (tập thể) than "thế".
QUESTION_WORDS = frozenset(unaccent(word) for word in _QUESTION_WORD_LIST) - {"the"}
# As written: with its marks, "đầu", "thể", "lực" and "máy" are not "đâu", "thế", "lúc"
# and "mấy".
_WRITTEN_QUESTION_WORDS = frozenset(fold(word) for word in _QUESTION_WORD_LIST)


def asks(word: str) -> bool:
    """Whether a word is a question or function word: compared as written when it has
    diacritics, and diacritics-free when it was typed without them."""
    folded = fold(word)
    if has_diacritics(folded):
        return folded in _WRITTEN_QUESTION_WORDS
    return folded in QUESTION_WORDS


_WORD = re.compile(r"[^\W\d_]+")
# The marks of the question words, for a question typed without them (the first of two
# with the same letters: "nhiêu" of "bao nhiêu" before "nhiều").
_MARKED_QUESTION_WORDS = {unaccent(word): word for word in reversed(_QUESTION_WORD_LIST)}


def with_marks(question: str, text: str) -> str:
    """A question typed without diacritics, its words given the marks `text` writes them
    with ("Ban Dan van ... vao ngay nao?" -> "Ban Dân vận ... vào ngày nào?"): the form
    `text` writes most often beside the same neighbour, else the question word's, else
    the form `text` writes most often. A question with marks is returned as it is. The
    trained reader learnt questions with marks."""
    if has_diacritics(question):
        return question
    forms: dict[str, Counter[str]] = {}
    pairs_seen: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    found = _WORD.findall(text)
    for word, following in zip(found, [*found[1:], ""], strict=True):
        forms.setdefault(unaccent(word).lower(), Counter())[word.lower()] += 1
        if following:
            key = (unaccent(word).lower(), unaccent(following).lower())
            pairs_seen.setdefault(key, Counter())[(word.lower(), following.lower())] += 1
    typed = list(_WORD.finditer(question))
    marked = []
    for index, match in enumerate(typed):
        bare = match.group().lower()
        beside = [
            pairs_seen.get((bare, typed[index + 1].group().lower()))
            if index + 1 < len(typed)
            else None,
            pairs_seen.get((typed[index - 1].group().lower(), bare)) if index else None,
        ]
        if beside[0]:
            form = beside[0].most_common(1)[0][0][0]
        elif beside[1]:
            form = beside[1].most_common(1)[0][0][1]
        elif bare in _MARKED_QUESTION_WORDS:
            form = _MARKED_QUESTION_WORDS[bare]
        elif bare in forms:
            form = forms[bare].most_common(1)[0][0]
        else:
            form = bare
        marked.append(form[0].upper() + form[1:] if match.group()[0].isupper() else form)
    pieces, position = [], 0
    for match, form in zip(typed, marked, strict=True):
        pieces += [question[position : match.start()], form]
        position = match.end()
    return "".join([*pieces, question[position:]])


def _written(question: str) -> str:
    """The form question patterns read: folded with diacritics, or diacritics-free for a
    question typed without them."""
    return fold(question) if has_diacritics(question) else unaccent(question)


_SYLLABLE = re.compile(r"\w+")
# Linking words a passage may phrase differently ("vào ngày", "trong ngày"); a passage
# is not judged on them (compared folded, so "đề" is not "để").
LINKING_WORDS = frozenset(
    fold(word) for word in "vào ra bị bởi để do từ đến tới lên xuống nên vì cũng đều rằng".split()
)

# Words common in reports on local government, so that an English question can be
# matched against Vietnamese text word by word (diacritics-free Vietnamese).
_ENGLISH_TO_VIETNAMESE = {
    "chair": "chu tri",
    "chaired": "chu tri",
    "chairs": "chu tri",
    "presided": "chu tri",
    "chairman": "chu tich",
    "chairwoman": "chu tich",
    "chairperson": "chu tich",
    "president": "chu tich",
    "secretary": "bi thu",
    "deputy": "pho",
    "vice": "pho",
    "head": "truong",
    "standing": "thuong truc",
    "permanent": "thuong truc",
    "meeting": "hoi nghi",
    "conference": "hoi nghi",
    "meetings": "hoi nghi",
    "attended": "du",
    "attending": "du",
    "attend": "du",
    "directed": "chi dao",
    "model": "mo hinh",
    "models": "mo hinh",
    "household": "ho",
    "households": "ho",
    "citizen": "cong dan",
    "citizens": "cong dan",
    "member": "thanh vien",
    "members": "thanh vien",
    "group": "nhom",
    "groups": "nhom",
    "team": "to",
    "teams": "to",
    "community": "cong dong",
    "province": "tinh",
    "provincial": "tinh",
    "district": "huyen quan",
    "city": "thanh pho",
    "ward": "phuong",
    "commune": "xa",
    "committee": "uy ban",
    "party": "dang",
    "people": "nhan dan",
    "mass": "dan",
    "mobilization": "van",
    "mobilisation": "van",
    "front": "mat tran",
    "fatherland": "to quoc",
    "military": "quan su",
    "service": "nghia vu",
    "armed": "vu trang",
    "forces": "luc luong",
    "task": "nhiem vu",
    "tasks": "nhiem vu",
    "solution": "giai phap",
    "solutions": "giai phap",
    "opinion": "y kien",
    "system": "he thong",
    "listen": "lang nghe",
    "listening": "lang nghe",
    "tools": "cong cu",
    "opinions": "y kien",
    "comments": "y kien",
    "quarter": "quy",
    "first": "dau",
    "months": "thang",
    "month": "thang",
    "year": "nam",
    "plan": "ke hoach",
    "project": "de an",
    "resolution": "nghi quyet",
    "congress": "dai hoi",
    "skilful": "kheo",
    "skillful": "kheo",
    "exemplary": "dien hinh",
    "typical": "dien hinh",
    "commended": "khen thuong",
    "awarded": "khen thuong",
    "house": "nha",
    "houses": "nha",
    "built": "xay dung",
    "views": "luot xem",
    "article": "bai viet",
    "report": "bao cao",
    "review": "so ket",
    "reviewed": "so ket",
    "summary": "tong ket",
    "concluded": "ket luan",
    "conclusion": "ket luan",
    "topic": "chu de",
    "theme": "chu de",
    "registered": "dang ky",
    "new": "moi",
    "decision": "quyet dinh",
    "regulation": "quy dinh",
    "supervision": "giam sat",
    "criticism": "phan bien",
    "maintain": "duy tri",
    "maintained": "duy tri",
    "cultural": "van hoa",
    "family": "gia dinh",
    "families": "gia dinh",
    "recognized": "cong nhan",
    "recognised": "cong nhan",
    "issued": "ban hanh",
    "launched": "trien khai",
    "organized": "to chuc",
    "organised": "to chuc",
    "held": "to chuc",
    # What reports count, for "how many X" asked in English.
    "session": "buoi",
    "sessions": "buoi",
    "individual": "ca nhan",
    "individuals": "ca nhan",
    "collective": "tap the",
    "collectives": "tap the",
    "person": "nguoi",
    "persons": "nguoi",
    "times": "lan",
    "students": "hoc sinh",
    "pupils": "hoc sinh",
    "teachers": "giao vien",
    "cadres": "can bo",
    "officials": "can bo",
    "delegates": "dai bieu",
    "agencies": "co quan",
    "units": "don vi",
    "enterprises": "doanh nghiep",
    "businesses": "doanh nghiep",
    "projects": "du an",
    "works": "cong trinh",
    "schools": "truong",
    "villages": "thon",
    "hamlets": "thon",
    "communes": "xa",
    "wards": "phuong",
    "cases": "truong hop",
    "visits": "luot",
    "participants": "luot",
    "turns": "luot",
    "hectares": "ha",
    "kilometres": "km",
    "kilometers": "km",
}


# English phrases that Vietnamese reports write their own way, in their word order:
# periods ("quý I" for the first quarter) and the bodies of local government and the
# mass organisations, which the reports often write as initials (MTTQ, UBND, HĐND).
_ORDINALS = {"first": "i", "second": "ii", "third": "iii", "fourth": "iv"}
_ENGLISH_PERIODS = {
    **{(ordinal, "quarter"): f"quy {roman}" for ordinal, roman in _ORDINALS.items()},
    ("first", "half"): "6 thang dau nam",
    ("mid", "year"): "6 thang dau nam",
    ("midyear",): "6 thang dau nam",
    ("second", "half"): "6 thang cuoi nam",
    ("last", "half"): "6 thang cuoi nam",
}
_ENGLISH_BODIES = {
    ("fatherland", "front"): "mat tran to quoc",
    ("people", "s", "committee"): "uy ban nhan dan",
    ("people", "committee"): "uy ban nhan dan",
    ("people", "s", "council"): "hoi dong nhan dan",
    ("people", "council"): "hoi dong nhan dan",
    ("women", "s", "union"): "hoi lien hiep phu nu",
    ("women", "union"): "hoi lien hiep phu nu",
    ("youth", "union"): "doan thanh nien",
    ("farmers", "association"): "hoi nong dan",
    ("farmers", "union"): "hoi nong dan",
    ("veterans", "association"): "hoi cuu chien binh",
    ("labour", "federation"): "lien doan lao dong",
    ("labor", "federation"): "lien doan lao dong",
    ("party", "committee"): "uy",
}
_ENGLISH_PHRASES = {**_ENGLISH_PERIODS, **_ENGLISH_BODIES}
_PHRASE_LENGTHS = sorted({len(phrase) for phrase in _ENGLISH_PHRASES}, reverse=True)


def _translated(word: str) -> list[str]:
    """The Vietnamese syllables for an English word, or the word itself."""
    return _ENGLISH_TO_VIETNAMESE.get(word, word).split()


@dataclass(frozen=True)
class _Translation:
    """An English question's content words in Vietnamese, and the phrases among them."""

    words: list[str]
    # Periods and bodies translated as a whole ("quy i", "mat tran to quoc").
    phrases: list[list[str]]
    # The bodies among them, whose initials the reports write (MTTQ).
    bodies: list[list[str]]


def _translated_words(words: Sequence[str]) -> _Translation:
    """An English question's words in Vietnamese: phrases first, then word by word,
    English function words dropped."""
    out: list[str] = []
    phrases: list[list[str]] = []
    bodies: list[list[str]] = []
    position = 0
    while position < len(words):
        for size in _PHRASE_LENGTHS:
            key = tuple(words[position : position + size])
            phrase = _ENGLISH_PHRASES.get(key, "").split()
            if phrase:
                out.extend(phrase)
                if len(phrase) > 1:
                    phrases.append(phrase)
                    if key in _ENGLISH_BODIES:
                        bodies.append(phrase)
                position += size
                break
        else:
            if words[position] not in _ENGLISH:
                out.extend(_translated(words[position]))
            position += 1
    return _Translation(out, phrases, bodies)


# English words that the translation replaces: never anchors themselves.
_TRANSLATED = frozenset(_ENGLISH_TO_VIETNAMESE).union(*_ENGLISH_PHRASES)


@dataclass(frozen=True)
class QuestionInfo:
    """What a question asks for."""

    text: str
    kind: str
    language: str
    # Diacritics-free content syllables of the question, in order, without question words.
    terms: tuple[str, ...]
    # For "how many" questions: the diacritics-free words naming what is counted.
    unit: tuple[str, ...]
    # The terms a passage must hold to answer: all content terms of a Vietnamese
    # question; names, numbers and accented words of an English one.
    anchors: tuple[str, ...] = ()
    # Pairs of anchors adjacent in the question ("ha_giang"), as the index spells pairs.
    anchor_pairs: tuple[str, ...] = ()
    # "lần thứ mấy": the answer is an ordinal ("lần thứ VII").
    ordinal: bool = False
    # The form of a "when" answer, when the question names one: PERIOD ("giai đoạn nào":
    # a span of years, "2018 – 2020"), CLOCK ("lúc mấy giờ": "11:22") or WEEKDAY ("đăng
    # vào thứ mấy": "Thứ Sáu"); "" for any date.
    moment: str = ""
    # A "how much" question asking for a share ("bao nhiêu phần trăm", "tỷ lệ ... là bao
    # nhiêu", "what percentage") or for a sum of money ("kinh phí", "bao nhiêu tiền", "how
    # much did it cost").
    share: bool = False
    money: bool = False
    # "những / các ... nào": the answer may be a list ("vùng đồng bào dân tộc, vùng công
    # giáo").
    plural: bool = False
    # "Ai là tác giả bài báo?", "Who wrote the article?": the answer is its byline.
    author: bool = False
    # "đơn vị nào", "cơ quan nào": the "who" is a body, not a person.
    organisation: bool = False
    # "được đưa tin ngày nào", "ngày đăng": the date is the article's own, in its dateline.
    published: bool = False
    # Vietnamese keeps the question word where the answer stands ("Noble bổ nhiệm ai
    # làm chủ tịch?"): the content words just before and just after it locate the answer.
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    # Runs of anchors with their initials, as reports abbreviate them in capitals:
    # ("gdvh", ("gia", "dinh", "van", "hoa")) for "GĐVH".
    initialisms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The places the question names, diacritics-free ("bac giang" for "tỉnh Bắc Giang",
    # "Tinh uy Bac Giang" or "Bắc Giang province"): an answer about another place is none.
    places: tuple[str, ...] = ()

    @property
    def weighted_terms(self) -> list[str]:
        """The terms and anchor pairs that sentences and answers are scored by."""
        return [*self.terms, *self.anchor_pairs]


# "những" or "các" before the asked noun ("những vùng nào", "những trách nhiệm gì", "các
# quốc gia nào"), not inside a clause before "là gì" ("Tên ... những năm 1980 là gì?").
_PLURAL = re.compile(
    r"\bnhung\s+(?:(?!la\b)\w+\s+){1,3}(?:nao|gi)\b|\bcac\s+(?:(?!la\b)\w+\s+){1,3}nao\b"
)
_SHARE = re.compile(r"\b(?:phan tram|t[yi] le|percent(?:age)?|rate|proportion)\b")
_MONEY = re.compile(
    r"\b(?:(?:bao nhieu|het|mat|tong so) tien|kinh phi|chi phi|tri gia|ngan sach|so von|"
    r"cost|costs|price|spent|spend|budget|funding|money)\b"
)


def _any_of(phrases: Iterable[str], after: str = "") -> re.Pattern[str]:
    """Any of `phrases` as whole words, followed by the pattern `after`."""
    return re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, phrases))}){after}(?!\w)")


def _language(question: str) -> str:
    """English when at least two English function words occur (compared with
    diacritics kept, so Vietnamese "tổ" is not English "to")."""
    english = sum(word in _ENGLISH for word in _SYLLABLE.findall(fold(question)))
    return "en" if english >= 2 else "vi"


# "<noun> nào" asks for a person or a place when the noun names one ("nhà thơ nào",
# "thành phố nào"); checked after the fixed phrases.
_PERSON_NOUNS = (
    "người",
    "nhà",
    "ông",
    "bà",
    "vua",
    "hoàng đế",
    "tổng thống",
    "thủ tướng",
    "cầu thủ",
    "hậu vệ",
    "tiền vệ",
    "tiền đạo",
    "học giả",
    "tác giả",
    "nhân vật",
    "giáo sư",
    "bác sĩ",
    "kỹ sư",
    "đồng chí",
    "lãnh đạo",
    "chủ tịch",
    "bí thư",
    "giám đốc",
)
_PLACE_NOUNS = (
    "nơi",
    "thành phố",
    "tỉnh",
    "huyện",
    "quận",
    "xã",
    "phường",
    "nước",
    "quốc gia",
    "vùng",
    "khu vực",
    "địa điểm",
    "châu lục",
    "sông",
    "bang",
    "đảo",
)


# "<noun> nào", with one word between at most, for who and where.
_NOUN_KINDS = (
    (WHO, _any_of(_PERSON_NOUNS, r"(?:\s+\w+)?\s+nào")),
    (WHERE, _any_of(_PLACE_NOUNS, r"(?:\s+\w+)?\s+nào")),
)
# Each kind's phrases, as written and without diacritics (one regex each: a search per
# phrase took half a millisecond per question).
_KINDS = tuple(
    (kind, _any_of(phrases), _any_of(map(unaccent, phrases))) for kind, phrases in _KIND_PATTERNS
)
# The same without the English phrases, for a Vietnamese question: its "Who" is a name's
# ("Doctor Who đi du lịch bao lâu một lần?"). A question that starts with an English
# question word is English however short ("Who chaired?").
_ASKS_IN_ENGLISH = re.compile(r"\W*(?:who|whom|whose|when|where|what|which|how)\b")
_VIETNAMESE_KINDS = tuple(
    (kind, _any_of(kept), _any_of(map(unaccent, kept)))
    for kind, phrases in _KIND_PATTERNS
    if (kept := [p for p in phrases if _ENGLISH.isdisjoint(p.split())])
)


def _noun_kind(accented: str) -> str | None:
    """who / where for "<noun> nào", or None."""
    return next((kind for kind, pattern in _NOUN_KINDS if pattern.search(accented)), None)


def _kind(question: str, language: str) -> str:
    accented = fold(question)
    plain = unaccent(question)
    # Without diacritics "ai" could be "ái"; only a question typed bare is read bare.
    bare = not has_diacritics(question)
    english = language == "en" or _ASKS_IN_ENGLISH.match(accented) is not None
    for kind, written, unaccented in _KINDS if english else _VIETNAMESE_KINDS:
        if written.search(accented) or (bare and unaccented.search(plain)):
            return kind
    return _noun_kind(accented) or WHAT


UNIT_WORDS = {"vi": 4, "en": 8}
LISTED_UNIT_WORDS = 2
_COUNTING = re.compile(r"(?:bao nhiêu|bao nhieu|\bmấy|\bmay|how many|how much)\s+([\w\s,]+)")
# "cao hơn bao nhiêu so với năm 2000", "mấy trên thế giới": a comparison, no unit.
_COMPARISON = re.compile(r"(?:so với|trên|dưới|hơn|so voi|tren|duoi|hon)\b")


def _unit(written: str, language: str) -> tuple[str, ...]:
    """The words after "bao nhiêu" / "mấy" / "how many" up to the first function word:
    what the number counts ("bao nhiêu nhiệm vụ, giải pháp" -> nhiem vu giai phap)."""
    match = _COUNTING.search(written)
    if not match:
        return ()
    if _COMPARISON.match(match.group(1)):
        return ()
    unit: list[str] = []
    # Up to UNIT_WORDS words, and a list of short nouns after them ("cơ quan, đơn vị,
    # doanh nghiệp"); a longer phrase after a comma is not what is counted ("bao nhiêu
    # tổ, nhóm Covid cộng đồng" counts "tổ").
    for index, item in enumerate(match.group(1).split(",")):
        typed = item.split()
        words = []
        for word in typed:
            if asks(word) or (language == "en" and word in _ENGLISH) or word.isdigit():
                break
            words.append(plain_syllable(word))
        if index and not 0 < len(words) <= LISTED_UNIT_WORDS:
            break
        unit += words[: UNIT_WORDS[language]]
        if len(words) < len(typed):
            break
    return _english_unit(unit) if language == "en" else tuple(unit)


def _english_unit(unit: list[str]) -> tuple[str, ...]:
    """An English noun phrase ends with its head: "how many exemplary ... models"; the
    last word the lexicon knows stands for it ("members took part" -> members)."""
    known = [word for word in unit if word in _ENGLISH_TO_VIETNAMESE]
    return tuple(_translated(known[-1])) if known else tuple(unit)


# Asking when a report was published or reported on: matched with diacritics, or on the
# bare form of a question typed without them ("đăng" bare is also "đang", "Đảng").
# "đăng ký" (register) is not "đăng" (post).
_PUBLISHED = re.compile(
    r"\b(?:đưa tin|đăng tin|đăng tải|được đăng|ngày đăng|đăng ngày|published|posted)\b"
    r"(?!\s+ký\b)"
)
_PUBLISHED_BARE = re.compile(
    r"\b(?:dua tin|dang tin|dang tai|duoc dang|ngay dang|published|posted)\b(?!\s+ky\b)"
)
_ORGANISATION = re.compile(
    r"\b(?:don vi|co quan|to chuc|ban|hoi|doan the|which organi[sz]ation|what body)\s+nao\b"
    r"|which (?:organi[sz]ation|body|agency|committee)"
)


def _anchor_runs(question: str, language: str) -> list[list[str]]:
    """Runs of adjacent anchor words. Vietnamese: content words. English: the words that
    Vietnamese text can contain: names (capitalised after the first word), numbers and
    words with diacritics."""
    runs: list[list[str]] = [[]]
    for index, match in enumerate(re.finditer(r"\w+", question)):
        word = match.group()
        plain = plain_syllable(word)
        if language == "vi":
            anchor = not asks(word) and fold(word) not in LINKING_WORDS
        else:
            anchor = (
                (index > 0 and word[0].isupper() and plain not in _TRANSLATED)
                or word.isdigit()
                or has_diacritics(word)
            )
        if anchor:
            runs[-1].append(plain)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


# Question words that stand where the answer would ("gì" in "X là gì"), as written and
# diacritics-free.
_ASKING_PHRASES = (
    "bao nhiêu",
    "khi nào",
    "bao giờ",
    "ở đâu",
    "tại đâu",
    "người nào",
    "cái gì",
    "điều gì",
    "những gì",
    "ai",
    "gì",
    "nào",
    "đâu",
    "mấy",
)
_ASKING = _any_of((*_ASKING_PHRASES, *map(unaccent, _ASKING_PHRASES)))
CONTEXT_WORDS = 3


def _context(written: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Content words right before and right after the question word (Vietnamese only)."""
    match = _ASKING.search(written) if language == "vi" else None
    if match is None:
        return (), ()

    def content(text: str) -> list[str]:
        return [plain_syllable(w) for w in _SYLLABLE.findall(text) if not asks(w)]

    before = content(written[: match.start()])[-CONTEXT_WORDS:]
    after = content(written[match.end() :])[:CONTEXT_WORDS]
    return tuple(before), tuple(after)


INITIALISM_WORDS = range(2, 7)


def _initialisms(runs: list[list[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every stretch of 2 to 6 adjacent anchor words (no digits) with its initials."""
    found = []
    for run in runs:
        for size in INITIALISM_WORDS:
            for start in range(len(run) - size + 1):
                phrase = tuple(run[start : start + size])
                if not any(word[0].isdigit() for word in phrase):
                    found.append(("".join(word[0] for word in phrase), phrase))
    return tuple(found)


def _published(question: str) -> bool:
    if has_diacritics(question):
        return _PUBLISHED.search(fold(question)) is not None
    return _PUBLISHED_BARE.search(unaccent(question)) is not None


_AUTHOR = re.compile(r"\b(?:tac gia|ai viet|nguoi viet|who wrote|author|written by)\b")
# The article itself, whose author its byline names ("tác giả bài báo"); the author of
# a book or a song is asked like any other person.
_THE_ARTICLE = re.compile(r"\b(?:bai|tin|bao cao|article|report|news|story|post|piece)\b")
PERIOD, CLOCK, WEEKDAY = "period", "clock", "weekday"
_MOMENTS = (
    (
        PERIOD,
        re.compile(r"\b(?:giai doan|thoi ky|nhiem ky) nao\b|\b(?:which|what) (?:period|term)\b"),
    ),
    (CLOCK, re.compile(r"\bmay gio\b|\bgio nao\b|\bwhat time\b")),
    # "thứ mấy" after "vào" or "ngày", or "trong tuần"; "lần thứ mấy" is an ordinal.
    (
        WEEKDAY,
        re.compile(r"\b(?:vao|ngay|hom) thu may\b|\bthu may trong tuan\b|\bday of the week\b"),
    ),
)


def _moment(plain: str) -> str:
    """The form of date a question asks for (QuestionInfo.moment)."""
    return next((name for name, pattern in _MOMENTS if pattern.search(plain)), "")


# Words for the report itself ("bài viết có bao nhiêu lượt xem", "được đăng ngày nào"),
# which its text never uses: they say which document, not what a passage must hold.
_ARTICLE_WORDS = (("bai", "viet"), ("bai", "bao"))
_PUBLISHING_WORDS = frozenset(("dang", "dua", "tin", "tai", "published", "posted"))


# Capital letters of Vietnamese (and other Latin) text: "[A-Z]" misses "Ô", "Ả" and "Ấ".
_UPPER = "[" + "".join(c for c in map(chr, range(0x41, 0x2000)) if c.isupper()) + "]"
# A run of capitalised words ("Bắc Giang", "Phùng Chí Kiên").
CAPITALISED_RUN = rf"{_UPPER}[^\W\d_]*(?:\s+{_UPPER}[^\W\d_]*)*"
# A place after its level, or its party committee ("huyện Chiêm Hóa", "Tỉnh ủy Bắc
# Giang", typed with or without marks), or before an English level ("Bắc Kạn province").
# Typed without marks, the levels' words are read as such only in a question typed so
# ("quan" is also "cơ quan", "xa" "far").
_LEVELS = "tỉnh|huyện|quận|thành phố|thị xã|xã|phường|thị trấn"
_ENGLISH_LEVEL = r"(?i:province|provincial|district|city|ward|commune|town)\b"


def _named_place(levels: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?i:\b(?:{levels})(?:\s+(?:ủy|uỷ|uy))?)\s+({CAPITALISED_RUN})"
        rf"|({CAPITALISED_RUN})\s+{_ENGLISH_LEVEL}"
    )


_NAMED_PLACE = _named_place(_LEVELS)
_NAMED_PLACE_TYPED_PLAIN = _named_place(f"{_LEVELS}|{unaccent(_LEVELS)}")


def _places(question: str, anchors: set[str]) -> tuple[str, ...]:
    """The places a question names, as diacritics-free words (of its anchors: "The" in
    "The Bắc Kạn city" is none)."""
    found = []
    named = _NAMED_PLACE if has_diacritics(question) else _NAMED_PLACE_TYPED_PLAIN
    for match in named.finditer(question):
        words = [w for w in syllables(match.group(1) or match.group(2))[1] if w in anchors]
        if words:
            found.append(" ".join(words))
    return tuple(found)


def _about_the_text(words: list[str], published: bool) -> list[str]:
    """Content words less the pairs that name the article itself and, in a question
    about its publication, the words for publishing."""
    kept: list[str] = []
    for word in words:
        if kept and (kept[-1], word) in _ARTICLE_WORDS:
            kept.pop()
        elif not (published and word in _PUBLISHING_WORDS):
            kept.append(word)
    return kept


def analyse(question: str) -> QuestionInfo:
    """Language, answer kind, content terms, counted unit and the other flags of a question
    (see QuestionInfo)."""
    asked = question
    # NFC with canonical tones: NFD marks would split words in the patterns below.
    question = canonical(question)
    plain = unaccent(question)
    written = _written(question)
    language = _language(question)
    published = _published(question)
    content = _about_the_text(
        [word for typed, word in zip(*syllables(question), strict=True) if not asks(typed)],
        published,
    )
    translation = _translated_words(content) if language == "en" else None
    kind = _kind(question, language)
    runs = [_about_the_text(run, published) for run in _anchor_runs(question, language)]
    if translation is not None:
        # The Vietnamese phrases stand where the English words were.
        runs += translation.phrases
    organisation = _ORGANISATION.search(plain) is not None
    if organisation and kind == WHAT:
        kind = WHO
    lowered = plain.lower()
    moment = _moment(lowered)
    if moment:
        kind = WHEN
    before, after = _context(written, language)
    return QuestionInfo(
        text=asked,
        kind=kind,
        language=language,
        terms=tuple(content if translation is None else translation.words),
        anchors=tuple(word for run in runs for word in run),
        anchor_pairs=tuple(pair for run in runs for pair in pairs(run)),
        unit=_unit(written, language),
        ordinal=moment != WEEKDAY and re.search(r"\bthu (?:may|bao nhieu)\b", plain) is not None,
        moment=moment,
        share=kind == NUMBER and _SHARE.search(lowered) is not None,
        money=kind == NUMBER and _MONEY.search(lowered) is not None,
        plural=_PLURAL.search(lowered) is not None,
        author=_AUTHOR.search(plain) is not None and _THE_ARTICLE.search(plain) is not None,
        organisation=organisation,
        published=published,
        before=before,
        after=after,
        # An English question has the initials of the Vietnamese bodies it names.
        initialisms=_initialisms(runs if translation is None else translation.bodies),
        places=_places(question, {word for run in runs for word in run}),
    )
