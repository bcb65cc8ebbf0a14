"""Recordings in, 16 kHz mono samples out, or an `AudioError` that says what is wrong with the recording.

Every transcriber gets audio that passed these checks, so a bad recording is refused the same way (and before it
is sent anywhere) whichever transcriber is configured: an empty file, a file that is not audio, a recording longer
than an answer can be, and one in which nothing louder than the microphone's hiss was recorded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interviewer.errors import AudioError

SAMPLE_RATE = 16_000
MAX_SECONDS = 600.0
"""The longest recording transcribed: ten minutes, well past the 6,000 characters an answer may have."""
AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".ogg", ".oga", ".opus", ".webm", ".flac", ".aac")
"""File names a terminal round takes as a recording rather than as typed text."""
MAX_FILE_BYTES = 200 * 1024 * 1024
"""A recording file larger than this is refused before it is read (ten minutes of uncompressed 48 kHz stereo is
about 115 MB)."""
SILENT_PEAK = 0.01
"""A recording whose loudest sample stays below this (about -40 dBFS) holds no speech."""


@dataclass(frozen=True)
class Audio:
    """A recording as sent and as decoded."""

    data: bytes
    samples: np.ndarray
    """Mono float32 at SAMPLE_RATE."""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _container_duration(data: bytes) -> float | None:
    """The duration the file's header declares, read without decoding; AudioError when it is not audio."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("That file has no audio in it. Record your answer again, or type it.")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return container.duration / av.time_base if container.duration else None
    except av.FFmpegError as error:
        raise AudioError(
            f"That file is not audio that can be read ({type(error).__name__}). Record your answer again, or type it."
        ) from error


def _too_long(seconds: float) -> AudioError:
    return AudioError(
        f"The recording is {_minutes(seconds)} long; answers are transcribed up to {_minutes(MAX_SECONDS)}. "
        "Record a shorter answer, or split it."
    )


def read_recording(path: Path) -> bytes:
    """A recording file's bytes; AudioError when it is missing, unreadable or far too large to be an answer."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AudioError(f"{path} is {size / 2**20:.0f} MB, too large for a recorded answer; record a shorter one.")
        return path.read_bytes()
    except OSError as error:
        raise AudioError(f"{path} cannot be read ({error.strerror or error}).") from error


def load_audio(data: bytes) -> Audio:
    """Check and decode a recording; AudioError says what is wrong with it and what to do."""
    if not data:
        raise AudioError("The recording is empty (0 bytes). Record your answer again, or type it.")
    declared = _container_duration(data)
    if declared is not None and declared > MAX_SECONDS:
        raise _too_long(declared)
    from faster_whisper.audio import decode_audio

    try:
        samples = decode_audio(io.BytesIO(data), sampling_rate=SAMPLE_RATE)
    except Exception as error:  # av raises many kinds for broken media; all mean "cannot decode"
        raise AudioError(
            f"The recording cannot be decoded ({type(error).__name__}). Record your answer again, or type it."
        ) from error
    audio = Audio(data, np.asarray(samples, dtype=np.float32))
    if audio.duration_s > MAX_SECONDS:
        raise _too_long(audio.duration_s)
    if not len(audio.samples) or float(np.max(np.abs(audio.samples))) < SILENT_PEAK:
        raise AudioError(
            "The recording is silent: no speech was heard. Check that the right microphone is chosen and unmuted, "
            "then record again."
        )
    return audio
