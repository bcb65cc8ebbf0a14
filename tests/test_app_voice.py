"""The Interview page's microphone through AppTest: a recording is transcribed into the answer box and sent with
its answer; the Settings page decides whether recordings are kept; a save the store refuses keeps the recording
with the text, so the person sends it again without recording again."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app_pages.common import VOICE_DRAFT
from app_pages.speaking import VoiceDraft
from interviewer.models import LOCAL_OWNER, Turn
from interviewer.settings import Settings, load_settings
from interviewer.store import open_store

from .test_app import answer, new_session, start_round
from .test_reliability_store import read_only


def record(at: AppTest, clip: Path) -> str:
    """Record `clip` with the page's microphone; the transcript the page put into the answer box."""
    at.audio_input[0].set_value(("answer.wav", clip.read_bytes(), "audio/wav")).run()
    assert not at.exception, at.exception
    assert any("Transcribed: it is in the answer box" in caption.value for caption in at.caption)
    draft: VoiceDraft = at.session_state[VOICE_DRAFT]
    assert draft.transcript is not None and "batch" in draft.transcript.text.lower()
    return draft.transcript.text


def turns(settings: Settings) -> list[Turn]:
    (round_record,) = open_store(settings).list_rounds(owner=LOCAL_OWNER)
    return round_record.turns


def recordings(settings: Settings) -> list[Path]:
    return [path for path in settings.recordings_dir.rglob("*") if path.is_file()]


def keep_recordings(at: AppTest, keep: bool) -> None:
    """Turn the Settings page's switch on or off, save, and come back to the interview."""
    at.switch_page("app_pages/settings.py").run()
    at.checkbox(key="settings_keep_recordings").set_value(keep)
    at.button(key="settings_save").click().run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/interview.py").run()


def test_a_spoken_answers_recording_is_not_kept_while_the_settings_page_says_so(
    speech_env: Path, app_env: Settings, spoken_answer: Path
) -> None:
    at = new_session()
    start_round(at, count=2)
    keep_recordings(at, False)
    assert load_settings().keep_recordings is False  # saved with the other settings, for every later session
    answer(at, record(at, spoken_answer))
    (first,) = turns(app_env)
    assert first.delivery is not None and first.delivery.word_count > 10  # the delivery figures are still kept
    assert first.recording is None and recordings(app_env) == []

    keep_recordings(at, True)
    answer(at, record(at, spoken_answer))
    second = turns(app_env)[1]
    assert second.recording is not None
    assert recordings(app_env) == [app_env.recordings_dir / second.recording]


def test_a_spoken_answer_the_store_refused_keeps_its_recording_and_is_saved_with_it_when_asked(
    speech_env: Path, app_env: Settings, spoken_answer: Path
) -> None:
    at = new_session()
    start_round(at, count=2)
    heard = record(at, spoken_answer)
    with read_only(app_env.database_path):
        answer(at, heard)
        (error,) = at.error
        assert "Your answer and its recording are kept in this session" in error.value
        assert "This answer is not saved yet (its recording is kept with it)." in [w.value for w in at.warning]
        assert turns(app_env) == [] and recordings(app_env) == []  # nothing half-saved
    next(button for button in at.button if button.label == "Save it now").click().run()
    assert not at.exception, at.exception
    (turn,) = turns(app_env)
    assert turn.answer == heard and turn.grade is not None
    assert turn.delivery is not None and turn.recording is not None
    kept = app_env.recordings_dir / turn.recording
    assert kept.read_bytes() == spoken_answer.read_bytes()  # the very recording, not recorded again
