"""Real audio for the speech tests: answers spoken by Debian's espeak-ng, and bad recordings written sample by sample.

`make test` installs espeak-ng (like chromium for the browser test). The clips are short, so the Whisper base model
transcribes each in a few seconds on two cores.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

RATE = 16_000
CLEAR_VOICE = "en-us+klatt"
"""espeak-ng's American English through its Klatt formant synthesiser: Whisper base mishears it about half as often
as the default voice (whose b sounds like m: "batch" came back as "match", "by" as "my"), so it is the fairer
stand-in for a person."""


def speak(text: str, path: Path, words_per_minute: int = 150, voice: str = "en-us") -> Path:
    """`text` (SSML allowed, e.g. <break time="2500ms"/>) spoken into a WAV file by espeak-ng."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed: `make test` installs it (apt-get install espeak-ng).")
    subprocess.run([espeak, "-m", "-v", voice, "-s", str(words_per_minute), "-w", str(path), text], check=True)
    return path


def write_wav(samples: np.ndarray, path: Path, rate: int = RATE) -> Path:
    """Float samples in [-1, 1] as a 16-bit mono WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def silence(path: Path, seconds: float = 3.0) -> Path:
    return write_wav(np.zeros(int(seconds * RATE)), path)


def noise(path: Path, seconds: float = 4.0, level: float = 0.3) -> Path:
    """White noise loud enough to pass the silence check, with no speech in it."""
    return write_wav(np.random.default_rng(0).uniform(-level, level, int(seconds * RATE)), path)


def long_recording(path: Path, minutes: float = 20.0) -> Path:
    """A quiet tone of `minutes` at 8 kHz (about 19 MB for 20 minutes)."""
    rate = 8_000
    seconds = np.arange(int(minutes * 60 * rate)) / rate
    return write_wav(0.1 * np.sin(2 * np.pi * 300 * seconds), path, rate)
