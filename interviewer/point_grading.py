"""An answer's key points judged one by one, and the score that follows from them.

The key-point judge (`interviewer.judge`) reads each sentence and clause of the answer beside each key point and
says whether it states the point, contradicts it, or neither. Here those verdicts become the offline grade's
substance: each key point made (with the sentence that makes it), contradicted (with the false claim) or missed,
and a score that follows the in-domain grading guide (`bench/data/indomain/README.md`): the share of key points
made sets the grade, every confident false claim costs a large part of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from interviewer.grade import CriterionScores, KeyPointVerdict
from interviewer.judge import Judge, PointJudgement
from interviewer.wording import clauses, sentences

NOTHING_MADE = 1.5
"""The score of an on-topic answer that makes no key point and contradicts none (the guide's 1.5: "true on-topic
statements that make no key point")."""
ALL_BUT = 1
"""Key points that may be missing from a full-marks answer: the guide gives 5.0 to "all, or all but one"."""
CONTRADICTION_COST = 2.0
"""What each contradicted key point takes off the score. The guide grades an answer built on confident false
claims 0.5 to 1.0, whatever else it makes: one false claim beside a few points made lands near there, and a
strong answer with one false claim keeps a passing grade (5.0 - 2.0)."""


def passages(answer: str) -> dict[str, str]:
    """What the judge reads of an answer, each with the sentence it quotes as evidence: every sentence (long ones
    cut at 40 words), and every clause of one, which quotes its whole sentence."""
    units = sentences(answer, drop_code=True)
    read = {unit: unit for unit in units}
    for unit in units:
        for clause in clauses(unit):
            read.setdefault(clause, unit)
    return read


def judge_points(judge: Judge, key_points: Sequence[str], answer: str) -> list[PointJudgement]:
    """Every key point against every passage of the answer, in one batch; evidence is the passage's sentence."""
    read = passages(answer)
    return [
        replace(verdict, evidence=read[verdict.evidence]) if verdict.evidence else verdict
        for verdict in judge.judge(key_points, list(read))
    ]


@dataclass(frozen=True)
class PointTally:
    """How many key points were made and contradicted, of how many."""

    made: int
    contradicted: int
    total: int

    @classmethod
    def of(cls, verdicts: Sequence[PointJudgement]) -> PointTally:
        """Count the verdicts."""
        return cls(
            made=sum(verdict.status == "made" for verdict in verdicts),
            contradicted=sum(verdict.status == "contradicted" for verdict in verdicts),
            total=len(verdicts),
        )

    @property
    def score(self) -> float:
        """The grade the points earn: NOTHING_MADE to 5 by the share made (all but ALL_BUT is full), less
        CONTRADICTION_COST for each contradicted point, never below 0."""
        share = min(1.0, self.made / max(1, self.total - ALL_BUT))
        return max(0.0, NOTHING_MADE + (5.0 - NOTHING_MADE) * share - CONTRADICTION_COST * self.contradicted)

    def criteria(self, depth: float, communication: float) -> CriterionScores:
        """Correctness from the claims judged (a false claim against the points made), completeness from the share
        made; depth and communication come from the caller's measures."""
        claims = self.made + self.contradicted
        correctness = 5.0 * self.made / claims if claims else min(self.score, NOTHING_MADE)
        return CriterionScores(
            correctness=round(correctness, 1),
            completeness=round(5.0 * self.made / max(1, self.total), 1),
            depth=round(depth, 1),
            communication=round(communication, 1),
        )


def verdicts_for_grade(verdicts: Sequence[PointJudgement]) -> list[KeyPointVerdict]:
    """The judge's verdicts as the grade records them."""
    return [KeyPointVerdict(key_point=v.key_point, status=v.status, evidence=v.evidence) for v in verdicts]
