"""Answering aloud in a real browser: Chromium's fake microphone plays an answer spoken by espeak-ng, the page
transcribes it into the answer box, the person sends it, and the graded transcript is in the round with its
delivery and recording, which Review plays back and deletes with the round. The question is read out by the
browser's speech synthesis (stubbed to record what it was asked to say)."""

from __future__ import annotations

import math
import re
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from interviewer.models import LOCAL_OWNER
from interviewer.settings import Settings
from interviewer.store import open_store

from .audio_clips import speak
from .test_browser import CHROMIUM, serve_app, start_focus_round

SPOKEN = "Dynamic batching groups incoming requests into one batch, which raises throughput on the server."
RECORD_SPEECH = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (utterance) => { window.top.__spoken.push(utterance.text); };
}
"""


@pytest.fixture
def voice_app(indexed_settings: Settings, speech_env: Path, tmp_path: Path) -> Iterator[str]:
    """The app, grading offline and transcribing with the run's joined Whisper model."""
    with serve_app(indexed_settings, tmp_path, INTERVIEWER_GRADER="offline") as url:
        yield url


def test_a_spoken_answer_is_transcribed_corrected_and_graded_in_a_real_browser(
    voice_app: str, indexed_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    clip = speak(SPOKEN, tmp_path / "microphone.wav")
    with wave.open(str(clip)) as audio:
        seconds = math.ceil(audio.getnframes() / audio.getframerate()) + 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={clip}%noloop",
            ],
        )
        context = browser.new_context(viewport={"width": 1100, "height": 1500})
        context.add_init_script(RECORD_SPEECH)
        page = context.new_page()
        page.goto(voice_app)
        start_focus_round(page, "dynamic batching in a model server")

        page.frame_locator("iframe").first.get_by_role("button", name="Read the question aloud").click()
        page.wait_for_function("window.__spoken.length > 0")
        spoken = page.evaluate("window.__spoken")

        page.get_by_role("button", name="Record", exact=True).click()
        page.wait_for_function(  # the recording's clock has passed the clip's length
            """seconds => {
                const clock = document.querySelector('[data-testid="stAudioInputWaveformTimeCode"]');
                const [minutes, secs] = (clock ? clock.textContent : "0:0").split(":").map(Number);
                return minutes * 60 + secs >= seconds;
            }""",
            arg=seconds,
            timeout=60_000,
        )
        page.get_by_role("button", name="Stop recording").click()
        box = page.get_by_placeholder("Your answer")
        expect(box).to_have_value(re.compile("batch", re.IGNORECASE), timeout=90_000)
        heard = box.input_value()
        assert "throughput" in heard.lower()
        expect(page.get_by_text("Transcribed: it is in the answer box")).to_be_visible()
        box.press("Enter")
        expect(page.get_by_text("Score", exact=True).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("not part of the score").first).to_be_visible()  # the delivery line
        (record,) = open_store(indexed_settings).list_rounds(owner=LOCAL_OWNER)
        (turn,) = record.turns
        assert turn.answer == heard and turn.delivery is not None and turn.delivery.word_count >= 8
        assert spoken == [turn.question]  # the question read out is the one asked
        kept = indexed_settings.recordings_dir / (turn.recording or "missing")
        assert kept.is_file() and kept.stat().st_size > 10_000

        page.get_by_role("link", name="Review").click()
        expect(page.get_by_text("Delivery of spoken answers over time")).to_be_visible(timeout=30_000)
        expect(page.locator("audio").first).to_be_attached(timeout=30_000)  # the recording, to play back
        page.get_by_role("button", name="Delete round").click()
        page.get_by_role("button", name="Yes, delete it").click()
        expect(page.get_by_text("No rounds yet")).to_be_visible(timeout=30_000)
        browser.close()
    assert not kept.exists() and not kept.parent.exists()  # the recording went with its round
