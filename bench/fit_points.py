"""Fit the key-point calibration (`interviewer/data/point_calibration.json`) on the in-domain development half.

Run: `flock /work/cpu.lock .venv/bin/python -m bench.fit_points` (a few minutes: the judge reads every answer once).

Every key point of every development answer is one example: its features as production computes them (the
embedding matcher's strength, the judge's best P(states) and P(contradicts)) and its hand label (made,
contradicted or missed, from the answer's `makes` and `contradicts`). The command

1. scores each example out of fold (folds by question, so no question is both fitted and scored) to choose the two
   thresholds: the made threshold is the lowest that credits at most MAX_FALSE_CREDIT of the points not made, the
   contradicted threshold the lowest that tells at most MAX_FALSE_ACCUSATION of the answers stating nothing false
   that they did;
2. chooses the score rule (`interviewer.point_calibration.ScoreRule`) whose scores, from those out-of-fold verdicts,
   come closest to the hand grades (root mean square error), over a small grid: the issue's targets are levels
   (a concise correct answer at least 3.5), which a rank correlation cannot see;
3. fits the regression on every example and writes the file, each number with where it came from.

The held-out half is never read. `--model` names another judge folder; `--dry-run` prints without writing.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import functools
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from bench.grading import bank_reference
from bench.indomain_data import DEV, GradedAnswer, load_dev
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.judge import JUDGE_PATH, Judge, PointJudgement
from interviewer.knowledge import Question, load_bank
from interviewer.offline_feedback import EXPLAINS_NOTHING
from interviewer.offline_grader import OfflineGrader, capped_score, grading_targets
from interviewer.point_calibration import CLASSES, POINT_CALIBRATION_PATH, PointCalibration, ScoreRule, ramp
from interviewer.point_grading import PointTally, credited_nothing, point_features, read_points
from interviewer.settings import load_settings

FOLDS = 5
MAX_FALSE_CREDIT = 0.05
"""The issue's target: key points not made, credited, at most 5%."""
MAX_FALSE_ACCUSATION = 0.0
"""A person told that a right claim is false learns the wrong lesson, so no answer of the development half that states
nothing false may be told that it did. Counted per answer, because that is how a person meets it. With the shipped
judge (run 3), allowing 2% of those answers to be accused detected no contradiction, and 5% detected 1%: the judge
reads too many correct sentences as false to call any claim false (see its model card)."""
NEVER = 1.0
"""The contradicted threshold that no probability reaches: written when the bound on false accusations leaves no
contradiction detected out of fold, so that a refit cannot start calling claims false by luck."""
CREDIT_MARGIN = 0.2
"""Half the width of the credit ramp around the made threshold (`interviewer.point_calibration.ramp`). Counting
verdicts alone (no ramp) made the score jump by a whole key point when one word changed: 9 of `bench.speech`'s 22
answers graded more than 0.5 apart spoken and typed. Out of fold on the development half, margins of 0.05, 0.1, 0.2,
0.3 and 0.4 ranked answers at Spearman 0.752, 0.751, 0.759, 0.752 and 0.746 (0.757 without); 0.2 ranks best and
left 4 of the 22 answers over 0.5 apart (3 with 0.4)."""
THRESHOLDS = np.round(np.arange(0.01, 0.96, 0.01), 2)
RULES = [
    ScoreRule(nothing_made, full_share, cost)
    for nothing_made, full_share, cost in itertools.product(
        (1.0, 1.5, 2.0), (1.0, 0.85, 0.75, 0.65), (1.0, 1.5, 2.0, 2.5, 3.0)
    )
]
"""The guide's own reading (1.5, all but one of six or seven, 2.0) and its neighbours."""
SAME_POINT = 0.8
"""A benchmark answer's key point names the bank's point when their texts are this similar (the bank has reworded a
few key points since the answers were graded)."""


@dataclass(frozen=True)
class Example:
    """One graded answer as the grader reads it: flags, and per key point the features and the hand label."""

    record: GradedAnswer
    flags: tuple[str, ...]
    features: np.ndarray
    labels: np.ndarray
    """Positions in CLASSES."""


def hand_label(point: str, record: GradedAnswer) -> int:
    """The key point's hand label, matching reworded key points by their text."""

    def said(points: Sequence[str]) -> bool:
        return any(difflib.SequenceMatcher(None, point, other).ratio() >= SAME_POINT for other in points)

    if said(record.contradicts):
        return CLASSES.index("contradicted")
    return CLASSES.index("made" if said(record.makes) else "missed")


def collect(grader: OfflineGrader, judge: Judge, bank: dict[str, Question]) -> list[Example]:
    """Every development answer to a technical question that leaves something to grade."""
    examples = []
    for record in load_dev():
        question = bank[record.question_id]
        reference = bank_reference(question)
        targets = grading_targets(reference)
        inspection = grader.inspect(question.question, record.answer, reference)
        if not targets.coverage_weighted or inspection.measures is None:
            continue
        evidence = read_points(judge, targets.key_points, inspection.text, inspection.measures.nearest_units)
        strengths = [point.strength for point in inspection.measures.points]
        features = np.array([point_features(e, s) for e, s in zip(evidence, strengths, strict=True)])
        labels = np.array([hand_label(point, record) for point in targets.key_points])
        examples.append(Example(record, inspection.flags, features, labels))
    return examples


def weights_digest(folder: Path) -> str:
    """The sha256 of a judge's weights: the calibration holds only for the weights it was fitted on."""
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def regression(features: np.ndarray, labels: np.ndarray) -> LogisticRegression:
    """The multinomial logistic regression over FEATURES."""
    return LogisticRegression(max_iter=2000).fit(features, labels)


def out_of_fold(examples: Sequence[Example]) -> list[np.ndarray]:
    """Per example, each key point's class probabilities from a regression fitted without its question."""
    groups = np.array([e.record.question_id for e in examples])
    result: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for fitted, scored in GroupKFold(FOLDS).split(np.zeros(len(examples)), groups=groups):
        model = regression(*stack([examples[i] for i in fitted]))
        for i in scored:
            result[i] = model.predict_proba(examples[i].features)
    return result


def stack(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    """All key points of the examples as one feature matrix and one label vector."""
    return np.vstack([e.features for e in examples]), np.concatenate([e.labels for e in examples])


def statuses(probabilities: np.ndarray, made_threshold: float, contradicted_threshold: float) -> np.ndarray:
    """Each key point's verdict (a position in CLASSES), decided as `PointCalibration.status` does."""
    made, contradicted = probabilities[:, 1], probabilities[:, 2]
    verdict = np.where(made >= made_threshold, 1, 0)
    return np.where((contradicted >= contradicted_threshold) & (contradicted > made), 2, verdict)


def lowest(rate_at: dict[float, float], bound: float) -> float:
    """The lowest threshold whose rate stays within the bound (1.0, which nothing reaches, if none does)."""
    return min((t for t, rate in rate_at.items() if rate <= bound), default=1.0)


def choose_thresholds(examples: Sequence[Example], probabilities: Sequence[np.ndarray]) -> tuple[float, float]:
    """The made threshold, the lowest within MAX_FALSE_CREDIT of the points not made, and then the contradicted
    threshold, the lowest within MAX_FALSE_ACCUSATION of the answers with nothing false, on out-of-fold
    probabilities."""
    labels, stacked = np.concatenate([e.labels for e in examples]), np.vstack(probabilities)
    false_credit = {float(t): float(np.mean(stacked[labels == 0, 1] >= t)) for t in THRESHOLDS}
    made_threshold = lowest(false_credit, MAX_FALSE_CREDIT)
    honest = [p for e, p in zip(examples, probabilities, strict=True) if not np.any(e.labels == 2)]
    false_accusation = {
        float(t): float(np.mean([np.any(statuses(p, made_threshold, t) == 2) for p in honest])) for t in THRESHOLDS
    }
    contradicted_threshold = lowest(false_accusation, MAX_FALSE_ACCUSATION)
    detected = [
        np.any(statuses(p, made_threshold, contradicted_threshold)[e.labels == 2] == 2)
        for e, p in zip(examples, probabilities, strict=True)
    ]
    return made_threshold, contradicted_threshold if any(detected) else NEVER


def tallies(
    examples: Sequence[Example],
    probabilities: Sequence[np.ndarray],
    verdicts: Sequence[np.ndarray],
    made_threshold: float,
) -> list[PointTally]:
    """Each answer's `PointTally` as the grade makes it (`interviewer.offline_grader.assess_judged`): the verdicts
    with their probabilities, nothing credited to an answer that explains nothing, and each point credited by the
    `ramp` of its P(made)."""
    credit = functools.partial(ramp, threshold=made_threshold, margin=CREDIT_MARGIN)
    result = []
    for example, rows, verdict in zip(examples, probabilities, verdicts, strict=True):
        judged = [
            PointJudgement("", CLASSES[int(status)], float(row[2] if status == 2 else row[1]), None)
            for row, status in zip(rows, verdict, strict=True)
        ]
        if EXPLAINS_NOTHING & set(example.flags):
            judged = credited_nothing(judged)
        result.append(PointTally.of(judged, credit))
    return result


def scores(examples: Sequence[Example], counted: Sequence[PointTally], rule: ScoreRule) -> list[float]:
    """Each answer's score as the grade computes it from its tally and flags."""
    return [capped_score(t.score(rule), e.flags) for e, t in zip(examples, counted, strict=True)]  # type: ignore[arg-type]


def rank_agreement(examples: Sequence[Example], counted: Sequence[PointTally], rule: ScoreRule) -> float:
    """Spearman between the rule's scores and the hand grades."""
    return float(spearmanr(scores(examples, counted, rule), [e.record.grade for e in examples]).statistic)


def rms_error(examples: Sequence[Example], counted: Sequence[PointTally], rule: ScoreRule) -> float:
    """Root mean square distance between the rule's scores and the hand grades."""
    errors = np.subtract(scores(examples, counted, rule), [e.record.grade for e in examples])
    return float(np.sqrt(np.mean(errors**2)))


def rates(examples: Sequence[Example], verdicts: Sequence[np.ndarray]) -> dict[str, float]:
    """The issue's key-point rates for one set of verdicts, and the share of answers with nothing false that were
    told of a false claim."""
    labels, verdict = np.concatenate([e.labels for e in examples]), np.concatenate(verdicts)
    honest = [v for e, v in zip(examples, verdicts, strict=True) if not np.any(e.labels == 2)]
    return {
        "made_credited": float(np.mean(verdict[labels == 1] == 1)),
        "not_made_credited": float(np.mean(verdict[labels == 0] == 1)),
        "contradicted_detected": float(np.mean(verdict[labels == 2] == 2)),
        "contradicted_credited": float(np.mean(verdict[labels == 2] == 1)),
        "made_read_as_contradicted": float(np.mean(verdict[labels == 1] == 2)),
        "honest_answers_told_of_a_false_claim": float(np.mean([np.any(v == 2) for v in honest])),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Fit, print the out-of-fold figures, and write the calibration."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=JUDGE_PATH, help="the judge's folder")
    parser.add_argument("--out", type=Path, default=POINT_CALIBRATION_PATH)
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args(argv)
    settings = load_settings()
    grader = OfflineGrader(SentenceTransformerEmbedder(settings.embedding_model))
    examples = collect(grader, Judge(args.model), load_bank(settings.knowledge_dir).by_id())
    labels = np.concatenate([e.labels for e in examples])
    oof = out_of_fold(examples)
    made_threshold, contradicted_threshold = choose_thresholds(examples, oof)
    verdicts = [statuses(p, made_threshold, contradicted_threshold) for p in oof]
    counted = tallies(examples, oof, verdicts, made_threshold)
    rule = min(RULES, key=lambda candidate: rms_error(examples, counted, candidate))
    figures = {name: round(value, 3) for name, value in rates(examples, verdicts).items()}
    figures["spearman"] = round(rank_agreement(examples, counted, rule), 3)
    figures["rmse"] = round(rms_error(examples, counted, rule), 3)
    counts = {name: int(np.sum(labels == at)) for at, name in enumerate(CLASSES)}
    print(f"{len(examples)} answers, {len(labels)} key points {counts}")
    print(f"thresholds: made {made_threshold}, contradicted {contradicted_threshold}; rule {rule}")
    print(f"out of fold ({FOLDS} folds by question): {figures}")
    final = regression(*stack(examples))
    calibration = PointCalibration(
        coefficients=tuple(tuple(round(float(v), 4) for v in row) for row in final.coef_),
        intercepts=tuple(round(float(v), 4) for v in final.intercept_),
        made_threshold=made_threshold,
        contradicted_threshold=contradicted_threshold,
        rule=rule,
        credit_margin=CREDIT_MARGIN,
        about={
            "command": "python -m bench.fit_points",
            "fitted": datetime.date.today().isoformat(),
            "data": f"bench/data/indomain/{DEV.name}: {len(examples)} answers to technical questions, "
            f"{len(labels)} key points labelled by hand {counts}; "
            "the held-out half is never read",
            "judge": str(args.model.name),
            "judge_sha256": weights_digest(args.model),
            "features": "per key point: the embedding matcher's strength, the judge's highest P(states) and "
            "P(contradicts) on the answer's sentence or clause nearest the key point",
            "regression": "multinomial logistic regression (scikit-learn, L2, C=1) on every key point",
            "made_threshold": f"lowest P(made) crediting at most {MAX_FALSE_CREDIT:.0%} of the points not made, "
            f"out of fold ({FOLDS} folds by question)",
            "contradicted_threshold": f"lowest P(contradicted) telling at most {MAX_FALSE_ACCUSATION:.0%} of the "
            "answers that state nothing false of a false claim, out of fold; 1.0 (no claim is ever called false) "
            "when that threshold detects no contradiction",
            "score_rule": "the grid of bench.fit_points.RULES around the grading guide's reading (1.5, 0.85, 2.0), the "
            "lowest root mean square error against the hand grades from out-of-fold verdicts",
            "out_of_fold": figures,
        },
    )
    if args.dry_run:
        print(calibration.to_dict())
        return
    calibration.save(args.out)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
