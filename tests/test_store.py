"""The transcript store: migrations, one committed turn at a time, no double writes, clear failures.

Tests that take the `store` fixture run on SQLite and on PostgreSQL; the rest are about a SQLite file itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from interviewer.errors import RoundNotFoundError, StoreError
from interviewer.grade import CriterionScores, Grade
from interviewer.models import LOCAL_OWNER, FollowUp, Turn
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
def store(store_url: str) -> SqlStore:
    """A new, empty store: each test that takes it runs on SQLite and on PostgreSQL."""
    return SqlStore(store_url)


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
    round_id = store.create_round("practice", ["PyTorch"], None, ["q0", "q1"], owner=LOCAL_OWNER)
    assert store.add_turn(turn(round_id, 0, 4.0), owner=LOCAL_OWNER)
    assert store.add_turn(turn(round_id, 1, None, skipped=True, answer=None), owner=LOCAL_OWNER)
    record = store.get_round(round_id, owner=LOCAL_OWNER)
    assert [t.position for t in record.turns] == [0, 1]
    assert record.turns[0].grade == grade(4.0)
    assert record.turns[1].skipped and record.average_score == 4.0


def test_the_same_position_is_never_written_twice(store: SqlStore) -> None:
    round_id = store.create_round("mock", [], None, ["q0"], owner=LOCAL_OWNER)
    assert store.add_turn(turn(round_id, 0, 2.0), owner=LOCAL_OWNER)
    assert not store.add_turn(turn(round_id, 0, 5.0), owner=LOCAL_OWNER)
    assert [t.score for t in store.get_round(round_id, owner=LOCAL_OWNER).turns] == [2.0]


def test_a_follow_up_is_committed_with_its_turn_and_cleared_by_the_next(store: SqlStore) -> None:
    round_id = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    follow_up = FollowUp("And padding?", "PyTorch", "q0", ("Pads to the longest sequence",))
    store.add_turn(turn(round_id, 0), follow_up, owner=LOCAL_OWNER)
    assert store.get_round(round_id, owner=LOCAL_OWNER).pending_follow_up == follow_up
    store.add_turn(turn(round_id, 1, kind="follow_up"), owner=LOCAL_OWNER)
    assert store.get_round(round_id, owner=LOCAL_OWNER).pending_follow_up is None


def test_rounds_are_listed_newest_first_and_filtered_by_topic(store: SqlStore) -> None:
    first = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    store.add_turn(turn(first, 0, topic="TensorFlow"), owner=LOCAL_OWNER)
    second = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    store.add_turn(turn(second, 0, topic="PyTorch"), owner=LOCAL_OWNER)
    assert [r.id for r in store.list_rounds(owner=LOCAL_OWNER)] == [second, first]
    assert [r.id for r in store.list_rounds("tensorflow", owner=LOCAL_OWNER)] == [first]


def test_unfinished_rounds_are_offered_newest_first_with_their_answer_counts(store: SqlStore) -> None:
    ended = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    store.end_round(ended, owner=LOCAL_OWNER)
    older = store.create_round("practice", [], None, ["q0", "q1"], owner=LOCAL_OWNER)
    store.add_turn(turn(older, 0), owner=LOCAL_OWNER)
    store.add_turn(turn(older, 1), owner=LOCAL_OWNER)
    newer = store.create_round("mock", [], None, ["q0"], owner=LOCAL_OWNER)
    assert [(r.id, r.turns) for r in store.unfinished_rounds(limit=3, owner=LOCAL_OWNER)] == [(newer, 0), (older, 2)]
    assert [r.id for r in store.unfinished_rounds(limit=1, owner=LOCAL_OWNER)] == [newer]


def test_delete_removes_the_round_and_its_turns(store: SqlStore) -> None:
    round_id = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    store.add_turn(turn(round_id, 0), owner=LOCAL_OWNER)
    assert store.delete_round(round_id, owner=LOCAL_OWNER)
    with pytest.raises(StoreError, match="No round with id"):
        store.get_round(round_id, owner=LOCAL_OWNER)
    assert store.question_scores(owner=LOCAL_OWNER) == {}


def test_question_scores_feed_retry_weak(store: SqlStore) -> None:
    round_id = store.create_round("practice", [], None, ["q0", "q1"], owner=LOCAL_OWNER)
    store.add_turn(turn(round_id, 0, 1.5), owner=LOCAL_OWNER)
    store.add_turn(turn(round_id, 1, 4.5), owner=LOCAL_OWNER)
    assert store.question_scores(owner=LOCAL_OWNER) == {"q0": [1.5], "q1": [4.5]}


def test_another_owners_round_is_not_found_by_any_read_or_write(store: SqlStore) -> None:
    round_id = store.create_round("practice", ["PyTorch"], None, ["q0", "q1"], owner="ada")
    assert store.add_turn(turn(round_id, 0, 1.5), owner="ada")
    with pytest.raises(RoundNotFoundError) as missing:
        store.get_round("nosuchround", owner="bob")

    def as_bob(action: Callable[[], object]) -> str:
        with pytest.raises(RoundNotFoundError) as caught:
            action()
        return str(caught.value)

    said = as_bob(lambda: store.get_round(round_id, owner="bob"))
    assert said == str(missing.value).replace("nosuchround", round_id)  # the same as for an id that is not there
    as_bob(lambda: store.add_turn(turn(round_id, 1, 5.0), FollowUp("Q?", "T", "q0", ()), owner="bob"))
    as_bob(lambda: store.end_round(round_id, owner="bob"))
    assert not store.delete_round(round_id, owner="bob")
    assert store.list_rounds(owner="bob") == [] and store.unfinished_rounds(5, owner="bob") == []
    assert store.question_scores(owner="bob") == {}

    record = store.get_round(round_id, owner="ada")  # untouched by all of it
    assert [t.score for t in record.turns] == [1.5] and record.ended_at is None and record.pending_follow_up is None
    assert [r.id for r in store.list_rounds(owner="ada")] == [round_id]
    assert store.question_scores(owner="ada") == {"q0": [1.5]}


def test_each_owner_lists_and_resumes_only_their_own_rounds(store: SqlStore) -> None:
    ada = store.create_round("practice", [], None, ["q0"], owner="ada")
    bob = store.create_round("practice", [], None, ["q0"], owner="bob")
    store.add_turn(turn(bob, 0, 4.0), owner="bob")
    assert [r.id for r in store.list_rounds(owner="ada")] == [ada]
    assert [(r.id, r.turns) for r in store.unfinished_rounds(5, owner="bob")] == [(bob, 1)]
    assert store.list_rounds(owner=LOCAL_OWNER) == []  # local mode's person is an owner like any other


@pytest.mark.parametrize("owner", ["", None])
def test_a_missing_owner_is_a_bug_never_everyone(store: SqlStore, owner: str) -> None:
    store.create_round("practice", [], None, ["q0"], owner="ada")
    with pytest.raises(ValueError, match="owner must be a non-empty string"):
        store.list_rounds(owner=owner)


def test_a_locked_database_is_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = sqlite_store(path, busy_timeout=0.2)
    round_id = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="another process holds the database"):
            store.add_turn(turn(round_id, 0), owner=LOCAL_OWNER)
    finally:
        blocker.rollback()
        blocker.close()
    assert store.add_turn(turn(round_id, 0), owner=LOCAL_OWNER)  # recovers once the lock is gone


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

    old1, old2 = store.get_round("old1", owner=LOCAL_OWNER), store.get_round("old2", owner=LOCAL_OWNER)
    assert (old1.mode, old1.topics, old1.ended_at) == ("mock", ["TensorFlow"], "2026-11-20T09:10:00+00:00")
    assert [t.grade for t in old1.turns] == [grade(2.5)] and old1.turns[0].answer == "Answer 0"
    assert old2.focus == "kv cache" and old2.pending_follow_up is not None
    assert old2.pending_follow_up.missed == ("Pads to the longest sequence",)
    assert [r.id for r in store.list_rounds(owner=LOCAL_OWNER)] == ["old2", "old1"]
    assert store.question_scores(owner=LOCAL_OWNER) == {"q0": [2.5, 3.0]}
    assert store.list_rounds(owner="ada") == []  # the rounds of before were the local person's

    assert not store.add_turn(turn("old2", 0, 5.0), owner=LOCAL_OWNER)  # still one answer per position
    # the round goes on where it stopped, and new rounds sort after the old ones
    assert store.add_turn(turn("old2", 1, 4.0, kind="follow_up"), owner=LOCAL_OWNER)
    newer = store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    assert [r.id for r in store.list_rounds(owner=LOCAL_OWNER)] == [newer, "old2", "old1"]

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


def test_a_database_upgraded_by_a_newer_version_is_refused_with_what_to_do(store_url: str) -> None:
    store = SqlStore(store_url)
    store.create_round("practice", [], None, ["q0"], owner=LOCAL_OWNER)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="revision 9999, which this version of the app does not know"):
        SqlStore(store_url)
    with store.engine.connect() as connection:  # refused untouched
        assert connection.execute(text("SELECT COUNT(*) FROM rounds")).scalar() == 1
