"""Spoken answers: bad recordings refused with a clear message, real speech transcribed with delivery figures,
the endpoint transcriber over real HTTP with its fallback, and the shipped model joined and repaired."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from interviewer.cli import main
from interviewer.errors import AudioError, TranscriberError
from interviewer.knowledge import load_bank
from interviewer.settings import Settings, load_settings
from interviewer.speech.delivery import Word, count_fillers, measure, repeated_starts
from interviewer.speech.speaker import endpoint_speaker
from interviewer.speech.transcribers import HINT_WORDS, configured_transcription
from interviewer.speech.whisper_model import MODEL_BYTES, is_intact, whisper_base

from .audio_clips import CLEAR_VOICE, long_recording, noise, silence, speak
from .conftest import BATCHING_QUESTION, KNOWLEDGE_DIR
from .fake_audio import AudioStep, FakeAudioEndpoint, failure, verbose_transcription


def words(*timed: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end) for text, start, end in timed]


def spaced(text: str, gap: float = 0.05, length: float = 0.3) -> list[Word]:
    """Each word of `text` said in `length` seconds with `gap` between words."""
    return [Word(token, i * (length + gap), i * (length + gap) + length) for i, token in enumerate(text.split())]


# -- bad audio first -------------------------------------------------------------------------------------------


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def not_audio(path: Path) -> Path:
    path.write_text("PK this is a zip archive, not audio", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (empty, "The recording is empty (0 bytes)."),
        (not_audio, "That file is not audio that can be read"),
        (long_recording, "The recording is 20:00 long; answers are transcribed up to 10:00."),
        (silence, "The recording is silent: no speech was heard."),
    ],
    ids=["empty", "not-audio", "twenty-minutes", "silence"],
)
def test_a_bad_recording_is_refused_before_any_model_runs(
    settings: Settings, tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path / "answer.wav")
    service = configured_transcription(settings)
    with pytest.raises(AudioError, match=re.escape(message)):
        service.transcribe(path.read_bytes())
    assert not settings.models_dir.exists()  # refused before the model was even joined


def test_noise_without_speech_is_refused_with_a_clear_message(speech_env: Path, tmp_path: Path) -> None:
    service = configured_transcription(load_settings())
    with pytest.raises(AudioError, match="No speech was heard"):
        service.transcribe(noise(tmp_path / "noise.wav").read_bytes())


def test_the_cli_says_what_is_wrong_with_a_recording_and_exits_1(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "answer.wav"
    fake.write_text("not audio")
    assert main(["transcribe", str(fake)]) == 1
    assert "not audio that can be read" in capsys.readouterr().err
    assert main(["transcribe", str(tmp_path / "missing.wav")]) == 1
    assert "cannot be read" in capsys.readouterr().err


# -- delivery figures --------------------------------------------------------------------------------------------


def test_filler_sounds_count_everywhere_and_filler_words_only_when_set_apart() -> None:
    plain = spaced("we use models like BERT and a kind of cache so I mean the median is fine")
    assert count_fillers(plain) == {}
    hedged = spaced("so, like, the batch is, you know, um, sort of, uh bigger")
    assert count_fillers(hedged) == {"like": 1, "you know": 1, "um": 1, "sort of": 1, "uh": 1}


def test_repeated_starts_are_found_and_plain_speech_is_not() -> None:
    assert repeated_starts(spaced("the the batch is we use, we use a queue")) == ("the", "we use")
    assert repeated_starts(spaced("the batch waits for the queue")) == ()


def test_pace_and_long_pauses_come_from_word_timestamps() -> None:
    said = words(("Batching", 1.0, 1.5), ("raises", 1.5, 2.0), ("throughput.", 2.0, 2.5), ("It", 5.0, 5.2))
    delivery = measure([*said, Word("costs", 5.2, 5.6), Word("latency.", 5.6, 7.0)], duration_s=8.0)
    assert delivery.speaking_s == 6.0
    assert delivery.word_count == 6
    assert delivery.words_per_minute == 60.0
    assert [(p.after, p.length_s) for p in delivery.long_pauses] == [("throughput", 2.5)]
    assert delivery.to_dict()["filler_words"] == 0


# -- real speech, offline ----------------------------------------------------------------------------------------


def test_the_cli_transcribes_a_spoken_answer_with_its_delivery(
    speech_env: Path, spoken_answer: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["transcribe", str(spoken_answer), "--question", BATCHING_QUESTION, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    text = result["text"].lower()
    assert "dynamic batching" in text and "throughput" in text and "latency" in text
    assert result["transcriber"] == "offline:" + speech_env.name
    assert 10 < result["duration_s"] < 20
    assert 100 < result["words_per_minute"] < 200
    assert result["filler_words"] == 0
    assert len(result["long_pauses"]) == 1 and result["long_pauses"][0]["length_s"] >= 2.0
    assert main(["transcribe", str(spoken_answer)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Transcript (offline:") and "Delivery: " in out and "1 long pause" in out


def test_a_damaged_model_is_joined_again(tmp_path: Path) -> None:
    folder = whisper_base(tmp_path)
    assert is_intact(folder) and (folder / "model.bin").stat().st_size == MODEL_BYTES
    with (folder / "model.bin").open("r+b") as model:
        model.truncate(1000)
    assert not is_intact(folder)
    assert whisper_base(tmp_path) == folder and is_intact(folder)


# -- an endpoint -------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def audio_endpoint(monkeypatch: pytest.MonkeyPatch, *steps: AudioStep) -> Iterator[FakeAudioEndpoint]:
    """A fake audio endpoint playing `steps`, chosen for transcription by the settings, stopped afterwards."""
    server = FakeAudioEndpoint(*steps).start()
    monkeypatch.setenv("INTERVIEWER_TRANSCRIBER", "endpoint")
    monkeypatch.setenv("INTERVIEWER_LLM_BASE_URL", server.base_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def endpoint() -> Iterator[FakeAudioEndpoint]:
    """A fake audio endpoint that each test chooses in its own way (environment or settings file)."""
    server = FakeAudioEndpoint(AudioStep(verbose_transcription("batching groups requests um into one batch", 3.0)))
    yield server.start()
    server.stop()


def test_the_endpoint_transcribes_with_the_hint_and_the_key_given_for_it(
    endpoint: FakeAudioEndpoint, spoken_answer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEWER_TRANSCRIBER", "endpoint")
    monkeypatch.setenv("INTERVIEWER_LLM_BASE_URL", endpoint.base_url)
    monkeypatch.setenv("INTERVIEWER_LLM_API_KEY", "sk-for-this-endpoint")
    service = configured_transcription(load_settings())
    data = spoken_answer.read_bytes()
    transcript = service.transcribe(data, service.hint(BATCHING_QUESTION, ["Groups requests into one batch"]))
    assert transcript.text == "batching groups requests um into one batch"
    assert transcript.transcriber == "endpoint:whisper-1" and transcript.notice is None
    assert transcript.delivery.fillers == {"um": 1}
    (sent,) = endpoint.requests
    assert sent.path == "/v1/audio/transcriptions" and sent.file == data
    assert sent.headers["authorization"] == "Bearer sk-for-this-endpoint"
    assert sent.fields["model"] == ["whisper-1"] and sent.fields["response_format"] == ["verbose_json"]
    (prompt,) = sent.fields["prompt"]
    assert BATCHING_QUESTION in prompt and "Groups requests into one batch" in prompt


def test_a_key_given_for_another_endpoint_is_not_sent_to_the_transcription_endpoint(
    endpoint: FakeAudioEndpoint, spoken_answer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-for-openai-only")
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "settings.toml").write_text(
        f'llm_base_url = "{endpoint.base_url}"\ntranscriber = "endpoint"\n', encoding="utf-8"
    )
    service = configured_transcription(load_settings())
    service.transcribe(spoken_answer.read_bytes())
    (sent,) = endpoint.requests
    assert "authorization" not in sent.headers


@pytest.mark.parametrize("fault", [failure(500), AudioStep(body=b"<html>proxy error</html>")], ids=["500", "html"])
def test_an_endpoint_fault_falls_back_to_this_machine_and_says_so(
    fault: AudioStep, speech_env: Path, spoken_answer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with audio_endpoint(monkeypatch, fault):
        transcript = configured_transcription(load_settings()).transcribe(spoken_answer.read_bytes())
    assert transcript.transcriber.startswith("offline:")
    assert transcript.notice and "transcription endpoint was unavailable" in transcript.notice
    assert "throughput" in transcript.text.lower()


def test_the_endpoint_reads_the_question_out_and_a_fault_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    mp3 = AudioStep(body=b"ID3 an mp3", content_type="audio/mpeg")
    with audio_endpoint(monkeypatch, mp3, failure(503)) as server:
        monkeypatch.setenv("INTERVIEWER_LLM_API_KEY", "sk-for-this-endpoint")
        speaker = endpoint_speaker(load_settings())
        assert speaker is not None
        assert speaker.speak(BATCHING_QUESTION) == b"ID3 an mp3"
        with pytest.raises(TranscriberError, match="HTTP 503"):
            speaker.speak(BATCHING_QUESTION)
    sent = server.requests[0]
    assert sent.path == "/v1/audio/speech" and sent.headers["authorization"] == "Bearer sk-for-this-endpoint"
    assert sent.json is not None and sent.json["input"] == BATCHING_QUESTION and sent.json["model"] == "tts-1"


def test_without_an_endpoint_for_audio_the_browser_reads_questions(settings: Settings) -> None:
    assert endpoint_speaker(settings) is None


def test_a_question_read_by_the_browser_cannot_close_its_script() -> None:
    from app_pages.speaking import script_string

    hostile = 'What is </script><img src=x onerror=alert(1)> & "this"?\u2028'
    literal = script_string(hostile)
    assert "<" not in literal and ">" not in literal and "&" not in literal and "\u2028" not in literal
    assert json.loads(literal) == hostile


def test_a_server_without_word_timestamps_still_gives_the_pace(
    spoken_answer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "batching groups requests into one batch"
    segments = {"text": text, "duration": 6.0, "segments": [{"id": 0, "start": 1.0, "end": 4.0, "text": text}]}
    with audio_endpoint(monkeypatch, AudioStep(segments)):
        transcript = configured_transcription(load_settings()).transcribe(spoken_answer.read_bytes())
    assert transcript.text == text and transcript.transcriber == "endpoint:whisper-1"
    assert transcript.delivery.speaking_s == 3.0 and transcript.delivery.words_per_minute == 120.0


def test_the_decoder_hint_stays_short_enough_to_leave_the_decoder_room(settings: Settings) -> None:
    service = configured_transcription(settings)
    long_question = "How many replicas does a ranking service need at 2,000 requests a second? " * 12
    points = ["Little's law: 2,000 requests/s x 0.040 s = 80 requests in flight at peak"] * 10
    assert len(service.hint(long_question, points).split()) == HINT_WORDS
    short = service.hint(BATCHING_QUESTION, ["Groups requests into one batch"])
    assert BATCHING_QUESTION in short and short.endswith("Groups requests into one batch")
    assert short.startswith("Umm,")  # fillers first, which keeps the speaker's own fillers in the transcript


AB_TESTING_ID = "what-is-a-b-testing-in-67663b"
AB_TESTING_SPOKEN = (
    "A/B testing splits live traffic at random between the current model and the new one and compares a business "
    "metric such as conversion, because a better offline score often doesn't carry over online. Users are assigned "
    "by a hash of their ID so each always sees the same model. You fix the primary metric, sample size and duration "
    "up front, check significance at the end rather than peeking, and watch guardrails like latency and error rate."
)


def test_an_answer_longer_than_one_decoding_window_comes_back_whole(speech_env: Path, tmp_path: Path) -> None:
    """Whisper decodes 30 s at a time; the hint must not crowd out (or stand in for) the last window's words."""
    question = load_bank(KNOWLEDGE_DIR).by_id()[AB_TESTING_ID]
    clip = speak(AB_TESTING_SPOKEN, tmp_path / "ab.wav", 160, CLEAR_VOICE)
    service = configured_transcription(load_settings())
    transcript = service.transcribe(clip.read_bytes(), service.hint(question.question, question.key_points))
    assert transcript.duration_s > 25
    assert "latency and error rate" in transcript.text.lower()
