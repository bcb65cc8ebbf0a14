"""One real-browser round: `streamlit run` on a free port, headless Chromium driven by Playwright.

Screenshots of the graded answer and of the Review page are saved to `test-artifacts/` (the README shows them).
Chromium comes from Debian (`make test` installs it); without it the test is skipped on a developer machine and
fails under CI, so a CI run never passes without the browser test.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from interviewer.models import LOCAL_OWNER
from interviewer.settings import PROJECT_ROOT, Settings
from interviewer.store import open_store

if TYPE_CHECKING:
    from playwright.sync_api import Page

from .fake_llm import FakeLLM, Step, assessment_for, reply

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
ANSWER = (
    "Dynamic batching groups concurrent requests into one batch so the GPU runs one large kernel instead of many "
    "small ones, which raises throughput. The server bounds the wait with a maximum batch size and a maximum "
    "queue delay, so each request pays a little latency."
)

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium before the tests.")
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve_app(
    settings: Settings, tmp_path: Path, port: int | None = None, flags: tuple[str, ...] = (), **environment: str
) -> Iterator[str]:
    """A `streamlit run` of the app on `port` (a free one by default) with the test's home, knowledge copy,
    `environment` and more command-line `flags`."""
    port = port or free_port()
    env = {
        **os.environ,
        "INTERVIEWER_HOME": str(settings.home),
        "INTERVIEWER_KNOWLEDGE_DIR": str(settings.knowledge_dir),
        **environment,
    }
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            *flags,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not become healthy:\n" + (tmp_path / "streamlit.log").read_text())
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # on a loaded machine stopping can take longer; the test is over anyway
            server.kill()
            server.wait(timeout=20)
        log.close()


def start_focus_round(page: Page, focus: str) -> None:
    """Start a focus round of the default length; when the bank has fewer questions on it, take those it has."""
    from playwright.sync_api import expect

    page.get_by_label("Or a focus, in your own words").fill(focus)
    page.get_by_role("button", name="Start the round").click()
    chat, accept = page.get_by_placeholder("Your answer"), page.get_by_role("button", name="Start with")
    expect(chat.or_(accept)).to_be_visible(timeout=60_000)
    if accept.is_visible():
        accept.click()
    expect(chat).to_be_visible(timeout=60_000)


@pytest.fixture
def app_url(indexed_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """The app, grading offline."""
    with serve_app(indexed_settings, tmp_path, INTERVIEWER_GRADER="offline") as url:
        yield url


def test_a_round_in_a_real_browser(app_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 1500})
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(app_url)
        start_focus_round(page, "dynamic batching in a model server")
        chat = page.get_by_placeholder("Your answer")
        expect(chat).to_be_visible(timeout=60_000)
        chat.fill(ANSWER)
        chat.press("Enter")
        expect(page.get_by_text("Score", exact=True).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("What to add:").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "graded-answer.png"), full_page=True)

        page.get_by_role("button", name="End the round").click()
        expect(page.get_by_text("Round summary")).to_be_visible(timeout=30_000)
        page.get_by_role("link", name="Review").click()
        expect(page.get_by_text("Scores over time")).to_be_visible(timeout=30_000)
        expect(page.get_by_text(ANSWER[:40]).first).to_be_visible()
        expect(page.get_by_role("button", name="Export Markdown")).to_be_visible(timeout=30_000)
        expect(page.locator(".vega-embed canvas, .vega-embed svg").first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)  # let the charts finish their first paint
        page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
        browser.close()
    outside = [url for url in requested if not url.startswith((app_url, "data:", "blob:"))]
    assert outside == [], outside  # the app works offline: no font, icon or script from elsewhere
    assert (ARTIFACTS / "graded-answer.png").stat().st_size > 10_000
    assert (ARTIFACTS / "review.png").stat().st_size > 10_000


def test_a_tab_left_behind_cannot_answer_the_wrong_question(app_url: str, indexed_settings: Settings) -> None:
    from playwright.sync_api import expect, sync_playwright

    stale = "Written in the first tab for question 1, after the second tab had answered it."
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1100, "height": 1400})
        first, second = context.new_page(), context.new_page()
        first.goto(app_url)
        start_focus_round(first, "dynamic batching in a model server")

        second.goto(app_url)
        second.get_by_role("button", name="Resume round").click()
        box = second.get_by_placeholder("Your answer")
        expect(box).to_be_visible(timeout=60_000)
        box.fill(ANSWER)
        box.press("Enter")
        expect(second.get_by_text("Score", exact=True).first).to_be_visible(timeout=60_000)

        box = first.get_by_placeholder("Your answer")
        box.fill(stale)
        box.press("Enter")
        expect(first.get_by_text("moved past").first).to_be_visible(timeout=60_000)
        expect(first.get_by_placeholder("Your answer")).to_have_value(stale)
        browser.close()
    (record,) = open_store(indexed_settings).list_rounds(owner=LOCAL_OWNER)
    assert [turn.answer for turn in record.turns] == [ANSWER]


def test_fifty_answers_sent_100_ms_apart_are_each_saved_or_given_back(app_url: str, indexed_settings: Settings) -> None:
    """A person hammering Enter: whatever leaves the box is saved once or shown back; nothing sent vanishes."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    sent: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.goto(app_url)
        start_focus_round(page, "dynamic batching in a model server")
        box, summary = page.get_by_placeholder("Your answer"), page.get_by_text("Round summary")
        box.fill(ANSWER)  # one answer at a person's pace first, so the burst meets a warm grader
        box.press("Enter")
        expect(page.get_by_text("Score", exact=True).first).to_be_visible(timeout=60_000)
        attempts, deadline = 0, time.monotonic() + 120
        while attempts < 50 or (len(sent) < 3 and time.monotonic() < deadline):  # a slow machine: go on
            if summary.is_visible():
                break
            attempts += 1
            text = f"Answer {attempts:03d}: batching groups requests so the GPU runs fewer, larger kernels."
            try:
                pending = box.input_value(timeout=100)  # given back, or typed and not sent: send it, never overwrite
                if not pending:
                    box.fill(text, timeout=100)
                    pending = text
                box.press("Enter", timeout=100)
                if box.input_value(timeout=100) != pending:  # it left the box: the page accepted it
                    sent.append(pending)
            except PlaywrightTimeout:  # the box is disabled while an answer is graded, or gone with the round
                pass
            page.wait_for_timeout(100)
        deadline = time.monotonic() + 90
        while not summary.is_visible() and not (box.is_visible() and box.is_enabled()):
            assert time.monotonic() < deadline, "the page never settled after the burst"
            page.wait_for_timeout(200)
        expect(box.or_(summary).first).to_be_visible()
        page.wait_for_timeout(1000)  # a last queued answer would be taken by now
        given_back = box.input_value() if box.is_visible() else ""
        on_page = page.locator("section.main, [data-testid='stMain']").first.inner_text()
        browser.close()
    (record,) = open_store(indexed_settings).list_rounds(owner=LOCAL_OWNER)
    stored = [turn.answer for turn in record.turns if turn.answer]
    saved = [text for text in sent if any(text in answer for answer in stored)]
    vanished = [text for text in sent if text not in saved and text not in given_back and text not in on_page]
    doubled = [text for text in sent if sum(text in answer for answer in stored) > 1]
    print(f"{attempts} attempts, {len(sent)} sent, {len(saved)} saved, {len(sent) - len(saved)} given back")
    assert saved  # the page took answers from the burst
    assert vanished == []
    assert doubled == []


class Listener:
    """A loopback HTTP server that records every request: where a rendered link or image from a reply would call."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_HEAD = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def hostile_markdown(base: str) -> str:
    """Text full of every way Markdown or HTML could make a link or load an image, all pointing at `base`."""
    return (
        f"Well argued ![tracker]({base}/image.png) and [read more]({base}/link), [run](javascript:alert(1)), "
        f"<{base}/autolink>, {base}/bare, www.example.com, grader@example.com, "
        f'<img src="{base}/html-image"> <a href="{base}/html-link">here</a> [ref][r] ![ref image][i]\n\n'
        f"[r]: {base}/reference\n[i]: {base}/reference-image.png"
    )


def links_and_images(page: object, app: str) -> list[str]:
    """Every link target and image source on the page that is not the app's own."""
    hrefs = page.eval_on_selector_all("a[href]", "elements => elements.map(e => e.getAttribute('href'))")
    sources = page.eval_on_selector_all("img", "elements => elements.map(e => e.getAttribute('src') || '')")
    own = (app, "/", "#", "data:", "blob:", "./", "static/")
    return [target for target in [*hrefs, *sources] if not target.startswith(own) or "example" in target]


def test_whatever_an_llm_writes_is_shown_inert(indexed_settings: Settings, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    listener = Listener()
    hostile = hostile_markdown(listener.base)
    follow_up = f"What about padding? ![x]({listener.base}/follow-up.png) [more]({listener.base}/follow-up)"

    def choose(body: dict) -> Step:
        if "response_format" not in body:  # the follow-up request
            return reply(follow_up)
        fields = dict.fromkeys(("reasoning", "strengths", "improvements", "model_answer"), hostile)
        return reply(assessment_for(body, score=3.0, **fields))

    fake = FakeLLM(choose=choose).start()
    environment = {
        "INTERVIEWER_GRADER": "llm",
        "INTERVIEWER_LLM_BASE_URL": fake.base_url,
        "INTERVIEWER_LLM_TIMEOUT": "30",
    }
    try:
        with serve_app(indexed_settings, tmp_path, **environment) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            page = browser.new_page(viewport={"width": 1100, "height": 1500})
            page.goto(url)
            start_focus_round(page, "dynamic batching in a model server")
            chat = page.get_by_placeholder("Your answer")
            chat.fill(ANSWER)
            chat.press("Enter")
            expect(page.get_by_text("What to add:").first).to_be_visible(timeout=90_000)
            page.get_by_text("Model answer").first.click()
            expect(page.get_by_text("![tracker]").first).to_be_visible()  # shown, as the text it is
            assert links_and_images(page, url) == []
            expect(page.get_by_text("Follow-up").first).to_be_visible()
            assert "follow-up.png" not in page.content()  # the follow-up with a link was dropped for the offline one

            page.get_by_role("button", name="End the round").click()
            expect(page.get_by_text("Round summary")).to_be_visible(timeout=30_000)
            assert links_and_images(page, url) == []
            page.get_by_role("link", name="Review").click()
            expect(page.get_by_text("![tracker]").first).to_be_visible(timeout=30_000)
            assert links_and_images(page, url) == []
            page.wait_for_timeout(500)  # time for anything that would load to be requested
            browser.close()
    finally:
        fake.stop()
        listener.stop()
    assert listener.paths == []
    assert any("response_format" not in body for body in fake.requests)  # the follow-up was asked of the LLM
