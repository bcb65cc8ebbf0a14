"""A person's Markdown document added to the bank: checked, saved without a race, indexed off the request path.

`add_upload` runs while the person waits and is cheap: it checks the name, the size, the text and the number of
questions, saves the file under `$INTERVIEWER_HOME/uploads/` (a unique temporary file, then an exclusive hard
link: two people adding the same name at once cannot overwrite each other), and says what the document adds
and which of its questions the bank already has (those are not taken: see `knowledge._claim`). A document that
adds nothing is refused and removed.

Embedding is the slow part (a 200-question document takes minutes on two cores), so `Indexer` does it in a
child process, `python -m interviewer ingest --events`, at the lowest CPU priority and on one thread: the
kernel then gives the cores to the people grading answers first. If the index cannot be rebuilt, the new file
is removed and the job says why, so the bank on disk always matches the last good index.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from interviewer.documents import UPLOADS_LABEL
from interviewer.errors import KnowledgeError
from interviewer.knowledge import Duplicate, load_bank, parse_document
from interviewer.settings import PROJECT_ROOT, Settings
from interviewer.wording import counted

MAX_BYTES = 2 * 1024 * 1024
"""A Q&A document is text; the server refuses larger uploads too (`server.maxUploadSize` in .streamlit/)."""
MAX_QUESTIONS = 200
"""More than this is a data dump, not a document: indexing it would take many minutes."""
MAX_NAME_BYTES = 200
"""File systems allow 255 bytes per name; this leaves room for the temporary file's."""


_REMOTE = r"<?\s*(?:[a-z][a-z0-9+.-]*:)?//"
_INLINE_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*" + _REMOTE, re.IGNORECASE)
_REFERENCE_IMAGE = re.compile(r"!\[[^\]]*\](?!\()")
_REMOTE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*" + _REMOTE, re.IGNORECASE | re.MULTILINE)
"""Markdown images from another host: a page showing the text would make every reader's browser fetch them."""


class UploadError(KnowledgeError):
    """An upload that cannot be added; the message says why and what to do."""


def safe_name(name: str) -> str:
    """The uploaded file's own name with only path separators, control characters and leading dots replaced."""
    name = "".join("-" if char in "/\\" or unicodedata.category(char) == "Cc" else char for char in name)
    visible = name.lstrip(".")
    return "-" * (len(name) - len(visible)) + visible


@dataclass(frozen=True)
class Upload:
    """A document saved in the uploads folder, and what it adds to the bank."""

    path: Path
    added: tuple[str, ...]
    duplicates: tuple[Duplicate, ...]

    @property
    def label(self) -> str:
        """How the index and messages name it."""
        return f"{UPLOADS_LABEL}/{self.path.name}"

    def summary(self) -> str:
        """What adding it did, in words."""
        text = f"Added {self.path.name}: {counted(len(self.added), 'new question')}."
        if self.duplicates:
            named = "; ".join(f"{d.question!r} (already at {d.kept})" for d in self.duplicates)
            text += f" Skipped {counted(len(self.duplicates), 'question')} the bank already has: {named}."
        return text


def _check(name: str, data: bytes) -> None:
    """Refuse what is not a Markdown document of a sensible size, before anything is written."""
    if Path(name).suffix.casefold() != ".md":
        raise UploadError(f"{name} is not a Markdown file; only .md documents can be added.")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadError(f"The file name is longer than {MAX_NAME_BYTES} bytes; rename the file and add it again.")
    if len(data) > MAX_BYTES:
        raise UploadError(f"{name} is {len(data):,} bytes; the limit is {MAX_BYTES // (1024 * 1024)} MB.")


def _refuse_remote_images(name: str, text: str) -> None:
    """Refuse a document that shows an image from another host (the app makes no request off this machine)."""
    found = _INLINE_IMAGE.search(text)
    if found is None and _REFERENCE_IMAGE.search(text):
        found = _REMOTE_DEFINITION.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise UploadError(
            f"{UPLOADS_LABEL}/{name}:{line}: an image from another site; the app loads nothing from outside this "
            "machine, so remove the image (a link is fine) and add the document again."
        )


def _write_temporary(directory: Path, data: bytes) -> Path:
    """A new file of unique name in `directory` holding `data`, flushed to disk; hidden from the bank."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    with os.fdopen(handle, "wb") as output:
        output.write(data)
        output.flush()
        os.fsync(output.fileno())
    return Path(name)


def add_upload(settings: Settings, name: str, data: bytes) -> Upload:
    """Check and save an uploaded document; raise UploadError (nothing saved) when it cannot be added."""
    name = safe_name(name)
    _check(name, data)
    temporary = _write_temporary(settings.uploads_dir, data)
    target = settings.uploads_dir / name
    try:
        entries = parse_document(temporary, f"{UPLOADS_LABEL}/{name}")
        _refuse_remote_images(name, data.decode("utf-8-sig"))
        if len(entries) > MAX_QUESTIONS:
            raise UploadError(
                f"{name} holds {len(entries):,} questions; a document may hold at most {MAX_QUESTIONS}. "
                "Split it into several documents."
            )
        try:
            os.link(temporary, target)  # fails if the name exists: never overwrites, never races
        except FileExistsError:
            raise UploadError(f"A document named {name} was already added; rename your file.") from None
    finally:
        temporary.unlink(missing_ok=True)
    try:
        upload = _what_it_adds(settings, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return upload


def _what_it_adds(settings: Settings, path: Path) -> Upload:
    """The questions a saved upload adds and the duplicates it holds; refuse one that adds nothing."""
    label = f"{UPLOADS_LABEL}/{path.name}"
    bank = load_bank(settings.knowledge_dir, settings.uploads_dir)
    added = tuple(q.question for q in bank.questions if q.source.rsplit(":", 1)[0] == label)
    duplicates = tuple(d for d in bank.duplicates if d.document == label)
    if not added:
        named = "; ".join(f"{d.question!r} (at {d.kept})" for d in duplicates)
        raise UploadError(f"{path.name} adds nothing: the bank already has every question in it: {named}.")
    return Upload(path, added, duplicates)


JobState = Literal["waiting", "indexing", "done", "failed"]


@dataclass
class IndexJob:
    """One upload being indexed; the page polls it."""

    upload: Upload
    state: JobState = "waiting"
    done: int = 0
    total: int = 0
    message: str = ""

    @property
    def finished(self) -> bool:
        """Whether it is over, either way."""
        return self.state in ("done", "failed")


class Indexer:
    """Rebuilds the index for uploads, one at a time, each in a low-priority child process."""

    def __init__(self, settings: Settings, on_indexed: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.on_indexed = on_indexed
        self._one_at_a_time = threading.Lock()

    def submit(self, upload: Upload) -> IndexJob:
        """Start indexing on a thread of its own; the job reports progress and the outcome."""
        job = IndexJob(upload)
        threading.Thread(target=self._run, args=(job,), name=f"index {upload.path.name}").start()
        return job

    def _run(self, job: IndexJob) -> None:
        """Index; on any failure remove the upload and say why."""
        with self._one_at_a_time:
            job.state = "indexing"
            try:
                documents, problems = self._ingest(job)
                if job.upload.label not in documents:
                    raise UploadError("; ".join(problems) or "the index did not take it")
            except Exception as error:  # noqa: BLE001 - any failure means the same: the file must go, and why
                job.upload.path.unlink(missing_ok=True)
                job.message = f"{job.upload.path.name} was not added: {error}"
                job.state = "failed"
                return
            job.message = job.upload.summary()
            job.state = "done"
        self.on_indexed()

    def _ingest(self, job: IndexJob) -> tuple[list[str], list[str]]:
        """Run the ingest command, niced, on one thread; follow its progress; the documents indexed, the problems."""
        settings = self.settings
        environment = {
            **os.environ,
            "INTERVIEWER_HOME": str(settings.home),
            "INTERVIEWER_KNOWLEDGE_DIR": str(settings.knowledge_dir),
            "INTERVIEWER_EMBEDDING_MODEL": settings.embedding_model,
            "OMP_NUM_THREADS": "1",  # torch's thread count: leave the other core to grading
            "MKL_NUM_THREADS": "1",
        }
        with tempfile.TemporaryFile() as errors:
            child = subprocess.Popen(
                [sys.executable, "-m", "interviewer", "ingest", "--events"],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            with contextlib.suppress(ProcessLookupError):  # it may already have ended
                os.setpriority(os.PRIO_PROCESS, child.pid, 19)
            result: dict[str, object] = {}
            assert child.stdout is not None
            for line in child.stdout:
                if not line.startswith("{"):  # a library's own output, not an event
                    continue
                event = json.loads(line)
                if event["event"] == "progress":
                    job.done, job.total = event["done"], event["total"]
                else:
                    result = event
            if child.wait() != 0:
                errors.seek(0)
                lines = [line.strip() for line in errors.read().decode("utf-8", "replace").splitlines() if line.strip()]
                raise UploadError((lines[-1] if lines else f"exit code {child.returncode}").removeprefix("error: "))
        return list(result.get("documents", [])), list(result.get("problems", []))  # type: ignore[call-overload]
