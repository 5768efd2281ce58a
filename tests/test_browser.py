"""The chat page in a real browser: Debian's Chromium driven by Playwright (no browser download).

Skipped only where Chromium is absent outside CI; in CI (`CI=true`) `.ci/run` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous for a loaded 2-core machine; answers take well under a second.
TIMEOUT_MS = 30_000
NEW_REPORT = """Xã Tân Lập tổng kết phong trào dân vận năm 2023

Ngày 5/12/2023, Ủy ban nhân dân xã Tân Lập tổ chức hội nghị tổng kết phong trào dân vận.
Chủ trì hội nghị là bà Lò Thị Mai, Chủ tịch Ủy ban nhân dân xã.
Trong năm, người dân trong xã đã hiến hơn 3.000 mét vuông đất để mở rộng đường liên thôn.
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Chromium with a fresh user-data dir."""
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs it with apt-get")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="vi-VN",
        )
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


@pytest.fixture
def page(browser: BrowserContext, app_url: str) -> Iterator[Page]:
    page = browser.new_page()
    page.goto(app_url)
    yield page
    page.close()


def ask(page: Page, question: str) -> None:
    """Type a question, press Enter and wait for its reply to be the last message."""
    replies = page.locator("#chat .reply")
    before = replies.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(replies).to_have_count(before + 1)


def test_question_shows_the_highlighted_answer(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ask(page, "Ai chủ trì hội nghị ở Chiêm Hóa?")
    reply = page.locator("#chat .reply").last
    expect(reply.locator("mark.answer")).to_have_text("Hà Đức Tập")
    expect(reply.locator("span.sentence mark.answer")).to_have_count(1)
    expect(reply.locator(".source").first).to_contain_text("chiem-hoa-2022-07.txt")
    expect(reply.locator("details.passages summary")).to_be_visible()
    page.screenshot(path=tmp_path_factory.mktemp("screens") / "chiem-hoa.png")


def test_uploaded_file_becomes_answerable(page: Page, tmp_path: Path) -> None:
    report = tmp_path / "tan-lap-2023.txt"
    report.write_text(NEW_REPORT, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(report)
    expect(page.locator("#upload-log")).to_contain_text("Đã thêm: tan-lap-2023.txt")
    expect(page.locator("#index-status")).to_contain_text("6 tài liệu")
    ask(page, "Ai chủ trì hội nghị tổng kết ở xã Tân Lập?")
    reply = page.locator("#chat .reply").last
    expect(reply.locator("mark.answer")).to_have_text("Lò Thị Mai")
    expect(reply.locator(".source").first).to_contain_text("tan-lap-2023.txt")


def test_refused_upload_shows_its_message(page: Page, tmp_path: Path) -> None:
    scan = tmp_path / "scan.txt"
    scan.write_bytes(bytes(range(256)) * 8)
    page.locator("#upload input[type=file]").set_input_files(scan)
    expect(page.locator("#upload-log")).to_contain_text(
        "Bị từ chối: scan.txt: not readable as text"
    )
