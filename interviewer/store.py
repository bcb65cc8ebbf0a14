"""Transcripts in SQLite: the record of every round, written one committed turn at a time.

The store is the only module that speaks SQL. Each graded turn is one transaction, in WAL mode, so a closed
browser tab or a killed process loses no completed turn, and a round can be resumed from what is here. Schema
changes are numbered migration functions applied in order and recorded in `_migrations`, as llm's logs do.
A turn's (round, position) is unique: the same answer can never be written twice into a transcript.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from interviewer.errors import RoundNotFoundError, StoreError
from interviewer.grade import Grade
from interviewer.models import FollowUp, OpenRound, RoundRecord, Turn

BUSY_TIMEOUT_SECONDS = 5.0
"""How long a write waits for another process's lock before the person is told."""
QUEUE_TIMEOUT_SECONDS = 60.0
"""How long a write waits behind this process's other writes (many sessions answering at once)."""


def _m001_initial(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE rounds (
            id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            mode TEXT NOT NULL,
            topics TEXT NOT NULL,
            focus TEXT,
            question_ids TEXT NOT NULL,
            pending_follow_up TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            round_id TEXT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            question_id TEXT,
            topic TEXT NOT NULL,
            question TEXT NOT NULL,
            answer TEXT,
            skipped INTEGER NOT NULL DEFAULT 0,
            score REAL,
            grader TEXT,
            grade TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (round_id, position)
        )"""
    )
    db.execute("CREATE INDEX turns_by_round ON turns(round_id, position)")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_initial]


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations not yet recorded, each in its own transaction."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    for migration in MIGRATIONS:
        name = migration.__name__.lstrip("_")
        if name in applied:
            continue
        with db:
            migration(db)
            db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, _now()))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _follow_up(stored: str | None) -> FollowUp | None:
    """The pending follow-up as the rounds table keeps it (JSON), or None."""
    return FollowUp.from_dict(json.loads(stored)) if stored else None


class Store:
    """Opens a fresh connection per operation: safe across Streamlit's threads and several processes."""

    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._writing = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connect()
            try:  # `with db` would only commit: the connection must be closed, or it holds the files open
                with db:
                    db.execute("PRAGMA journal_mode=WAL")
                    migrate(db)
            finally:
                db.close()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(self._explain(error)) from error

    def _explain(self, error: Exception) -> str:
        """A message that says what to do about a storage failure."""
        text = str(error).lower()
        code = getattr(error, "sqlite_errorname", "")
        if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
            hint = "another process holds the database; close it or wait, then retry"
        elif code.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text or "permission" in text:
            hint = "the database is read-only; fix its permissions or point INTERVIEWER_DB_PATH elsewhere"
        elif code.startswith("SQLITE_CANTOPEN") and not os.access(self.path.parent, os.W_OK):
            hint = (
                f"the folder {self.path.parent} is read-only, and SQLite must create its journal files there; "
                "fix its permissions or point INTERVIEWER_DB_PATH elsewhere"
            )
        elif code == "SQLITE_FULL" or code.startswith("SQLITE_IOERR") or "full" in text or "no space" in text:
            hint = "writing to the disk failed (is it full?); free some space, then retry"
        else:
            hint = "check the file, or point INTERVIEWER_DB_PATH elsewhere"
        return f"Cannot use the transcript store {self.path} ({error}): {hint}."

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error:
            db.close()
            raise
        return db

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One committed transaction; storage failures become StoreError."""
        try:
            db = self._connect()
            try:
                with self._turn_to_write(write), db:
                    yield db
            finally:
                db.close()
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as error:
            raise StoreError(self._explain(error)) from error

    @contextmanager
    def _turn_to_write(self, write: bool) -> Iterator[None]:
        """Writers of this process take turns: SQLite's busy handler polls with growing sleeps, so with twenty
        sessions writing at once one of them could be starved past the busy timeout and told "locked"."""
        if not write:
            yield
            return
        waited = max(self.busy_timeout, QUEUE_TIMEOUT_SECONDS)
        if not self._writing.acquire(timeout=waited):
            raise StoreError(
                f"The transcript store {self.path} is still busy saving other sessions' answers after "
                f"{waited:.0f} s; wait a moment, then retry."
            )
        try:
            yield
        finally:
            self._writing.release()

    def create_round(self, mode: str, topics: list[str], focus: str | None, question_ids: list[str]) -> str:
        """A new round; returns its id."""
        round_id = uuid.uuid4().hex[:12]
        with self._transaction(write=True) as db:
            db.execute(
                "INSERT INTO rounds (id, started_at, mode, topics, focus, question_ids) VALUES (?, ?, ?, ?, ?, ?)",
                (round_id, _now(), mode, json.dumps(topics), focus, json.dumps(question_ids)),
            )
        return round_id

    def add_turn(self, turn: Turn, pending_follow_up: FollowUp | None = None) -> bool:
        """Commit a turn (and the round's next follow-up) at once; False when that position is already saved."""
        grade_json = turn.grade.model_dump_json() if turn.grade else None
        try:
            with self._transaction(write=True) as db:
                db.execute(
                    """INSERT INTO turns (round_id, position, kind, question_id, topic, question, answer, skipped,
                       score, grader, grade, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        turn.round_id,
                        turn.position,
                        turn.kind,
                        turn.question_id,
                        turn.topic,
                        turn.question,
                        turn.answer,
                        int(turn.skipped),
                        turn.score,
                        turn.grade.grader if turn.grade else None,
                        grade_json,
                        turn.created_at,
                    ),
                )
                db.execute(
                    "UPDATE rounds SET pending_follow_up = ? WHERE id = ?",
                    (json.dumps(pending_follow_up.to_dict()) if pending_follow_up else None, turn.round_id),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def end_round(self, round_id: str) -> None:
        """Mark a round finished."""
        with self._transaction(write=True) as db:
            db.execute(
                "UPDATE rounds SET ended_at = COALESCE(ended_at, ?), pending_follow_up = NULL WHERE id = ?",
                (_now(), round_id),
            )

    def delete_round(self, round_id: str) -> bool:
        """Delete a round and its turns; False when there was no such round."""
        with self._transaction(write=True) as db:
            return db.execute("DELETE FROM rounds WHERE id = ?", (round_id,)).rowcount > 0

    @staticmethod
    def _turn(row: sqlite3.Row) -> Turn:
        return Turn(
            round_id=row["round_id"],
            position=row["position"],
            kind=row["kind"],
            question_id=row["question_id"],
            topic=row["topic"],
            question=row["question"],
            answer=row["answer"],
            skipped=bool(row["skipped"]),
            grade=Grade.model_validate_json(row["grade"]) if row["grade"] else None,
            created_at=row["created_at"],
        )

    @staticmethod
    def _round(row: sqlite3.Row, turns: list[Turn]) -> RoundRecord:
        return RoundRecord(
            id=row["id"],
            started_at=row["started_at"],
            ended_at=row["ended_at"],
            mode=row["mode"],
            topics=json.loads(row["topics"]),
            focus=row["focus"],
            question_ids=json.loads(row["question_ids"]),
            pending_follow_up=FollowUp.from_dict(json.loads(row["pending_follow_up"]))
            if row["pending_follow_up"]
            else None,
            turns=turns,
        )

    def get_round(self, round_id: str) -> RoundRecord:
        """One round with all its turns; StoreError when there is none."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM rounds WHERE id = ?", (round_id,)).fetchone()
            if row is None:
                raise RoundNotFoundError(f"No round with id {round_id!r}; `transcripts list` shows the ids.")
            turns = db.execute("SELECT * FROM turns WHERE round_id = ? ORDER BY position", (round_id,)).fetchall()
        return self._round(row, [self._turn(turn) for turn in turns])

    def list_rounds(self, topic: str | None = None) -> list[RoundRecord]:
        """Every round with its turns, newest first; with a topic, only rounds that asked about it."""
        with self._transaction() as db:
            rounds = db.execute("SELECT * FROM rounds ORDER BY started_at DESC, rowid DESC").fetchall()
            turns = db.execute("SELECT * FROM turns ORDER BY round_id, position").fetchall()
        by_round: dict[str, list[Turn]] = {}
        for row in turns:
            by_round.setdefault(row["round_id"], []).append(self._turn(row))
        records = [self._round(row, by_round.get(row["id"], [])) for row in rounds]
        if topic:
            wanted = topic.casefold()
            records = [r for r in records if any(t.topic.casefold() == wanted for t in r.turns)]
        return records

    def unfinished_rounds(self, limit: int) -> list[OpenRound]:
        """The newest rounds not ended yet; one query, so the start page stays fast however long the history."""
        with self._transaction() as db:
            rows = db.execute(
                """SELECT rounds.id, rounds.started_at, COUNT(turns.position) AS turns FROM rounds
                   LEFT JOIN turns ON turns.round_id = rounds.id WHERE rounds.ended_at IS NULL
                   GROUP BY rounds.id ORDER BY rounds.started_at DESC, rounds.rowid DESC LIMIT ?""",
                (limit,),
            ).fetchall()
        return [OpenRound(row["id"], row["started_at"], row["turns"]) for row in rows]

    def question_scores(self) -> dict[str, list[float]]:
        """Every overall score ever given, by bank question id: what "retry weak" rounds draw on."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT question_id, score FROM turns WHERE question_id IS NOT NULL AND score IS NOT NULL"
            ).fetchall()
        scores: dict[str, list[float]] = {}
        for row in rows:
            scores.setdefault(row["question_id"], []).append(row["score"])
        return scores
