"""How one key point's evidence becomes made, contradicted or missed, and how the verdicts become a score.

Two signals see different things. The embedding matcher (`interviewer.offline_features`) sees a point said in other
words but not its negation; the key-point judge (`interviewer.judge`) reads the passage and the point together and
sees negation, yet misses some paraphrases. A small multinomial logistic regression over both, fitted on what
production grades (every key point of every answer of the in-domain benchmark's development half, labelled by hand),
gives each key point a probability of being made, contradicted or missed. The thresholds that turn those
probabilities into a verdict, and the constants that turn verdicts into a score, were chosen on the same half.

All of it is one JSON file, `interviewer/data/point_calibration.json`, written by `python -m bench.fit_points`,
with each number's origin in its `about`; the grader only reads it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from interviewer.errors import GraderError
from interviewer.grade import KeyPointStatus

POINT_CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "point_calibration.json"
FEATURES = ("strength", "states", "contradicts")
"""Per key point: the embedding matcher's strength, and the judge's highest P(states) and P(contradicts) over the
answer's passages."""
CLASSES: tuple[KeyPointStatus, ...] = ("missed", "made", "contradicted")


@dataclass(frozen=True)
class ScoreRule:
    """From verdicts to a 0-5 score, following the in-domain grading guide (`bench/data/indomain/README.md`)."""

    nothing_made: float = 1.5
    """The score of an on-topic answer that makes no key point and contradicts none."""
    full_share: float = 0.85
    """The share of the key points that earns full marks: the guide's "all, or all but one" of a question's five to
    seven, as a share so that it holds for a question with two (one of two made is not full marks)."""
    contradiction_cost: float = 2.0
    """What each contradicted key point takes off."""

    def score(self, credit: float, contradicted: int, total: int) -> float:
        """nothing_made to 5 by the share of the key points credited (`full_share` is full), less the cost of each
        false claim."""
        share = min(1.0, credit / max(1, total) / self.full_share)
        return max(0.0, self.nothing_made + (5.0 - self.nothing_made) * share - self.contradiction_cost * contradicted)


def ramp(p_made: float, threshold: float, margin: float) -> float:
    """How much of a key point the score counts: none well below the made threshold, all well above it, and in
    between a straight line `margin` wide on each side, so that a point read just either side of the threshold (a
    word heard differently: "saved model" for "SavedModel") moves the score a little rather than by a whole point."""
    if margin <= 0:
        return float(p_made >= threshold)
    return min(1.0, max(0.0, 0.5 + (p_made - threshold) / (2 * margin)))


@dataclass(frozen=True)
class PointCalibration:
    """Softmax of a linear map of FEATURES to CLASSES, the two thresholds that decide, and the score rule."""

    coefficients: tuple[tuple[float, ...], ...]
    """One row per class, one column per feature."""
    intercepts: tuple[float, ...]
    made_threshold: float
    contradicted_threshold: float
    rule: ScoreRule = ScoreRule()
    credit_margin: float = 0.0
    """Half the width of the `ramp` around the made threshold over which a key point earns part of its credit."""
    about: dict[str, Any] = field(default_factory=dict)

    @property
    def calls_false_claims(self) -> bool:
        """Whether this calibration ever reads a key point as contradicted: `bench.fit_points` writes a threshold of
        1.0, which no probability reaches, when no threshold detected a contradiction out of fold without accusing
        an honest answer."""
        return self.contradicted_threshold < 1.0

    def credit(self, p_made: float) -> float:
        """The share of a key point the score counts, from its P(made)."""
        return ramp(p_made, self.made_threshold, self.credit_margin)

    def probabilities(self, features: Sequence[float]) -> dict[KeyPointStatus, float]:
        """P(missed), P(made), P(contradicted) for one key point's features (in FEATURES order)."""
        logits = np.asarray(self.coefficients) @ np.asarray(features, float) + np.asarray(self.intercepts)
        exp = np.exp(logits - logits.max())
        return dict(zip(CLASSES, (exp / exp.sum()).tolist(), strict=True))

    def status(self, features: Sequence[float]) -> tuple[KeyPointStatus, float]:
        """The verdict and its probability: a confident contradiction first, then a made point, else missed."""
        p = self.probabilities(features)
        if p["contradicted"] >= self.contradicted_threshold and p["contradicted"] > p["made"]:
            return "contradicted", p["contradicted"]
        if p["made"] >= self.made_threshold:
            return "made", p["made"]
        return "missed", p["made"]

    def worth_reading(self, strength: float) -> bool:
        """Whether any reading of the judge (P(states) and P(contradicts), each in [0, 1]) could make this key point
        anything but missed without credit, given the embedding matcher's strength. Most key points of an answer are
        far from it; skipping the judge for them saves its cost (about 9 ms a pair) without changing the grade.

        An upper bound of each class's probability: P(k) = 1 / (1 + sum_j exp(l_j - l_k)), and every l_j - l_k is
        linear in the judge's two probabilities, so its lowest value on [0, 1]^2 is at a corner.
        """
        weights, intercepts = np.asarray(self.coefficients), np.asarray(self.intercepts)
        logits_at_zero = weights[:, 0] * strength + intercepts

        def highest(k: int) -> float:
            gaps = logits_at_zero - logits_at_zero[k]
            slopes = weights[:, 1:] - weights[k, 1:]
            lowest = gaps + np.minimum(slopes, 0.0).sum(axis=1)
            return float(1.0 / (1.0 + np.exp(np.delete(lowest, k)).sum()))

        made, contradicted = CLASSES.index("made"), CLASSES.index("contradicted")
        earns = self.made_threshold - self.credit_margin  # the ramp credits anything above this
        return highest(made) > earns or highest(contradicted) >= self.contradicted_threshold

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the file."""
        return {
            "features": list(FEATURES),
            "classes": list(CLASSES),
            "coefficients": [list(row) for row in self.coefficients],
            "intercepts": list(self.intercepts),
            "made_threshold": self.made_threshold,
            "contradicted_threshold": self.contradicted_threshold,
            "score_rule": vars(self.rule),
            "credit_margin": self.credit_margin,
            "about": self.about,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PointCalibration:
        """Read the JSON shape, refusing one fitted on other features or classes."""
        if tuple(data["features"]) != FEATURES or tuple(data["classes"]) != CLASSES:
            raise GraderError(f"The key-point calibration was fitted on {data['features']}, not {list(FEATURES)}.")
        return cls(
            coefficients=tuple(tuple(float(v) for v in row) for row in data["coefficients"]),
            intercepts=tuple(float(v) for v in data["intercepts"]),
            made_threshold=float(data["made_threshold"]),
            contradicted_threshold=float(data["contradicted_threshold"]),
            rule=ScoreRule(**data["score_rule"]),
            credit_margin=float(data.get("credit_margin", 0.0)),
            about=dict(data.get("about", {})),
        )

    def save(self, path: Path = POINT_CALIBRATION_PATH) -> None:
        """Write the file, numbers rounded so it reads and diffs well."""
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


@functools.cache
def load_point_calibration(path: Path = POINT_CALIBRATION_PATH) -> PointCalibration:
    """The shipped calibration, read once per process."""
    try:
        return PointCalibration.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GraderError(
            f"Cannot read the key-point calibration {path} ({error}). Restore it from the repository or refit it: "
            "python -m bench.fit_points."
        ) from error
