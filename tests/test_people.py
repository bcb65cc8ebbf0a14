"""Who is there: the owner id a sign-in gives, who counts as an admin, and what a non-admin may read of the LLM."""

from __future__ import annotations

import pytest

from interviewer.disclosure import disclosure_for
from interviewer.errors import ConfigError, SignInError
from interviewer.people import LOCAL_PERSON, Person, signed_in_person
from interviewer.settings import load_settings

ISSUER = "https://id.example.org"


def claims(sub: str = "u-1", **extra: object) -> dict[str, object]:
    return {"iss": ISSUER, "sub": sub, "is_logged_in": True, **extra}


@pytest.mark.parametrize("missing", ["iss", "sub"])
def test_a_sign_in_without_issuer_or_subject_is_refused_with_a_next_step(missing: str) -> None:
    token = claims(email="ann@example.org", email_verified=True)
    del token[missing]
    with pytest.raises(SignInError, match="administrator"):
        signed_in_person(token, admins=("ann@example.org",))


def test_an_unverified_email_never_makes_an_admin() -> None:
    person = signed_in_person(claims(email="Boss@Example.org", email_verified=False), admins=("boss@example.org",))
    assert not person.admin
    assert not signed_in_person(claims(email="boss@example.org"), admins=("boss@example.org",)).admin


def test_the_owner_is_issuer_and_subject_so_a_new_email_keeps_the_rounds() -> None:
    before = signed_in_person(claims(email="ann@old.org", email_verified=True), admins=())
    after = signed_in_person(claims(email="ann@new.org", email_verified=True), admins=())
    other_provider = signed_in_person({**claims(), "iss": "https://other.example"}, admins=())
    assert before.owner == after.owner == f"{ISSUER}#u-1"
    assert other_provider.owner != before.owner  # the same `sub` from another issuer is someone else


def test_admins_are_named_by_verified_email_or_by_owner_id() -> None:
    by_email = signed_in_person(claims(email="Boss@Example.org", email_verified=True), admins=("boss@example.org",))
    by_owner = signed_in_person(claims(sub="42"), admins=(f"{ISSUER}#42",))
    assert by_email.admin and by_owner.admin
    assert by_email.name == "Boss@Example.org"  # no name claim: greeted by email


def test_admins_and_mode_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_MODE", "team")
    monkeypatch.setenv("INTERVIEWER_ADMINS", " ann@example.org, ,bob@example.org ")
    settings = load_settings()
    assert settings.mode == "team" and settings.admins == ("ann@example.org", "bob@example.org")
    monkeypatch.setenv("INTERVIEWER_MODE", "public")
    with pytest.raises(ConfigError, match="mode"):
        load_settings()


def test_local_mode_is_the_default_and_its_person_is_the_admin() -> None:
    assert load_settings().mode == "local" and LOCAL_PERSON.admin


ENDPOINT = "http://10.1.2.3:8000/v1"
MODEL = "acme-70b"
KEY = "sk-private-123"
NOTICE = (
    f"The LLM grader was unavailable (llm:{MODEL}: cannot reach the LLM endpoint (HTTPConnectionPool("
    f"host='10.1.2.3', port=8000): {ENDPOINT}/chat/completions failed; key {KEY}; {MODEL} busy)), so this "
    "answer was graded offline."
)


def test_a_non_admin_reads_no_address_host_model_or_key() -> None:
    settings = load_settings(llm_base_url=ENDPOINT, llm_model=MODEL, llm_api_key=KEY)
    member = Person("x#1", "Ann", admin=False)
    hidden = disclosure_for(member, settings).text(NOTICE)
    for detail in ("10.1.2.3", "8000", MODEL, KEY):
        assert detail not in hidden
    assert hidden.startswith("The LLM grader was unavailable (llm: cannot reach")
    assert disclosure_for(member, settings).text(f"llm:{MODEL} (offline if it fails)") == "llm (offline if it fails)"
    assert disclosure_for(Person("x#2", "Boss", admin=True), settings).text(NOTICE) == NOTICE


def test_a_non_admin_reads_no_transcription_or_speech_model_either() -> None:
    settings = load_settings(transcription_model="acme-whisper", speech_model="acme-voice")
    hidden = disclosure_for(Person("x#1", "Ann", admin=False), settings).text(
        "with acme-whisper at the endpoint; acme-voice refused"
    )
    assert hidden == "with the model at the endpoint; the model refused"


def test_a_short_model_name_is_hidden_as_a_word_not_inside_other_words() -> None:
    settings = load_settings(llm_base_url=ENDPOINT, llm_model="m")
    hidden = disclosure_for(Person("x#1", "Ann", admin=False), settings).text("llm:m timed out; m is slow, my friend")
    assert hidden == "llm timed out; the model is slow, my friend"
