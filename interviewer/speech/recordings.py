"""Spoken answers' recordings on disk: one folder per round under `$INTERVIEWER_HOME/recordings/`, so deleting a
round deletes its recordings in one step, and a turn names its file relative to that folder (the home can move).

Names are made here (round id, position, a random part), never taken from a person, and a stored name is checked
to stay inside the recordings folder before it is read or deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

from interviewer.errors import StoreError

SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")


def save_recording(folder: Path, round_id: str, position: int, audio: bytes, suffix: str) -> str:
    """Write a recording atomically; its name relative to `folder`."""
    suffix = suffix.lower() if SAFE_SUFFIX.fullmatch(suffix.lower()) else ".audio"
    name = f"{round_id}/{position}-{uuid.uuid4().hex[:8]}{suffix}"
    target = folder / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".recording.", dir=target.parent)
        with os.fdopen(descriptor, "wb") as file:
            file.write(audio)
        os.replace(temporary, target)
    except OSError as error:
        raise StoreError(f"The recording could not be saved in {folder} ({error.strerror or error}).") from error
    return name


def recording_path(folder: Path, name: str | None) -> Path | None:
    """The file a stored name refers to, when it is inside `folder` and still there."""
    if not name:
        return None
    path = (folder / name).resolve()
    return path if path.is_relative_to(folder.resolve()) and path.is_file() else None


def discard_recording(folder: Path, name: str | None) -> None:
    """Remove one recording (its turn was not saved)."""
    if (path := recording_path(folder, name)) is not None:
        path.unlink(missing_ok=True)


def delete_round_recordings(folder: Path, round_id: str) -> None:
    """Remove every recording of a round."""
    target = (folder / round_id).resolve()
    if target.parent == folder.resolve() and target.is_dir():
        shutil.rmtree(target)
