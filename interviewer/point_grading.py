"""An answer's key points judged one by one, and the score that follows from them.

The key-point judge (`interviewer.judge`) reads the answer's sentence or clause nearest each key point beside it;
the embedding matcher measured how closely the answer says it. The key-point calibration
(`interviewer.point_calibration`) weighs the two into a verdict per key point: made (with the sentence that makes
it), contradicted (with the false claim, when the calibration calls claims false) or missed. The score follows the
in-domain grading guide (`bench/data/indomain/README.md`): each key point credited by how sure the calibration is
that it was made, the share credited setting the grade, and each false claim costing part of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from interviewer.grade import KeyPointVerdict
from interviewer.judge import Judge, PointEvidence, PointJudgement
from interviewer.point_calibration import PointCalibration, ScoreRule
from interviewer.wording import clauses, sentences


def passages(answer: str) -> dict[str, str]:
    """What the judge reads of an answer, each with the sentence it quotes as evidence: every sentence (long ones
    cut at 40 words), and every clause of one, which quotes its whole sentence."""
    units = sentences(answer, drop_code=True)
    read = {unit: unit for unit in units}
    for unit in units:
        for clause in clauses(unit):
            read.setdefault(clause, unit)
    return read


def read_points(
    judge: Judge, key_points: Sequence[str], answer: str, nearest: Sequence[Sequence[str]]
) -> list[PointEvidence]:
    """Each key point against its nearest sentences and clauses of the answer (`Measures.nearest_units`), in one
    batch; a clause is quoted as its whole sentence."""
    quote = passages(answer)

    def whole(unit: str | None) -> str | None:
        return quote.get(unit, unit) if unit else None

    return [
        PointEvidence(e.key_point, e.states, whole(e.stating_passage), e.contradicts, whole(e.contradicting_passage))
        for e in judge.read(key_points, nearest)
    ]


def point_features(evidence: PointEvidence, strength: float) -> tuple[float, float, float]:
    """The calibration's features of one key point (`interviewer.point_calibration.FEATURES`)."""
    return (strength, evidence.states, evidence.contradicts)


def decide(
    calibration: PointCalibration, evidence: Sequence[PointEvidence], strengths: Sequence[float]
) -> list[PointJudgement]:
    """Each key point's verdict from the judge's evidence and the embedding matcher's strength."""
    verdicts = []
    for point, strength in zip(evidence, strengths, strict=True):
        status, probability = calibration.status(point_features(point, strength))
        quoted = {"made": point.stating_passage, "contradicted": point.contradicting_passage}.get(status)
        verdicts.append(PointJudgement(point.key_point, status, probability, quoted))
    return verdicts


def credited_nothing(verdicts: Sequence[PointJudgement]) -> list[PointJudgement]:
    """Every key point missed, without evidence or credit: what an answer that explains nothing (a restated
    question, a keyword list, off topic) earns, whatever the judge read in it."""
    return [PointJudgement(verdict.key_point, "missed", 0.0, None) for verdict in verdicts]


@dataclass(frozen=True)
class PointTally:
    """How many key points were made and contradicted, of how many, and the credit the score counts."""

    made: int
    contradicted: int
    total: int
    credit: float
    """The key points not contradicted, each counted by `PointCalibration.credit` of its P(made): what the score
    follows, so that a point read just either side of the made threshold moves it a little, not by a whole point."""

    @classmethod
    def of(cls, verdicts: Sequence[PointJudgement], credit: Callable[[float], float]) -> PointTally:
        """Count the verdicts, and credit each point not contradicted by `credit` of its P(made)."""
        return cls(
            made=sum(verdict.status == "made" for verdict in verdicts),
            contradicted=sum(verdict.status == "contradicted" for verdict in verdicts),
            total=len(verdicts),
            credit=sum(credit(verdict.strength) for verdict in verdicts if verdict.status != "contradicted"),
        )

    def score(self, rule: ScoreRule) -> float:
        """The score the rule gives this tally."""
        return rule.score(self.credit, self.contradicted, self.total)

    @property
    def completeness(self) -> float:
        """The share of the key points credited, on 0-5."""
        return round(5.0 * self.credit / max(1, self.total), 1)

    def claims_correctness(self, score: float) -> float:
        """Correctness from the claims judged: the false claims against the points made (an answer that makes no
        claim is as correct as its score, at most 1.5)."""
        claims = self.made + self.contradicted
        return 5.0 * self.made / claims if claims else min(score, 1.5)


def verdicts_for_grade(verdicts: Sequence[PointJudgement]) -> list[KeyPointVerdict]:
    """The judge's verdicts as the grade records them."""
    return [KeyPointVerdict(key_point=v.key_point, status=v.status, evidence=v.evidence) for v in verdicts]
