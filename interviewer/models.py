"""The domain's plain types, shared by every layer: what an answer is graded against, and what a round records.

They live here rather than in the module that happens to store or find them, so the engine, the graders, the
exporters and any store backend all speak the same types, and none of them has to import another's machinery
(a PostgreSQL store need not import the SQLite one to build a `Turn`). No I/O and no framework in this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from interviewer.grade import Grade
from interviewer.knowledge import Question
from interviewer.speech.delivery import Delivery

TurnKind = Literal["question", "follow_up"]

LOCAL_OWNER = "local"
"""The owner of every round in local mode: the one person at this machine (and of rounds saved before owners)."""


@dataclass(frozen=True)
class Reference:
    """What an answer is graded against: a bank question, or passages when the question is not in the bank."""

    text: str
    key_points: tuple[str, ...]
    sources: tuple[str, ...]
    score: float
    question: Question | None = None

    @property
    def question_id(self) -> str | None:
        """The matched bank question's id, if any."""
        return self.question.id if self.question else None


@dataclass(frozen=True)
class FollowUp:
    """The follow-up a round owes the candidate: asked next, graded on the key points it is about."""

    question: str
    topic: str
    question_id: str | None
    missed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape a store keeps."""
        return {**asdict(self), "missed": list(self.missed)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FollowUp:
        """Inverse of `to_dict`."""
        return cls(data["question"], data["topic"], data.get("question_id"), tuple(data.get("missed") or ()))


@dataclass(frozen=True)
class Turn:
    """One question put to the candidate and what came of it."""

    round_id: str
    position: int
    kind: TurnKind
    question_id: str | None
    topic: str
    question: str
    answer: str | None
    skipped: bool
    grade: Grade | None
    created_at: str
    recording: str | None = None
    """A spoken answer's recording, as a name under the recordings folder (None: typed, or not kept)."""
    delivery: Delivery | None = None
    """How a spoken answer was delivered; never part of the grade."""

    @property
    def score(self) -> float | None:
        """The overall score, when graded."""
        return self.grade.score if self.grade else None


@dataclass(frozen=True)
class SpokenAnswer:
    """What came with an answer given aloud: the recording as sent and its delivery figures."""

    audio: bytes
    suffix: str
    """The recording's file type, e.g. '.wav'."""
    delivery: Delivery


@dataclass(frozen=True)
class RoundRecord:
    """A round as stored, with its turns."""

    id: str
    started_at: str
    ended_at: str | None
    mode: str
    topics: list[str]
    focus: str | None
    question_ids: list[str]
    pending_follow_up: FollowUp | None
    turns: list[Turn] = field(default_factory=list)

    @property
    def graded_turns(self) -> list[Turn]:
        """Turns that carry a grade."""
        return [turn for turn in self.turns if turn.grade is not None]

    @property
    def average_score(self) -> float | None:
        """Mean overall score of the graded turns."""
        scores = [turn.grade.score for turn in self.graded_turns if turn.grade]
        return sum(scores) / len(scores) if scores else None


@dataclass(frozen=True)
class OpenRound:
    """A round not ended yet, as the start page lists it for resuming: no turns read, only counted."""

    id: str
    started_at: str
    turns: int
