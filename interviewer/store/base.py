"""What a transcript store offers, whatever database is behind it.

The engine, the pages and the commands depend on this protocol, never on a database, so SQLite and PostgreSQL
(and a fake, should a test ever need one) are interchangeable. Every call is one committed transaction: a turn
written is a turn kept, whatever happens to the process next.
"""

from __future__ import annotations

from typing import Protocol

from interviewer.models import FollowUp, OpenRound, RoundRecord, Turn


class Store(Protocol):
    """The record of every round; raises StoreError (RoundNotFoundError for an unknown round) with a next step.

    Every call names the `owner` it acts for, and sees only that owner's rounds: a round of another owner is "not
    found", exactly like a round that does not exist, so an id learned elsewhere gives nothing away.
    """

    def create_round(
        self, mode: str, topics: list[str], focus: str | None, question_ids: list[str], *, owner: str
    ) -> str:
        """A new round of `owner`; returns its id."""
        ...

    def add_turn(self, turn: Turn, pending_follow_up: FollowUp | None = None, *, owner: str) -> bool:
        """Commit a turn and the round's next follow-up at once; False when that position is already saved."""
        ...

    def end_round(self, round_id: str, *, owner: str) -> None:
        """Mark a round finished (a finished round stays finished)."""
        ...

    def delete_round(self, round_id: str, *, owner: str) -> bool:
        """Delete a round and its turns; False when `owner` has no such round."""
        ...

    def get_round(self, round_id: str, *, owner: str) -> RoundRecord:
        """One round with all its turns."""
        ...

    def list_rounds(self, topic: str | None = None, *, owner: str) -> list[RoundRecord]:
        """Every round of `owner` with its turns, newest first; with a topic, only rounds that asked about it."""
        ...

    def unfinished_rounds(self, limit: int, *, owner: str) -> list[OpenRound]:
        """The newest rounds of `owner` not ended yet, with how many turns each has."""
        ...

    def question_scores(self, *, owner: str) -> dict[str, list[float]]:
        """Every overall score `owner` was given, by bank question id: what "retry weak" rounds draw on."""
        ...
