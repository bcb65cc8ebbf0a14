"""The transcript store in SQL, one implementation for SQLite and PostgreSQL through SQLAlchemy Core.

The queries are written once; `databases` sets up each database and explains its failures. Each graded turn is
one transaction, so a closed tab or a killed process loses no completed turn and a round can be resumed from what
is here, on this process or another. A turn's (round, position) is unique: the same answer can never be written
twice into a transcript, however many processes try at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Delete, Engine, RowMapping, Select, Update, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from interviewer.errors import RoundNotFoundError, StoreError
from interviewer.grade import Grade
from interviewer.models import FollowUp, OpenRound, RoundRecord, Turn
from interviewer.speech.delivery import Delivery
from interviewer.store.databases import BUSY_TIMEOUT_SECONDS, WRITE, Database, connect
from interviewer.store.migrate import upgrade
from interviewer.store.tables import rounds, turns


class SqlStore:
    """The `Store` over a database URL; opening it migrates the database to the newest schema."""

    def __init__(self, url: str, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.database: Database = connect(url, busy_timeout)
        try:
            self.database.prepare()
            upgrade(self.engine)
        except (OSError, SQLAlchemyError) as error:
            raise StoreError(self.database.explain(error)) from error

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests that must reach the database underneath)."""
        return self.database.engine

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Connection]:
        """One committed transaction; storage failures become StoreError, a broken constraint stays itself."""
        try:
            with self.database.writing() if write else nullcontext(), self.engine.connect() as connection:
                connection.execution_options(**{WRITE: write})
                with connection.begin():
                    yield connection
        except IntegrityError:
            raise
        except SQLAlchemyError as error:
            raise StoreError(self.database.explain(error)) from error

    def create_round(
        self, mode: str, topics: list[str], focus: str | None, question_ids: list[str], *, owner: str
    ) -> str:
        """A new round of `owner`; returns its id."""
        round_id = uuid.uuid4().hex[:12]
        with self._transaction(write=True) as db:
            db.execute(
                insert(rounds).values(
                    id=round_id,
                    owner=_checked(owner),
                    started_at=datetime.now(UTC).isoformat(timespec="microseconds"),
                    mode=mode,
                    topics=json.dumps(topics),
                    focus=focus,
                    question_ids=json.dumps(question_ids),
                )
            )
        return round_id

    def add_turn(self, turn: Turn, pending_follow_up: FollowUp | None = None, *, owner: str) -> bool:
        """Commit a turn (and the round's next follow-up) at once; False when that position is already saved.

        The round's row is updated first: that checks the owner, and on PostgreSQL it also makes concurrent writers
        of one round take turns, so the second finds the position taken rather than a half-finished transaction.
        """
        follow_up = json.dumps(pending_follow_up.to_dict()) if pending_follow_up else None
        try:
            with self._transaction(write=True) as db:
                owned = db.execute(_owned(update(rounds), turn.round_id, owner).values(pending_follow_up=follow_up))
                if owned.rowcount == 0:
                    raise _not_found(turn.round_id)
                db.execute(
                    insert(turns).values(
                        round_id=turn.round_id,
                        position=turn.position,
                        kind=turn.kind,
                        question_id=turn.question_id,
                        topic=turn.topic,
                        question=turn.question,
                        answer=turn.answer,
                        skipped=turn.skipped,
                        score=turn.score,
                        grader=turn.grade.grader if turn.grade else None,
                        grade=turn.grade.model_dump_json() if turn.grade else None,
                        created_at=turn.created_at,
                        recording=turn.recording,
                        delivery=json.dumps(turn.delivery.to_dict()) if turn.delivery else None,
                    )
                )
        except IntegrityError:
            return False
        return True

    def end_round(self, round_id: str, *, owner: str) -> None:
        """Mark a round finished (a finished round keeps its first end time)."""
        ended = func.coalesce(rounds.c.ended_at, _now())
        with self._transaction(write=True) as db:
            if (
                db.execute(
                    _owned(update(rounds), round_id, owner).values(ended_at=ended, pending_follow_up=None)
                ).rowcount
                == 0
            ):
                raise _not_found(round_id)

    def delete_round(self, round_id: str, *, owner: str) -> bool:
        """Delete a round and its turns; False when `owner` has no such round."""
        with self._transaction(write=True) as db:
            return db.execute(_owned(delete(rounds), round_id, owner)).rowcount > 0

    def get_round(self, round_id: str, *, owner: str) -> RoundRecord:
        """One round with all its turns; RoundNotFoundError when `owner` has none by that id."""
        with self._transaction() as db:
            row = db.execute(_owned(select(rounds), round_id, owner)).mappings().first()
            if row is None:
                raise _not_found(round_id)
            rows = db.execute(select(turns).where(turns.c.round_id == round_id).order_by(turns.c.position))
            return _round(row, [_turn(turn) for turn in rows.mappings()])

    def list_rounds(self, topic: str | None = None, *, owner: str) -> list[RoundRecord]:
        """Every round of `owner` with its turns, newest first; with a topic, only rounds that asked about it."""
        mine = rounds.c.owner == _checked(owner)
        theirs = select(turns).join(rounds, turns.c.round_id == rounds.c.id).where(mine)
        with self._transaction() as db:
            round_rows = db.execute(select(rounds).where(mine).order_by(rounds.c.started_at.desc())).mappings().all()
            turn_rows = db.execute(theirs.order_by(turns.c.round_id, turns.c.position)).mappings().all()
        by_round: dict[str, list[Turn]] = {}
        for row in turn_rows:
            by_round.setdefault(row["round_id"], []).append(_turn(row))
        records = [_round(row, by_round.get(row["id"], [])) for row in round_rows]
        if topic:
            wanted = topic.casefold()
            records = [r for r in records if any(t.topic.casefold() == wanted for t in r.turns)]
        return records

    def unfinished_rounds(self, limit: int, *, owner: str) -> list[OpenRound]:
        """The newest rounds of `owner` not ended yet; one query, so the start page stays fast however long the
        history."""
        answered = func.count(turns.c.position).label("turns")
        query = (
            select(rounds.c.id, rounds.c.started_at, answered)
            .select_from(rounds.outerjoin(turns, turns.c.round_id == rounds.c.id))
            .where(rounds.c.owner == _checked(owner), rounds.c.ended_at.is_(None))
            .group_by(rounds.c.id, rounds.c.started_at)
            .order_by(rounds.c.started_at.desc())
            .limit(limit)
        )
        with self._transaction() as db:
            return [OpenRound(row.id, row.started_at, row.turns) for row in db.execute(query)]

    def question_scores(self, *, owner: str) -> dict[str, list[float]]:
        """Every overall score `owner` was given, by bank question id: what their "retry weak" rounds draw on."""
        query = (
            select(turns.c.question_id, turns.c.score)
            .join(rounds, turns.c.round_id == rounds.c.id)
            .where(rounds.c.owner == _checked(owner), turns.c.question_id.is_not(None), turns.c.score.is_not(None))
        )
        with self._transaction() as db:
            rows = db.execute(query).all()
        scores: dict[str, list[float]] = {}
        for question_id, score in rows:
            scores.setdefault(question_id, []).append(score)
        return scores


Statement = TypeVar("Statement", Select[Any], Update, Delete)


def _owned(statement: Statement, round_id: str, owner: str) -> Statement:
    """The statement limited to one round of one owner: another owner's round is as absent as a deleted one."""
    return statement.where(rounds.c.id == round_id, rounds.c.owner == _checked(owner))


def _checked(owner: str) -> str:
    """An owner is a non-empty id; an empty one is a bug in the caller, never "everyone" or "no one"."""
    if not owner or not isinstance(owner, str):
        raise ValueError(f"A round's owner must be a non-empty string, not {owner!r}.")
    return owner


def _not_found(round_id: str) -> RoundNotFoundError:
    """The same answer for a round that is not there and for one that is someone else's."""
    return RoundNotFoundError(f"No round with id {round_id!r}; `transcripts list` shows the ids.")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _turn(row: RowMapping) -> Turn:
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
        recording=row["recording"],
        delivery=Delivery.from_dict(json.loads(row["delivery"])) if row["delivery"] else None,
    )


def _round(row: RowMapping, round_turns: list[Turn]) -> RoundRecord:
    return RoundRecord(
        id=row["id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        mode=row["mode"],
        topics=json.loads(row["topics"]),
        focus=row["focus"],
        question_ids=json.loads(row["question_ids"]),
        pending_follow_up=_follow_up(row["pending_follow_up"]),
        turns=round_turns,
    )


def _follow_up(stored: Any) -> FollowUp | None:
    """The pending follow-up as the rounds table keeps it (JSON), or None."""
    return FollowUp.from_dict(json.loads(stored)) if stored else None
