"""Team mode in a real browser, signed in through a real OpenID Connect provider on loopback (node-oidc-provider).

People sign in in their own browser contexts (separate browsers, as far as cookies go): two members, each of whom
sees only their own rounds, and an admin named in INTERVIEWER_ADMINS. A member cannot reach Settings or the
upload; signing out ends access.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from interviewer.settings import Settings

from .oidc_provider import oidc_provider, require_provider, sign_in
from .test_browser import ANSWER, CHROMIUM, free_port, serve_app, start_focus_round

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WAIT_MS = 60_000
BOB_ANSWER = "Bob's own words: batching trades a little latency per request for throughput on the accelerator."


@dataclass(frozen=True)
class TeamApp:
    url: str
    issuer: str


@pytest.fixture
def team_app(indexed_settings: Settings, tmp_path: Path) -> Iterator[TeamApp]:
    """The app in team mode, signing people in at the test provider; boss@example.test is its admin."""
    require_provider()
    app_port, provider_port = free_port(), free_port()
    redirect_uri = f"http://127.0.0.1:{app_port}/oauth2callback"
    with oidc_provider(provider_port, redirect_uri, tmp_path / "oidc.log") as provider:
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text(provider.secrets_toml(redirect_uri))
        secrets_file.chmod(0o600)
        with serve_app(
            indexed_settings,
            tmp_path,
            port=app_port,
            flags=("--secrets.files", str(secrets_file)),
            INTERVIEWER_MODE="team",
            INTERVIEWER_ADMINS="boss@example.test",
            INTERVIEWER_GRADER="offline",
            INTERVIEWER_SECRETS_FILE=str(secrets_file),
        ) as url:
            yield TeamApp(url, provider.issuer)


def signed_in(browser: Browser, app: TeamApp, name: str) -> Page:
    """A new browser context (its own cookies) signed in as `name` at the provider; on the Interview page."""
    page = browser.new_context(viewport={"width": 1100, "height": 1400}).new_page()
    sign_in(page, app.url, app.issuer, name, timeout_ms=WAIT_MS)
    return page


def answer_a_question(page: Page, text: str) -> None:
    """Start a round and answer its first question; returns once the grade is shown."""
    from playwright.sync_api import expect

    start_focus_round(page, "dynamic batching in a model server")
    box = page.get_by_placeholder("Your answer")
    box.fill(text)
    box.press("Enter")
    expect(page.get_by_text("Score", exact=True).first).to_be_visible(timeout=WAIT_MS)


def review(page: Page, app: TeamApp) -> None:
    """Open the Review page and wait until it is drawn (with rounds or without)."""
    from playwright.sync_api import expect

    page.goto(app.url + "/review")
    expect(page.get_by_text("Scores over time").or_(page.get_by_text("No rounds yet"))).to_be_visible(timeout=WAIT_MS)


def test_people_sign_in_and_see_only_their_own_rounds_only_admins_reach_settings_signing_out_ends_access(
    team_app: TeamApp,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        outsider = browser.new_context().new_page()
        outsider.goto(team_app.url + "/review")
        expect(outsider.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
        expect(outsider.get_by_text("Scores over time")).to_have_count(0)

        ann = signed_in(browser, team_app, "ann")
        answer_a_question(ann, ANSWER)
        bob = signed_in(browser, team_app, "bob")
        expect(bob.get_by_role("button", name="Start the round")).to_be_visible(timeout=WAIT_MS)
        expect(bob.get_by_role("button", name="Resume round")).to_have_count(0)  # Ann's round is not his
        answer_a_question(bob, BOB_ANSWER)
        for page, own, other in ((ann, ANSWER, BOB_ANSWER), (bob, BOB_ANSWER, ANSWER)):
            review(page, team_app)
            expect(page.get_by_text(own[:40]).first).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_text(other[:40])).to_have_count(0)
        expect(ann.get_by_role("link", name="Settings")).to_have_count(0)
        ann.get_by_role("link", name="Knowledge").click()
        expect(ann.get_by_text("Browse a topic")).to_be_visible(timeout=WAIT_MS)
        expect(ann.get_by_text("Add a document")).to_have_count(0)
        ann.goto(team_app.url + "/settings")  # the address typed by hand: not a page of hers
        expect(ann.get_by_text("Signed in as ann")).to_be_visible(timeout=WAIT_MS)
        expect(ann.get_by_label("Endpoint (OpenAI-compatible base URL)")).to_have_count(0)
        ann.goto(team_app.url)  # away from Streamlit's "page not found" dialog

        boss = signed_in(browser, team_app, "boss")
        boss.get_by_role("link", name="Settings").click()
        expect(boss.get_by_label("Endpoint (OpenAI-compatible base URL)")).to_be_visible(timeout=WAIT_MS)

        ann.get_by_role("button", name="Sign out").click()
        expect(ann.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
        ann.goto(team_app.url + "/review")
        expect(ann.get_by_role("button", name="Sign in")).to_be_visible(timeout=WAIT_MS)
        expect(ann.get_by_text(ANSWER[:40])).to_have_count(0)
        browser.close()
