"""Store faults at the engine level, in the app and in the terminal: a clear message, and no answer lost.

Each fault hits a real SQLite file while a round is running: the database locked by another process, the file
or its folder read-only, the disk full (SQLite's `max_page_count` on every connection, so the file cannot grow)
and a file-size limit set by the kernel (`RLIMIT_FSIZE`, so every write that would grow a file fails). Each must
raise a `StoreError` that says what to do, write nothing half-way, and take the same answer once the store
recovers. The app keeps the answer in the session behind a "Save it now" button; the terminal round offers to
try again; a terminal round killed with SIGKILL keeps every completed turn and continues with `--resume`.
"""

from __future__ import annotations

import io
import os
import queue
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from interviewer.cli import main
from interviewer.engine import Interviewer, RoundOptions
from interviewer.errors import StoreError
from interviewer.grading import GradingService
from interviewer.index import open_index
from interviewer.models import LOCAL_OWNER, Turn
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import PROJECT_ROOT, Settings, load_settings
from interviewer.store import SqlStore, open_store

from .test_app import FOCUS, answer, new_session, start_round

ANSWER = (
    "torch.compile captures the model with TorchDynamo and compiles it with Inductor into fused kernels; "
    "graph breaks fall back to eager mode, and the first call pays the compile time."
)
LONG_ANSWER = " ".join([ANSWER] * 8)  # about 1,500 characters: with its grade, more than a page


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or folder read-only, then writable again. Root ignores permission bits, so as root the
    immutable attribute (`chattr +i`) stands in for `chmod a-w`."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"running as root and cannot make {path} immutable here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextmanager
def locked_by_another_process(path: Path) -> Iterator[None]:
    """Another process holds `BEGIN EXCLUSIVE` on the database until the block ends."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('BEGIN EXCLUSIVE');"
            "print('locked', flush=True); sys.stdin.readline(); db.rollback()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()


def no_growth(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """As the disk fills up: no connection may grow the file past its current size."""
    pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
    dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")


@contextmanager
def disk_full(store: SqlStore) -> Iterator[None]:
    event.listen(store.engine, "connect", no_growth)
    try:
        yield
    finally:
        event.remove(store.engine, "connect", no_growth)


@contextmanager
def file_size_limit(limit: int = 8192) -> Iterator[None]:
    """The kernel refuses to grow any file of this process past `limit` bytes (SQLite's shared-memory file
    alone needs 32 KB), as a quota or a full disk would."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.fixture(scope="module")
def offline_grader(embedder) -> OfflineGrader:
    """One offline grader for the module, so each reference is encoded once."""
    return OfflineGrader(embedder)


@pytest.fixture
def engine(indexed_settings: Settings, embedder, offline_grader: OfflineGrader) -> Interviewer:
    """The real engine grading offline, over a store that gives up on a lock after 0.2 s."""
    settings = load_settings(home=indexed_settings.home, knowledge_dir=indexed_settings.knowledge_dir, grader="offline")
    index = open_index(settings.knowledge_dir, settings.index_dir, embedder).index
    store = SqlStore(settings.store_url, busy_timeout=0.2)
    return Interviewer(settings, index, embedder, GradingService(settings, offline_grader), store, random.Random(7))


FAULTS: dict[str, tuple[Callable[[Interviewer], AbstractContextManager[None]], str, str]] = {
    "locked by another process": (
        lambda engine: locked_by_another_process(engine.settings.database_path),
        "database is locked",
        "another process holds the database",
    ),
    "read-only file": (
        lambda engine: read_only(engine.settings.database_path),
        "readonly database",
        "the database is read-only",
    ),
    "read-only folder": (
        lambda engine: read_only(engine.settings.database_path.parent),
        "unable to open database file",
        "is read-only, and SQLite must create its journal files there",
    ),
    "disk full": (lambda engine: disk_full(engine.store), "database or disk is full", "free some space"),
    "file size limit": (lambda _engine: file_size_limit(), "disk I/O error", "is it full?"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_store_fault_is_a_clear_error_and_the_answer_is_saved_once_it_recovers(
    engine: Interviewer, fault: str
) -> None:
    make_fault, cause, hint = FAULTS[fault]
    round_id = engine.start(RoundOptions(topics=("PyTorch",), count=2))
    prompt = engine.next_prompt(round_id)
    assert prompt is not None
    text = LONG_ANSWER if fault == "disk full" else ANSWER  # a long answer needs new pages
    with make_fault(engine), pytest.raises(StoreError) as caught:
        engine.answer(prompt, text)
    message = str(caught.value)
    assert str(engine.settings.database_path) in message and cause in message and hint in message
    assert message.endswith(".") and "Traceback" not in message

    record = engine.round(round_id)
    assert record.turns == []  # nothing half-written
    assert engine.next_prompt(round_id) == prompt  # the same question is still the one to answer
    outcome = engine.answer(prompt, text)  # the answer the person kept, once the store has recovered
    assert outcome.saved
    (turn,) = engine.round(round_id).turns
    assert turn.answer == text and turn.grade is not None and turn.grade.grader == "offline"
    with sqlite3.connect(engine.settings.database_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_app_keeps_an_answer_the_store_refused_and_saves_it_when_asked(app_env: Settings) -> None:
    at = new_session()
    start_round(at, count=2, focus=FOCUS)
    with read_only(app_env.database_path):
        answer(at, ANSWER)
        (error,) = at.error
        assert "the database is read-only" in error.value and "kept in this session" in error.value
        assert "This answer is not saved yet." in [warning.value for warning in at.warning]
        assert ANSWER in [element.value for element in at.text]
        assert [button for button in at.button if button.label == "Save it now"]
        assert open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0].turns == []
    next(button for button in at.button if button.label == "Save it now").click().run()
    assert not at.exception, at.exception
    assert not at.error
    (turn,) = open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0].turns
    assert turn.answer == ANSWER and turn.grade is not None
    assert at.metric[0].label == "Score"  # the grade is on screen, read back from the store


def test_the_terminal_round_offers_to_try_again_when_the_store_fails(
    indexed_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTERVIEWER_KNOWLEDGE_DIR", str(indexed_settings.knowledge_dir))
    monkeypatch.setenv("INTERVIEWER_GRADER", "offline")
    open_store(indexed_settings)  # the database exists before it turns read-only
    protection = read_only(indexed_settings.database_path)

    class Typist:
        """Standard input: the database turns read-only as the answer is typed, and writable at the retry."""

        def __init__(self, text: str) -> None:
            self.buffer = io.StringIO(text)
            self.protected = False

        def __iter__(self) -> Iterator[str]:  # how the round reads an answer
            if not self.protected:
                protection.__enter__()
                self.protected = True
            return self

        def __next__(self) -> str:
            if line := self.buffer.readline():
                return line
            raise StopIteration

        def readline(self) -> str:  # how the round reads "press Enter to try again"
            protection.__exit__(None, None, None)
            return self.buffer.readline()

    monkeypatch.setattr(sys, "stdin", Typist(f"{ANSWER}\n\n\n/end\n\n"))
    assert main(["round", "--topic", "PyTorch", "--n", "2"]) == 0
    out, err = capsys.readouterr()
    assert "the database is read-only" in err
    assert "Your answer is kept: press Enter to try saving it again" in out
    (record,) = open_store(indexed_settings).list_rounds(owner=LOCAL_OWNER)
    assert [turn.answer for turn in record.turns] == [ANSWER]


def cli(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.Popen[str]:
    """`python -m interviewer ...` with the test's home, offline grading, and unbuffered output."""
    env = {
        **os.environ,
        "INTERVIEWER_HOME": str(settings.home),
        "INTERVIEWER_KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "INTERVIEWER_GRADER": "offline",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "interviewer", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def read_until(lines: queue.Queue[str], seen: list[str], predicate: Callable[[str], bool], timeout: float) -> str:
    """The next output line that satisfies the predicate; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if predicate(line):
            return line
    raise AssertionError("expected output did not come:\n" + "".join(seen))


def test_a_killed_terminal_round_keeps_its_turns_and_resumes(
    indexed_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = [f"Answer number {n}: {ANSWER}" for n in range(1, 9)]
    round_cli = cli(indexed_settings, "round", "--topic", "PyTorch", "--n", "3")
    assert round_cli.stdin is not None and round_cli.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in round_cli.stdout], daemon=True)
    reader.start()
    seen: list[str] = []

    def is_prompt(line: str) -> bool:
        return line.startswith(("Question ", "Follow-up ["))

    try:
        round_id = read_until(lines, seen, lambda line: line.startswith("Round "), 120).split()[1].rstrip(":")
        prompts = [read_until(lines, seen, is_prompt, 30)]
        for text in answers[:2]:
            round_cli.stdin.write(text + "\n\n")
            round_cli.stdin.flush()
            read_until(lines, seen, lambda line: line.startswith("**Score: "), 60)
            prompts.append(read_until(lines, seen, is_prompt, 30))
        round_cli.stdin.write(answers[2] + "\n\n")  # a third answer in flight when the process dies
        round_cli.stdin.flush()
        time.sleep(0.05)
        round_cli.send_signal(signal.SIGKILL)
        assert round_cli.wait(timeout=10) == -signal.SIGKILL
    finally:
        round_cli.kill()
        round_cli.wait(timeout=10)
        reader.join(timeout=10)  # the process is gone, so its output ends
        round_cli.stdin.close()
        round_cli.stdout.close()

    record = open_store(indexed_settings).get_round(round_id, owner=LOCAL_OWNER)
    assert record.ended_at is None
    kept = len(record.turns)
    assert kept in (2, 3)  # the in-flight answer is either wholly committed or not there at all
    assert [turn.answer for turn in record.turns] == answers[:kept]
    assert all(turn.grade is not None for turn in record.turns)
    assert [turn.question for turn in record.turns[:2]] == [prompt.split("]: ", 1)[1].strip() for prompt in prompts[:2]]

    # The restart: the same command in a fresh runtime (in this process, to spare loading torch again).
    monkeypatch.setenv("INTERVIEWER_KNOWLEDGE_DIR", str(indexed_settings.knowledge_dir))
    monkeypatch.setenv("INTERVIEWER_GRADER", "offline")
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(text + "\n\n" for text in answers[kept:])))
    assert main(["round", "--resume", round_id]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Resuming round {round_id} (practice): {kept} answered")
    if kept == 2:  # it asks exactly the question that was on screen when the process died
        assert prompts[2].strip() in out
    assert "finished:" in out

    record = open_store(indexed_settings).get_round(round_id, owner=LOCAL_OWNER)
    assert record.ended_at is not None
    assert [turn.position for turn in record.turns] == list(range(len(record.turns)))
    assert [turn.answer for turn in record.turns] == answers[: len(record.turns)]
    asked = [turn.question_id for turn in record.turns if turn.kind == "question"]
    assert sorted(asked) == sorted(record.question_ids)  # every planned question once, none repeated


def test_resume_refuses_unknown_and_finished_rounds_before_loading_anything(
    indexed_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(indexed_settings)
    finished = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    store.end_round(finished, owner=LOCAL_OWNER)
    assert main(["round", "--resume", finished]) == 1
    assert f"Round {finished} has finished" in capsys.readouterr().err
    assert main(["round", "--resume", "nope"]) == 1
    assert "No round with id 'nope'" in capsys.readouterr().err
    assert main(["round", "--resume", finished, "--topic", "PyTorch"]) == 1
    assert "drop --topic" in capsys.readouterr().err


def test_the_store_keeps_no_connection_open_between_operations(tmp_path: Path) -> None:
    """Regression: the migrating connection was never closed, so the WAL stayed open and a later connection
    could reuse its read-write descriptor: a database made read-only was still written."""
    store = SqlStore(f"sqlite:///{tmp_path / 't.db'}")
    store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    assert [path.name for path in tmp_path.iterdir()] == ["t.db"]  # no -wal or -shm: nothing holds it open


def test_twenty_sessions_writing_at_once_are_never_told_the_database_is_locked(tmp_path: Path) -> None:
    """Regression: SQLite's busy handler polls, so one of twenty writers could starve past the busy timeout
    (the load test's "Start the round" failed with "database is locked"); writers now take turns."""
    store = SqlStore(f"sqlite:///{tmp_path / 't.db'}")

    def session(number: int) -> int:
        round_id = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
        for position in range(25):
            store.add_turn(
                Turn(round_id, position, "question", "q0", "T", "Q?", f"{number} {ANSWER}", False, None, "-"),
                owner=LOCAL_OWNER,
            )
            store.get_round(round_id, owner=LOCAL_OWNER)
        return number

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert sorted(pool.map(session, range(20))) == list(range(20))
    assert sum(len(record.turns) for record in store.list_rounds(owner=LOCAL_OWNER)) == 20 * 25
