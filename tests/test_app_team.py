"""Team mode through AppTest: nobody sees a page before signing in; only admins reach Settings and uploads;
a non-admin never reads the LLM endpoint's address, model or key, not even in an error."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from interviewer.settings import PROJECT_ROOT, Settings, load_settings
from interviewer.store import open_store

from .test_app import FOCUS, PARTIAL, answer, start_round, texts

APP = str(PROJECT_ROOT / "app.py")
ISSUER = "http://127.0.0.1:1/oidc"
AUTH = {  # only its presence matters here; tests/test_browser_team.py signs in for real
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-only",
    "client_id": "coach",
    "client_secret": "test-only",
    "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
}
ADMIN = {"iss": ISSUER, "sub": "boss", "email": "boss@example.org", "email_verified": True, "name": "Boss"}
MEMBER = {"iss": ISSUER, "sub": "ann", "email": "ann@example.org", "email_verified": True, "name": "Ann"}


@pytest.fixture
def team(app_env: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("INTERVIEWER_MODE", "team")
    monkeypatch.setenv("INTERVIEWER_ADMINS", "boss@example.org")
    return load_settings()


def session(user: dict[str, object] | None, auth: bool = True, script: str = APP) -> AppTest:
    at = AppTest.from_file(script, default_timeout=90)
    at.user = {"is_logged_in": False} if user is None else {**user, "is_logged_in": True}
    if auth:
        at.secrets["auth"] = AUTH
    at.run()
    assert not at.exception, at.exception
    return at


def test_without_sign_in_settings_the_page_says_what_to_configure(team: Settings) -> None:
    at = session(None, auth=False)
    assert "[auth] section to .streamlit/secrets.toml" in at.error[0].value
    assert not at.button and not at.chat_input


def test_nobody_sees_a_round_or_a_page_before_signing_in(team: Settings) -> None:
    open_store(team).create_round("practice", ["PyTorch"], None, ["q1"], owner=f"{ISSUER}#ann")
    at = session(None)
    assert [button.label for button in at.button] == ["Sign in"]
    assert not at.selectbox and not at.chat_input and "Resume" not in texts(at)
    at.switch_page("app_pages/review.py").run()
    assert [button.label for button in at.button] == ["Sign in"] and not at.selectbox


def test_a_member_cannot_open_settings_or_upload_documents(team: Settings) -> None:
    at = session(MEMBER)
    assert "Signed in as Ann" in [element.value for element in at.sidebar.text]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/settings.py")  # not in a member's navigation
    at.switch_page("app_pages/knowledge.py").run()
    assert not at.exception, at.exception
    assert "Add a document" not in [element.value for element in at.subheader]
    page = session(MEMBER, script=str(PROJECT_ROOT / "app_pages" / "settings.py"))  # its address, opened directly
    assert page.error[0].value == "Only the app's administrators can use this page."
    assert not page.text_input and not page.button


def test_an_admin_opens_settings_and_the_upload(team: Settings) -> None:
    at = session(ADMIN)
    at.switch_page("app_pages/settings.py").run()
    assert "settings_save" in [button.key for button in at.button]
    at.switch_page("app_pages/knowledge.py").run()
    assert "Add a document" in [element.value for element in at.subheader]


def test_signing_out_shows_the_sign_in_screen_again(team: Settings) -> None:
    at = session(MEMBER)
    at.button(key="sign_out").click().run()
    at.run()  # the browser comes back from the sign-out address
    assert [button.label for button in at.button] == ["Sign in"] and not at.sidebar.text


def test_a_member_never_reads_the_endpoint_model_or_key_even_when_it_fails(
    team: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEWER_GRADER", "llm")
    monkeypatch.setenv("INTERVIEWER_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens: refused at once
    monkeypatch.setenv("INTERVIEWER_LLM_API_KEY", "sk-team-secret")
    monkeypatch.setenv("INTERVIEWER_LLM_MODEL", "acme-70b")
    monkeypatch.setenv("INTERVIEWER_LLM_MAX_RETRIES", "0")
    member = session(MEMBER)
    start_round(member, count=1, focus=FOCUS)
    answer(member, PARTIAL)
    page = texts(member)
    assert "graded offline" in page  # the failure is said...
    for detail in ("127.0.0.1:9", "acme-70b", "sk-team-secret"):
        assert detail not in page  # ...without the endpoint's details
    assert "acme-70b" in texts(session(ADMIN))  # an admin reads which model grades


def test_each_person_sees_resumes_and_reviews_only_their_own_rounds(team: Settings) -> None:
    ann = session(MEMBER)
    start_round(ann, count=2, focus=FOCUS)
    answer(ann, PARTIAL)
    bob = session({**MEMBER, "sub": "bob", "email": "bob@example.org", "name": "Bob"})
    assert not [button for button in bob.button if button.label.startswith("Resume round")]
    bob.switch_page("app_pages/review.py").run()
    assert "No rounds yet" in bob.info[0].value
    boss = session(ADMIN)  # an admin runs the app, not other people's practice
    boss.switch_page("app_pages/review.py").run()
    assert "No rounds yet" in boss.info[0].value
    again = session(MEMBER)  # Ann, in a new session, finds her round to resume and on the Review page
    assert [button for button in again.button if button.label.startswith("Resume round")]
    again.switch_page("app_pages/review.py").run()
    assert PARTIAL in texts(again)
