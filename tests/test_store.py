"""The transcript store: migrations, one committed turn at a time, no double writes, clear failures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from interviewer.errors import StoreError
from interviewer.grade import CriterionScores, Grade
from interviewer.models import FollowUp, Turn
from interviewer.store import MIGRATIONS, Store


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


def test_a_new_database_is_migrated_with_the_expected_columns(tmp_path: Path) -> None:
    Store(tmp_path / "t.db")
    db = sqlite3.connect(tmp_path / "t.db")
    assert [row[0] for row in db.execute("SELECT name FROM _migrations")] == [m.__name__[1:] for m in MIGRATIONS]
    columns = [row[1] for row in db.execute("PRAGMA table_info(turns)")]
    assert columns[:7] == ["id", "round_id", "position", "kind", "question_id", "topic", "question"]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    Store(tmp_path / "t.db")  # opening again applies nothing twice


def test_turns_round_trip_with_their_grades(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    round_id = store.create_round("practice", ["PyTorch"], None, ["q0", "q1"])
    assert store.add_turn(turn(round_id, 0, 4.0))
    assert store.add_turn(turn(round_id, 1, None, skipped=True, answer=None))
    record = store.get_round(round_id)
    assert [t.position for t in record.turns] == [0, 1]
    assert record.turns[0].grade == grade(4.0)
    assert record.turns[1].skipped and record.average_score == 4.0


def test_the_same_position_is_never_written_twice(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    round_id = store.create_round("mock", [], None, ["q0"])
    assert store.add_turn(turn(round_id, 0, 2.0))
    assert not store.add_turn(turn(round_id, 0, 5.0))
    assert [t.score for t in store.get_round(round_id).turns] == [2.0]


def test_a_follow_up_is_committed_with_its_turn_and_cleared_by_the_next(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    round_id = store.create_round("practice", [], None, ["q0"])
    follow_up = FollowUp("And padding?", "PyTorch", "q0", ("Pads to the longest sequence",))
    store.add_turn(turn(round_id, 0), follow_up)
    assert store.get_round(round_id).pending_follow_up == follow_up
    store.add_turn(turn(round_id, 1, kind="follow_up"))
    assert store.get_round(round_id).pending_follow_up is None


def test_rounds_are_listed_newest_first_and_filtered_by_topic(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    first = store.create_round("practice", [], None, ["q0"])
    store.add_turn(turn(first, 0, topic="TensorFlow"))
    second = store.create_round("practice", [], None, ["q0"])
    store.add_turn(turn(second, 0, topic="PyTorch"))
    assert [r.id for r in store.list_rounds()] == [second, first]
    assert [r.id for r in store.list_rounds("tensorflow")] == [first]


def test_unfinished_rounds_are_offered_newest_first_with_their_answer_counts(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    ended = store.create_round("practice", [], None, ["q0"])
    store.end_round(ended)
    older = store.create_round("practice", [], None, ["q0", "q1"])
    store.add_turn(turn(older, 0))
    store.add_turn(turn(older, 1))
    newer = store.create_round("mock", [], None, ["q0"])
    assert [(r.id, r.turns) for r in store.unfinished_rounds(limit=3)] == [(newer, 0), (older, 2)]
    assert [r.id for r in store.unfinished_rounds(limit=1)] == [newer]


def test_delete_removes_the_round_and_its_turns(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    round_id = store.create_round("practice", [], None, ["q0"])
    store.add_turn(turn(round_id, 0))
    assert store.delete_round(round_id)
    with pytest.raises(StoreError, match="No round with id"):
        store.get_round(round_id)
    assert store.question_scores() == {}


def test_question_scores_feed_retry_weak(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    round_id = store.create_round("practice", [], None, ["q0", "q1"])
    store.add_turn(turn(round_id, 0, 1.5))
    store.add_turn(turn(round_id, 1, 4.5))
    assert store.question_scores() == {"q0": [1.5], "q1": [4.5]}


def test_a_locked_database_is_a_clear_store_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = Store(path, busy_timeout=0.2)
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
        Store(blocker / "t.db")
