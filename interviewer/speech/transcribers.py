"""One interface for turning a recording into a transcript, and the rule for choosing who does it.

Every transcriber answers the `Transcriber` protocol: the offline one (faster-whisper and the joined Whisper base
model, on this machine) and the endpoint one (`/v1/audio/transcriptions` of an OpenAI-compatible server, through
the `openai` client). `TranscriptionService` checks the recording first (`audio.load_audio`), so bad audio is
refused the same way and never sent anywhere, then tries the configured chain and falls back to the offline
transcriber on an endpoint fault, saying so in the transcript's notice, as grading does.

The decoder is given a hint (`prompts/transcription_hint.md`): the question and its key points, so technical
terms come back spelled as the bank spells them, opened by a few fillers, which keeps Whisper from dropping the
"um"s that delivery feedback counts.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import openai

from interviewer.errors import AudioError, ConfigError, TranscriberError
from interviewer.prompts import render
from interviewer.settings import Settings
from interviewer.speech.audio import Audio, load_audio
from interviewer.speech.delivery import Delivery, Word, measure
from interviewer.speech.whisper_model import whisper_base

Progress = Callable[[float], None]
"""Called with the share of the recording transcribed so far, 0 to 1."""
HINT_WORDS = 100
"""The longest decoder hint, in words. Whisper keeps at most 223 prompt tokens and a long prompt leaves the decoder
too little room: with a 147-word hint (a long system-design question and its key points, full of figures) a 57 s
answer came back as its last sentence only; capped at about 100 words, whole."""


@dataclass(frozen=True)
class Transcript:
    """What was said, word by word, and who transcribed it."""

    text: str
    words: tuple[Word, ...]
    duration_s: float
    transcriber: str
    notice: str | None = None
    """Set when the configured transcriber failed and another one did the work."""

    @property
    def delivery(self) -> Delivery:
        """Speaking time, pace, fillers, pauses and restarts."""
        return measure(self.words, self.duration_s)


class Transcriber(Protocol):
    """Transcribes one checked recording; raises TranscriberError when it cannot, so the service falls back."""

    name: str
    """Recorded in the transcript, e.g. 'offline:whisper-base' or 'endpoint:whisper-1'."""

    def transcribe(self, audio: Audio, hint: str, progress: Progress | None = None) -> Transcript:
        """The transcript of `audio`, the decoder guided by `hint`."""
        ...


def decoder_hint(prompts_dir: Path, question: str, key_points: Sequence[str]) -> str:
    """The decoder's prompt for an answer to `question`: a few fillers, the question, then as many of its key
    points' words as fit in HINT_WORDS (a question longer than that is cut too)."""
    bare = render(prompts_dir, "transcription_hint", question=question.strip(), terms="").split()
    if len(bare) >= HINT_WORDS:
        return " ".join(bare[:HINT_WORDS])
    terms = " ".join(" ".join(key_points).split()[: HINT_WORDS - len(bare)])
    return render(prompts_dir, "transcription_hint", question=question.strip(), terms=terms)


_DECODING = threading.Lock()
"""One recording decodes at a time per process: two at once on two cores would each take twice as long."""


@functools.cache
def _whisper_model(folder: Path) -> Any:
    """One loaded model per folder and process, shared by every settings' transcriber (the model is read-only)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    threads = min(os.cpu_count() or 2, 4)
    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads)


class WhisperTranscriber:
    """faster-whisper on this machine's CPU; the model is loaded at the first recording and reused."""

    def __init__(self, model_dir: Path | None, models_dir: Path) -> None:
        """`model_dir` is a local CTranslate2 Whisper folder; None joins the shipped base model under `models_dir`."""
        self.model_dir = model_dir
        self.models_dir = models_dir
        self.name = f"offline:{model_dir.name if model_dir else 'whisper-base'}"

    def load(self) -> Any:
        """The WhisperModel (the shipped one joined first if needed); never downloads."""
        folder = self.model_dir or whisper_base(self.models_dir)
        if not (folder / "model.bin").is_file():
            raise TranscriberError(f"{folder} is not a faster-whisper model folder (no model.bin).")
        return _whisper_model(folder.resolve())

    def transcribe(self, audio: Audio, hint: str, progress: Progress | None = None) -> Transcript:
        """Decode in 30-second windows, reporting progress per segment; one recording at a time per process.

        The hint guides the first window only: each later window starts afresh instead of after the hint and all
        the text so far, which crowded a 27 s answer's last sentence out of the transcript and, in another, wrote
        one of the hint's key points in after the answer's end (words the person never said, credited by the
        grader)."""
        model = self.load()
        with _DECODING:
            segments, info = model.transcribe(
                audio.samples,
                language="en",
                initial_prompt=hint or None,
                word_timestamps=True,
                vad_filter=True,
                beam_size=5,
                condition_on_previous_text=False,
            )
            words: list[Word] = []
            texts: list[str] = []
            for segment in segments:
                texts.append(segment.text.strip())
                words += [Word(w.word.strip(), float(w.start), float(w.end)) for w in segment.words or ()]
                if progress is not None and info.duration:
                    progress(min(segment.end / info.duration, 1.0))
        return Transcript(" ".join(t for t in texts if t), tuple(words), audio.duration_s, self.name)


def _spread(text: str, start: float, end: float) -> list[Word]:
    """Words of a span without their own timestamps, spread evenly over it."""
    tokens = text.split()
    step = (end - start) / len(tokens) if tokens else 0.0
    return [Word(token, start + i * step, start + (i + 1) * step) for i, token in enumerate(tokens)]


class EndpointTranscriber:
    """An OpenAI-compatible `/v1/audio/transcriptions` (OpenAI, or a faster-whisper, vLLM or LocalAI server).

    It uses the LLM endpoint's address and the key given for it (`Settings.llm_key`), so a key never goes to a
    server it was not given for. Word timestamps are asked for; a server that returns only segments or only text
    gets its words spread over them, so pace is still right but pauses inside a segment are not seen.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_base_url and settings.llm_key is None:
            raise ConfigError(
                "Transcription by an endpoint needs one: set INTERVIEWER_LLM_BASE_URL (or OPENAI_API_KEY for "
                "OpenAI), or set INTERVIEWER_TRANSCRIBER=offline."
            )
        self.settings = settings
        self.name = f"endpoint:{settings.transcription_model}"
        key = settings.llm_key
        self._authorization: dict[str, Any] = {
            "Authorization": f"Bearer {key.get_secret_value()}" if key else openai.omit
        }
        self._client = openai.OpenAI(
            base_url=settings.llm_endpoint, api_key="sent-per-request", timeout=settings.llm_timeout, max_retries=1
        )

    def transcribe(self, audio: Audio, hint: str, progress: Progress | None = None) -> Transcript:
        """Send the recording as it was recorded; TranscriberError names the fault."""
        try:
            response = self._client.audio.transcriptions.create(
                file=("answer.wav", audio.data),
                model=self.settings.transcription_model,
                language="en",
                prompt=hint,
                response_format="verbose_json",
                timestamp_granularities=["word", "segment"],
                extra_headers=self._authorization,
            )
        except openai.APITimeoutError as error:
            raise TranscriberError(f"the endpoint did not answer within {self.settings.llm_timeout:g} s") from error
        except openai.APIConnectionError as error:
            raise TranscriberError(f"cannot reach the endpoint ({error.__cause__ or error})") from error
        except openai.APIStatusError as error:
            raise TranscriberError(f"the endpoint failed with HTTP {error.status_code}") from error
        except ValueError as error:  # a 200 whose body is not JSON
            raise TranscriberError(f"the endpoint sent a reply that is not valid JSON ({error})") from error
        if progress is not None:
            progress(1.0)
        return self._transcript(response, audio)

    def _transcript(self, response: Any, audio: Audio) -> Transcript:
        """The reply's text and words (its own, else spread over its segments, else over the recording)."""
        text = str(getattr(response, "text", "") or "").strip()
        listed = getattr(response, "words", None) or ()
        words = [Word(str(w.word).strip(), float(w.start), float(w.end)) for w in listed]
        if not words:
            for segment in getattr(response, "segments", None) or ():
                words += _spread(str(segment.text), float(segment.start), float(segment.end))
        if not words:
            words = _spread(text, 0.0, audio.duration_s)
        return Transcript(text, tuple(words), audio.duration_s, self.name)


class TranscriptionService:
    """Checks a recording, tries the configured transcribers in order, and falls back to the offline one."""

    def __init__(self, settings: Settings, offline: WhisperTranscriber, chain: Sequence[Transcriber] = ()) -> None:
        self.settings = settings
        self.offline = offline
        self.chain = tuple(chain)

    def describe(self) -> str:
        """Who transcribes, in words."""
        if not self.chain:
            return "on this machine (Whisper base)"
        return " then ".join(t.name for t in self.chain) + " (on this machine if it fails)"

    def hint(self, question: str, key_points: Sequence[str]) -> str:
        """The decoder hint for an answer to `question`."""
        return decoder_hint(self.settings.prompts_dir, question, key_points)

    def transcribe(self, data: bytes, hint: str = "", progress: Progress | None = None) -> Transcript:
        """The transcript of a recording; AudioError for a recording that cannot be or holds no speech."""
        audio = load_audio(data)
        transcript: Transcript | None = None
        failures: list[str] = []
        for transcriber in self.chain:
            try:
                transcript = transcriber.transcribe(audio, hint, progress)
                break
            except TranscriberError as error:
                failures.append(f"{transcriber.name}: {error}")
        if transcript is None:
            transcript = self.offline.transcribe(audio, hint, progress)
            if failures:
                reasons = "; ".join(failures)
                notice = f"The transcription endpoint was unavailable ({reasons}), so this machine transcribed it."
                transcript = replace(transcript, notice=notice)
        if not transcript.text.strip():
            raise AudioError(
                "No speech was heard in the recording (only silence or noise). Speak closer to the microphone "
                "and record again, or type your answer."
            )
        return transcript


def configured_transcription(settings: Settings) -> TranscriptionService:
    """The service the settings ask for: offline only, or an endpoint first."""
    offline = WhisperTranscriber(settings.whisper_model, settings.models_dir)
    chain: list[Transcriber] = [EndpointTranscriber(settings)] if settings.transcriber == "endpoint" else []
    return TranscriptionService(settings, offline, chain)
