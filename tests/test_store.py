"""The transcript store: migrations, one committed turn at a time, no double writes, clear failures."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from interviewer.errors import StoreError
from interviewer.grade import CriterionScores, Grade
from interviewer.models import FollowUp, Turn
from interviewer.store import SqlStore
from interviewer.store.migrate import head


def grade(score: float) -> Grade:
    return Grade(
        reasoning="r",
        key_points_covered=["a"],
        key_points_missed=["b"],
        criteria=CriterionScores(correctness=score, completeness=score, depth=score, communication=score),
        score=score,
        strengths="s",
        improvements="i",
        model_answer="m",
        grader="offline",
    )


def turn(round_id: str, position: int, score: float | None = 3.0, **changes: object) -> Turn:
    values: dict[str, object] = {
        "round_id": round_id,
        "position": position,
        "kind": "question",
        "question_id": f"q{position}",
        "topic": "PyTorch",
        "question": f"Question {position}?",
        "answer": f"Answer {position}",
        "skipped": False,
        "grade": grade(score) if score is not None else None,
        "created_at": f"2026-11-25T10:0{position}:00+00:00",
    }
    values.update(changes)
    return Turn(**values)  # type: ignore[arg-type]


def sqlite_store(path: Path, busy_timeout: float = 5.0) -> SqlStore:
    """The SQLite store at `path`."""
    return SqlStore(f"sqlite:///{path}", busy_timeout)


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    """A new, empty store."""
    return sqlite_store(tmp_path / "t.db")


def test_a_new_database_is_migrated_with_the_expected_columns(tmp_path: Path) -> None:
    sqlite_store(tmp_path / "t.db")
    db = sqlite3.connect(tmp_path / "t.db")
    assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]
    columns = [row[1] for row in db.execute("PRAGMA table_info(turns)")]
    assert columns[:7] == ["id", "round_id", "position", "kind", "question_id", "topic", "question"]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    sqlite_store(tmp_path / "t.db")  # opening again applies nothing twice


def test_turns_round_trip_with_their_grades(store: SqlStore) -> None:
    round_id = store.create_round("practice", ["PyTorch"], None, ["q0", "q1"])
    assert store.add_turn(turn(round_id, 0, 4.0))
    assert store.add_turn(turn(round_id, 1, None, skipped=True, answer=None))
    record = store.get_round(round_id)
    assert [t.position for t in record.turns] == [0, 1]
    assert record.turns[0].grade == grade(4.0)
    assert record.turns[1].skipped and record.average_score == 4.0


def test_the_same_position_is_never_written_twice(store: SqlStore) -> None:
    round_id = store.create_round("mock", [], None, ["q0"])
    assert store.add_turn(turn(round_id, 0, 2.0))
    assert not store.add_turn(turn(round_id, 0, 5.0))
    assert [t.score for t in store.get_round(round_id).turns] == [2.0]


def test_a_follow_up_is_committed_with_its_turn_and_cleared_by_the_next(store: SqlStore) -> None:
    round_id = store.create_round("practice", [], None, ["q0"])
    follow_up = FollowUp("And padding?", "PyTorch", "q0", ("Pads to the longest sequence",))
    store.add_turn(turn(round_id, 0), follow_up)
    assert store.get_round(round_id).pending_follow_up == follow_up
    store.add_turn(turn(round_id, 1, kind="follow_up"))
    assert store.get_round(round_id).pending_follow_up is None


def test_rounds_are_listed_newest_first_and_filtered_by_topic(store: SqlStore) -> None:
    first = store.create_round("practice", [], None, ["q0"])
    store.add_turn(turn(first, 0, topic="TensorFlow"))
    second = store.create_round("practice", [], None, ["q0"])
    store.add_turn(turn(second, 0, topic="PyTorch"))
    assert [r.id for r in store.list_rounds()] == [second, first]
    assert [r.id for r in store.list_rounds("tensorflow")] == [first]


def test_unfinished_rounds_are_offered_newest_first_with_their_answer_counts(store: SqlStore) -> None:
    ended = store.create_round("practice", [], None, ["q0"])
    store.end_round(ended)
    older = store.create_round("practice", [], None, ["q0", "q1"])
    store.add_turn(turn(older, 0))
    store.add_turn(turn(older, 1))
    newer = store.create_round("mock", [], None, ["q0"])
    assert [(r.id, r.turns) for r in store.unfinished_rounds(limit=3)] == [(newer, 0), (older, 2)]
    assert [r.id for r in store.unfinished_rounds(limit=1)] == [newer]


def test_delete_removes_the_round_and_its_turns(store: SqlStore) -> None:
    round_id = store.create_round("practice", [], None, ["q0"])
    store.add_turn(turn(round_id, 0))
    assert store.delete_round(round_id)
    with pytest.raises(StoreError, match="No round with id"):
        store.get_round(round_id)
    assert store.question_scores() == {}


def test_question_scores_feed_retry_weak(store: SqlStore) -> None:
    round_id = store.create_round("practice", [], None, ["q0", "q1"])
    store.add_turn(turn(round_id, 0, 1.5))
    store.add_turn(turn(round_id, 1, 4.5))
    assert store.question_scores() == {"q0": [1.5], "q1": [4.5]}


def test_a_locked_database_is_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = sqlite_store(path, busy_timeout=0.2)
    round_id = store.create_round("practice", [], None, ["q0"])
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="another process holds the database"):
            store.add_turn(turn(round_id, 0))
    finally:
        blocker.rollback()
        blocker.close()
    assert store.add_turn(turn(round_id, 0))  # recovers once the lock is gone


def test_an_unwritable_location_is_a_clear_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="Cannot use the transcript store"):
        sqlite_store(blocker / "t.db")


LEGACY_SCHEMA = """
CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE rounds (
    id TEXT PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, mode TEXT NOT NULL, topics TEXT NOT NULL,
    focus TEXT, question_ids TEXT NOT NULL, pending_follow_up TEXT
);
CREATE TABLE turns (
    id INTEGER PRIMARY KEY, round_id TEXT NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, kind TEXT NOT NULL, question_id TEXT, topic TEXT NOT NULL, question TEXT NOT NULL,
    answer TEXT, skipped INTEGER NOT NULL DEFAULT 0, score REAL, grader TEXT, grade TEXT, created_at TEXT NOT NULL,
    UNIQUE (round_id, position)
);
CREATE INDEX turns_by_round ON turns(round_id, position);
INSERT INTO _migrations VALUES ('m001_initial', '2026-11-20T09:00:00+00:00');
"""
"""What the store's numbered migration `m001_initial` made, before Alembic (copied from interviewer/store.py)."""


def legacy_database(path: Path) -> None:
    """A transcript file as the pre-Alembic store left it: two rounds (one ended, one waiting on a follow-up)."""
    follow_up = FollowUp("And padding?", "PyTorch", "q1", ("Pads to the longest sequence",))
    db = sqlite3.connect(path)
    db.executescript(LEGACY_SCHEMA)
    db.execute("PRAGMA journal_mode=WAL")
    ended = "2026-11-20T09:10:00+00:00"
    rows = [
        ("old1", "2026-11-20T09:00:00+00:00", ended, "mock", '["TensorFlow"]', None, '["q0"]', None),
        ("old2", "2026-11-21T09:00:00+00:00", None, "practice", "[]", "kv cache", '["q1", "q2"]',
         json.dumps(follow_up.to_dict())),
    ]  # fmt: skip
    db.executemany("INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    for round_id, position, score in (("old1", 0, 2.5), ("old2", 0, 3.0)):
        answer = turn(round_id, position, score)
        db.execute(
            "INSERT INTO turns (round_id, position, kind, question_id, topic, question, answer, skipped, score, "
            "grader, grade, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 'offline', ?, ?)",
            (round_id, position, "question", answer.question_id, answer.topic, answer.question, answer.answer, score,
             answer.grade.model_dump_json() if answer.grade else None, answer.created_at),
        )  # fmt: skip
    db.commit()
    db.close()


def test_a_database_made_before_alembic_is_upgraded_in_place_without_losing_a_round(tmp_path: Path) -> None:
    path = tmp_path / "transcripts.db"
    legacy_database(path)
    store = sqlite_store(path)

    old1, old2 = store.get_round("old1"), store.get_round("old2")
    assert (old1.mode, old1.topics, old1.ended_at) == ("mock", ["TensorFlow"], "2026-11-20T09:10:00+00:00")
    assert [t.grade for t in old1.turns] == [grade(2.5)] and old1.turns[0].answer == "Answer 0"
    assert old2.focus == "kv cache" and old2.pending_follow_up is not None
    assert old2.pending_follow_up.missed == ("Pads to the longest sequence",)
    assert [r.id for r in store.list_rounds()] == ["old2", "old1"]
    assert store.question_scores() == {"q0": [2.5, 3.0]}

    assert not store.add_turn(turn("old2", 0, 5.0))  # still one answer per position
    assert store.add_turn(turn("old2", 1, 4.0, kind="follow_up"))  # the round goes on where it stopped
    newer = store.create_round("practice", [], None, ["q0"])
    assert [r.id for r in store.list_rounds()] == [newer, "old2", "old1"]  # new rounds sort after old ones

    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "_migrations" not in tables  # one record of migrations: Alembic's
    assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(head(),)]
    db.close()


def test_a_database_from_an_unknown_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "transcripts.db"
    legacy_database(path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO _migrations VALUES ('m002_from_the_future', '2026-11-22T09:00:00+00:00')")
    with pytest.raises(StoreError, match=r"m002_from_the_future.*run that version, or restore a backup"):
        sqlite_store(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM rounds").fetchone() == (2,)
    assert db.execute("SELECT COUNT(*) FROM _migrations").fetchone() == (2,)
    db.close()
