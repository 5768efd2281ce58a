"""Typed answer candidates and question reading on hand-made sentences (no index)."""

from __future__ import annotations

import pytest

from qa.answer import sentence_support
from qa.candidates import has_dateline, numbers, people
from qa.question import analyse


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
