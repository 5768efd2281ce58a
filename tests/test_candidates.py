"""Typed answer candidates and question reading on hand-made sentences (no index)."""

from __future__ import annotations

import re

import pytest

from index.lexical import plain_syllable
from qa.answer import sentence_support
from qa.candidates import dates, has_dateline, numbers, organisations, people, places
from qa.question import analyse, with_marks
from qa.reader import Sentence, proposals, rank


def _texts(text: str, found: list) -> list[str]:
    return [text[c.start : c.end] for c in found]


def test_a_name_after_a_semicolon_is_a_person_not_a_place() -> None:
    text = "Chủ tịch Ủy ban MTTQ tỉnh; Phan Thị Na, Phó Trưởng Ban Dân vận."
    assert "Phan Thị Na" in _texts(text, people(text))


def test_a_run_right_after_a_place_word_is_a_place() -> None:
    text = "Hội nghị tại tỉnh Bắc Giang có Nguyễn Văn Bình dự."
    assert _texts(text, people(text)) == ["Nguyễn Văn Bình"]


def test_a_given_name_after_a_middle_name_stays_even_when_it_is_an_office_word() -> None:
    # "Thành" also opens "Thành ủy", but after "Vũ Thị" it is the given name.
    text = "Đồng chí Vũ Thị Thành - UVTV, Chủ tịch Ủy ban MTTQ Quận; đồng chí Lê Văn Quân dự."
    assert _texts(text, people(text)) == ["Vũ Thị Thành", "Lê Văn Quân"]
    # Titles after a full name still go.
    text = "Đồng chí Nguyễn Văn Thành Phó Bí thư phát biểu."
    assert _texts(text, people(text)) == ["Nguyễn Văn Thành"]


def test_english_periods_and_bodies_read_as_the_reports_write_them() -> None:
    info = analyse("Who chaired the first-quarter meeting of the Fatherland Front committee?")
    assert {"quy", "i", "mat", "tran", "to", "quoc"} <= set(info.terms)
    # The translated body is an anchor and gives its initials; the English words do not.
    assert {"mat", "tran", "to", "quoc"} <= set(info.anchors)
    assert not {"fatherland", "front"} & set(info.anchors)
    assert dict(info.initialisms)["mttq"] == ("mat", "tran", "to", "quoc")
    assert ("q", "i") not in {tuple(i) for i, _ in info.initialisms}
    info = analyse("How many tasks were set for the second half of 2022?")
    assert info.terms[-5:] == ("6", "thang", "cuoi", "nam", "2022")
    assert dict(analyse("What did the People's Committee decide?").initialisms)["ubnd"] == (
        "uy",
        "ban",
        "nhan",
        "dan",
    )


def test_a_time_of_day_is_not_a_count() -> None:
    text = "Ngày đăng 08/04/2021 | 11:22 | Lượt xem: 1748"
    found = numbers(text, analyse("Bài viết có bao nhiêu lượt xem?"))
    assert _texts(text, found) == ["1748"]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Ngành xây dựng đóng góp 6-9% tổng sản phẩm.", "6-9%"),
        ("Trận đấu kết thúc với tỷ số 20-18.", "20-18"),
        ("Tỷ lệ người di cư là 20:1.", "20:1"),
        ("Giai đoạn 2000-2005 có 22.392 km vuông bị mất.", "22.392"),
    ],
)
def test_a_range_score_or_ratio_is_one_count(text: str, count: str) -> None:
    found = numbers(text, analyse("Có bao nhiêu?"))
    assert max(found, key=lambda c: c.prior).start == text.index(count)
    assert count in _texts(text, found)


def test_an_english_count_is_of_the_phrase_head() -> None:
    assert analyse("How many typical cultural families were recognised?").unit == ("gia", "dinh")
    assert analyse("How many members took part in the event?").unit == ("thanh", "vien")


def test_a_given_name_typed_in_lower_case_before_the_title_stays_in_the_name() -> None:
    text = "Đồng chí Hà Đức tập, Phó Bí thư Thường trực Huyện ủy phát biểu."
    assert _texts(text, people(text)) == ["Hà Đức tập"]
    # Only before a comma that opens a title: a lower-case verb is not a name.
    for text in ("Đồng chí Hà Đức phát biểu, chỉ đạo hội nghị.", "Ông Phạm Minh nói, hội nghị."):
        assert len(_texts(text, people(text))[0].split()) == 2


def test_a_question_about_publication_reads_the_dateline() -> None:
    assert analyse("Hội nghị được đưa tin vào ngày nào?").published
    assert analyse("Bai viet duoc dang ngay nao?").published
    assert analyse("When was the article published?").published
    # "Đảng", "đang" and "đăng ký" are not "đăng".
    assert not analyse("Đảng bộ đang triển khai nhiệm vụ nào?").published
    assert not analyse("Dang bo dang trien khai nhiem vu nao?").published
    assert not analyse("Ngày đăng ký kết hôn là ngày nào?").published
    assert has_dateline("Thứ Ba, 23/7/2024")
    assert has_dateline("Thứ Ba, ngày 19 tháng 7 năm 2022 - 10:08 Đã xem: 263")
    assert has_dateline("Ngày đăng 08/04/2021 | 11:22")
    assert not has_dateline("Ngày 14/12/2017, Tỉnh ủy ban hành Đề án 06.")
    assert not has_dateline("Thứ hai, 100% xã đạt chuẩn 12/12/2022.")


def test_sentence_support_wants_one_sentence_and_the_questions_names() -> None:
    question = analyse("Ai chủ trì hội nghị ở Chiêm Hóa?")
    together = "Đồng chí Hà Đức Tập chủ trì hội nghị ở Chiêm Hóa."
    spread = "Hội nghị diễn ra sáng nay. Đồng chí Hà Đức Tập chủ trì. Huyện Chiêm Hóa."
    elsewhere = "Đồng chí Ngô Mạnh Điềm chủ trì hội nghị ở Quận."
    scores = sentence_support(
        question, [(together, ""), (spread, ""), (elsewhere, "")], lambda t: [1.0] * len(t)
    )
    assert scores[0] == 1.0
    assert scores[0] > scores[1] > 0
    assert scores[0] > scores[2]
    # The passage's title counts for the names: the same sentence under a Chiêm Hóa title.
    titled = sentence_support(question, [(elsewhere, "Chiêm Hóa")], lambda t: [1.0] * len(t))
    assert titled[0] > scores[2]


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        # With its marks, "thể" is not the question word "thế", nor "lực" "lúc".
        ("Bao nhiêu tập thể được tặng Bằng khen?", ("tap", "the")),
        ("Bao nhieu tap the duoc tang Bang khen?", ("tap", "the")),
        ("Có bao nhiêu lực lượng tham gia?", ("luc", "luong", "tham", "gia")),
        # A list of short nouns is the unit; a longer phrase after the comma is not.
        ("Tỉnh nêu bao nhiêu nhiệm vụ, giải pháp trong năm tới?", ("nhiem", "vu", "giai", "phap")),
        ("Tỉnh lập bao nhiêu tổ, nhóm tự quản khu dân cư?", ("to",)),
        # A comparison, not a unit.
        ("Năm nay cao hơn bao nhiêu so với năm trước?", ()),
        ("How many sessions were held?", ("buoi",)),
    ],
)
def test_the_counted_unit(question: str, unit: tuple[str, ...]) -> None:
    assert analyse(question).unit == unit


def test_question_words_are_told_apart_by_their_marks() -> None:
    info = analyse("Huyện sơ kết 6 tháng đầu năm 2022 vào ngày nào?")
    # "đầu" is a content word, and the question word is "nào", after "ngày".
    assert "dau" in info.terms and info.before[-1] == "ngay"


def test_a_span_of_years_with_spaces_is_one_date() -> None:
    text = "Đại hội Công đoàn nhiệm kỳ 2023 -2028 và giai đoạn 2018 – 2020."
    assert {"2023 -2028", "2018 – 2020"} <= set(_texts(text, dates(text)))


@pytest.mark.parametrize(
    ("text", "question", "count"),
    [
        # A percentage keeps its own unit.
        (
            "Xã vận động xóa bỏ 100% bếp than tổ ong.",
            "Xóa bỏ bao nhiêu phần trăm bếp than?",
            "100%",
        ),
        # The unit written as initials: "KDC" for "khu dân cư".
        ("Có 117/117 KDC đăng ký danh hiệu.", "Bao nhiêu khu dân cư ở xã đăng ký?", "117/117 KDC"),
    ],
)
def test_a_count_with_its_unit(text: str, question: str, count: str) -> None:
    found = numbers(text, analyse(question))
    assert max(found, key=lambda c: c.prior).start == text.index(count)
    assert count in _texts(text, found)


def test_a_documents_number_keeps_its_issuers_letters() -> None:
    text = "Thực hiện Quyết định số 218-QĐ/TW và Đề án 06-ĐA/TU, xã có 12 mô hình."
    found = _texts(text, numbers(text, analyse("Quy định ban hành theo quyết định số mấy?")))
    assert "218-QĐ/TW" in found and "06-ĐA/TU" in found
    # The document the question names is no answer.
    found = _texts(text, numbers(text, analyse("Đề án 06 có bao nhiêu mô hình?")))
    assert "06-ĐA/TU" not in found and "12 mô hình" in found


def test_a_number_after_two_question_words_is_their_value() -> None:
    text = "Trong đó duy trì 40, đăng ký mới 25 mô hình."
    found = numbers(text, analyse("Bao nhiêu mô hình đăng ký mới?"))
    priors = {text[c.start : c.end]: c.prior for c in found}
    assert priors["40"] < priors["25 mô hình"]
    found = numbers(text, analyse("Có bao nhiêu mô hình được duy trì?"))
    assert {text[c.start : c.end]: c.prior for c in found}["40"] == 0.9


def _best_count(text: str, question: str) -> str:
    info = analyse(question)
    found = proposals(_sentence(text), info, info.terms, [1.0] * len(info.terms))
    best = max(found, key=lambda p: rank(p.features, info.kind))
    return text[best.span.start : best.span.end]


def test_a_breakdown_item_named_by_the_question_narrows_the_total() -> None:
    text = "Xã có 52 tổ hợp tác hoạt động (duy trì 30, đăng ký mới 22, nông nghiệp 41)."
    assert _best_count(text, "Xã có bao nhiêu tổ hợp tác đăng ký mới?") == "22"
    assert _best_count(text, "Xa co bao nhieu to hop tac dang ky moi?") == "22"
    assert _best_count(text, "How many new cooperative groups registered?") == "22"
    assert _best_count(text, "Bao nhiêu tổ hợp tác nông nghiệp ở xã?") == "41"
    # The total when the question names no item, or only words the sentence says twice.
    assert _best_count(text, "Xã có bao nhiêu tổ hợp tác?") == "52 tổ hợp tác"
    text = "Xã có 52 hộ kinh doanh (kinh doanh 41, dịch vụ 11)."
    assert _best_count(text, "Xã có bao nhiêu hộ kinh doanh?") == "52 hộ kinh doanh"
    # A label inside running text is no breakdown: the total keeps its rank.
    text = "Xã có 52 tổ hợp tác, trong đó hợp tác xã nông nghiệp 12 năm tuổi."
    found = numbers(text, analyse("Xã có bao nhiêu tổ hợp tác nông nghiệp?"))
    assert {text[c.start : c.end]: c.prior for c in found}["52 tổ hợp tác"] == 1.0


def test_bodies_places_and_set_phrases() -> None:
    text = "Sáng kiến được Ban Dân vận Trung ương ghi nhận."
    assert _texts(text, organisations(text)) == ["Ban Dân vận Trung ương"]
    text = "Chuẩn bị bầu cử Quốc hội khóa XV và HĐND các cấp; Ban hành kế hoạch."
    assert _texts(text, organisations(text)) == ["Quốc hội khóa XV"]
    text = "Quy định của Bộ Chính trị; Ban Thường vụ Huyện uỷ, Ban Chấp hành họp."
    assert _texts(text, organisations(text)) == [
        "Bộ Chính trị",
        "Ban Thường vụ Huyện uỷ",
        "Ban Chấp hành",
    ]
    text = "Dân quân giúp dân tại các xã, phường; Huyện ủy Na Rì họp."
    assert _texts(text, places(text)) == ["các xã, phường", "Na Rì"]
    # "phong cách Hồ Chí Minh" names no one who took part.
    text = "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh."
    assert people(text) == []


def _sentence(text: str) -> Sentence:
    words = [(plain_syllable(m.group()), m.start(), m.end()) for m in re.finditer(r"\w+", text)]
    return Sentence(text, words, 1.0, 0, 1.0, 1)


def _proposed(text: str, question: str) -> list[str]:
    info = analyse(question)
    found = proposals(_sentence(text), info, info.terms, [1.0] * len(info.terms))
    return [text[p.span.start : p.span.end] for p in found]


def test_a_deputys_title_does_not_answer_for_the_head() -> None:
    text = "Chủ trì có Lò Văn Bình - Trưởng Ban Dân vận; Đinh Thị Hạnh, Phó Trưởng Ban Dân vận."
    info = analyse("Trưởng Ban Dân vận là ai?")
    found = proposals(_sentence(text), info, info.terms, [1.0] * len(info.terms))
    best = max(found, key=lambda p: rank(p.features, info.kind))
    assert text[best.span.start : best.span.end] == "Lò Văn Bình"


def test_a_lone_year_word_is_not_a_count_nor_a_repeat_an_answer() -> None:
    text = "Sáu tháng đầu năm, xã trồng năm nghìn cây xanh trong quý I năm 2021."
    found = _proposed(text, "Xã trồng bao nhiêu cây xanh trong quý I năm 2021?")
    assert "năm nghìn cây xanh" in found
    assert "năm" not in found and "quý I năm 2021" not in found


@pytest.mark.parametrize(
    ("text", "question", "answer"),
    [
        # A share is asked: the count beside it is not one ("tỷ lệ" and English too).
        (
            "Năm 2021, trong số 9.120 hộ của xã, 62,5% là hộ làm nông nghiệp.",
            "Bao nhiêu phần trăm số hộ của xã làm nông nghiệp năm 2021?",
            "62,5%",
        ),
        (
            "Trong số 12.000 thí sinh dự tuyển, trường nhận 580 em, tỷ lệ 4,8%.",
            "Tỷ lệ thí sinh trường nhận là bao nhiêu?",
            "4,8%",
        ),
        # "một" alone is mostly the article ("một trong ba"): the counted words win.
        (
            "Mọi tổ tự quản đều thuộc một trong ba khối sau đây.",
            "Tổ tự quản thuộc bao nhiêu khối?",
            "ba khối",
        ),
    ],
)
def test_the_asked_kind_of_number_wins(text: str, question: str, answer: str) -> None:
    assert _best_count(text, question) == answer


def test_years_keep_their_word_and_periods_their_ends() -> None:
    text = "Năm 1998, xã lập trạm y tế; từ 2005 đến 2010 xã mở rộng trạm vào tháng Năm 2012."
    found = _texts(text, dates(text))
    assert "Năm 1998" in found and "từ 2005 đến 2010" in found
    # "tháng Năm" is May, not the word for year.
    assert "2012" in found and "Năm 2012" not in found


@pytest.mark.parametrize(
    ("question", "moment", "answer"),
    [
        ("Bài viết được đăng vào thứ mấy trong tuần?", "weekday", "Thứ Sáu"),
        ("Bai viet duoc dang vao thu may?", "weekday", "Thứ Sáu"),
        ("Bài viết được đăng lúc mấy giờ?", "clock", "11:22"),
        ("At what time was the article posted?", "clock", "11:22"),
        ("Bài viết được đăng ngày nào?", "", "01/07/2022"),
    ],
)
def test_a_weekday_or_a_time_of_day_answers_only_when_asked(
    question: str, moment: str, answer: str
) -> None:
    info = analyse(question)
    assert (info.kind, info.moment) == ("when", moment)
    text = "Thứ Sáu, 01/07/2022 - 11:22"
    assert _best_count(text, question) == answer
    # "lần thứ mấy" still asks for an ordinal.
    assert analyse("Đại hội lần thứ mấy?").ordinal


def test_an_english_question_word_inside_a_vietnamese_question_is_a_name() -> None:
    assert analyse("Doctor Who phát sóng bao lâu một lần?").kind != "who"
    assert analyse("Phim Doctor Who có bao nhiêu tập?").kind == "number"
    assert analyse("Who chaired?").kind == "who"
    # "Which decision number" asks for a document's number, words read as the reports'.
    info = analyse("Under which decision number was the regulation on supervision issued?")
    assert info.kind == "number" and {"quyet", "dinh", "giam", "sat"} <= set(info.terms)
    # The byline answers only for the author of the article itself.
    assert analyse("Ai là tác giả bài báo về hội nghị?").author
    assert not analyse("Ai là tác giả của cuốn sách Đất rừng phương Nam?").author


def test_a_sum_of_money_is_a_number_with_its_currency() -> None:
    text = "Lực lượng vũ trang xây 01 nhà tình nghĩa trị giá 80 triệu đồng tại tổ 10."
    for question in ("Nhà tình nghĩa trị giá bao nhiêu tiền?", "How much did the house cost?"):
        assert analyse(question).money
        assert _best_count(text, question) == "80 triệu đồng"
    assert _best_count(text, "Xây bao nhiêu nhà tình nghĩa?") == "01 nhà tình nghĩa"
    # English questions name a place by its level too.
    assert analyse("In which ward was the briefing held?").kind == "where"


def test_a_bare_question_takes_the_marks_its_passage_writes() -> None:
    text = "Ban Dân vận Quận ủy được giao tham mưu sơ kết; Quận có 6 quy chế dân chủ."
    # A word beside the same neighbour as in the text, else a question word's marks.
    assert with_marks("Don vi nao duoc giao tham muu so ket?", text) == (
        "Don vi nào được giao tham mưu sơ kết?"
    )
    assert with_marks("Quan co bao nhieu quy che dan chu?", text) == (
        "Quận có bao nhiêu quy chế dân chủ?"
    )
    # A question with marks stays as it was typed.
    assert with_marks("Quận có bao nhiêu quy chế?", text) == "Quận có bao nhiêu quy chế?"
