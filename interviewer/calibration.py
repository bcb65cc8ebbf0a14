"""Turn the offline grader's features into a 0-5 score that agrees with human graders, stored as plain JSON.

The mapping is deliberately small so a person can read it: a weighted sum of a few features, with weights
that cannot be negative (more coverage never lowers a score), then one monotone curve (isotonic regression)
from that sum to the 0-5 scale, fitted on human grades. It is fitted by `python -m bench.grading --fit` and
shipped as `interviewer/data/offline_calibration.json`; the grader only reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls

from interviewer.errors import GraderError

CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "offline_calibration.json"
FEATURES = ("soft_recall", "soft_precision", "coverage")
"""Chosen by cross-validation on mohler.csv: adding cosine or lexical overlap gained under 0.005 Pearson."""
_NUMBER_LIST = re.compile(r"\[([-\d.eE,\s]+)\]")
"""A JSON list of numbers, which `save` writes on one line so the file stays readable."""


@dataclass(frozen=True)
class Calibration:
    """Weighted feature sum, then a monotone curve to 0-5."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    curve_x: tuple[float, ...]
    curve_y: tuple[float, ...]
    about: dict[str, Any] = field(default_factory=dict)

    def linear(self, features: Mapping[str, float]) -> float:
        """The weighted sum that the curve maps to a score."""
        return self.bias + sum(w * features[name] for name, w in zip(self.features, self.weights, strict=True))

    def score(self, features: Mapping[str, float]) -> float:
        """The calibrated 0-5 score; beyond the fitted range the curve stays flat."""
        return float(np.clip(np.interp(self.linear(features), self.curve_x, self.curve_y), 0.0, 5.0))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the calibration file."""
        return {
            "features": list(self.features),
            "weights": list(self.weights),
            "bias": self.bias,
            "curve": {"x": list(self.curve_x), "y": list(self.curve_y)},
            "about": self.about,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """Inverse of `to_dict`."""
        return cls(
            features=tuple(data["features"]),
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            curve_x=tuple(float(x) for x in data["curve"]["x"]),
            curve_y=tuple(float(y) for y in data["curve"]["y"]),
            about=dict(data.get("about", {})),
        )

    def save(self, path: Path = CALIBRATION_PATH) -> None:
        """Write the calibration as indented JSON."""
        text = json.dumps(self.to_dict(), indent=2)
        text = _NUMBER_LIST.sub(lambda match: "[" + " ".join(match.group(1).split()) + "]", text)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")


def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """Read a calibration file; say how to rebuild it when it is missing or broken."""
    try:
        calibration = Calibration.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise GraderError(
            f"The offline grader's calibration {path} is missing or invalid ({error}); "
            "rebuild it with `python -m bench.grading --fit`."
        ) from error
    if len(calibration.weights) != len(calibration.features) or len(calibration.curve_x) != len(calibration.curve_y):
        raise GraderError(f"{path} is inconsistent; rebuild it with `python -m bench.grading --fit`.")
    return calibration


def isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators fit of a non-decreasing curve; returns its knots (x, y) for `np.interp`."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    unique, start = np.unique(xs, return_index=True)
    sums = np.add.reduceat(ys, start)
    counts = np.diff(np.append(start, len(xs)))
    blocks: list[list[float]] = []  # [value sum, weight, first x, last x]
    for value, weight, point in zip(sums, counts, unique, strict=True):
        blocks.append([float(value), float(weight), float(point), float(point)])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            last = blocks.pop()
            blocks[-1][0] += last[0]
            blocks[-1][1] += last[1]
            blocks[-1][3] = last[3]
    knots_x: list[float] = []
    knots_y: list[float] = []
    for value, weight, first, last in blocks:
        knots_x += [first, last] if last > first else [first]
        knots_y += [value / weight] * (2 if last > first else 1)
    return np.array(knots_x), np.array(knots_y)


def fit_calibration(
    rows: Sequence[Mapping[str, float]], targets: Sequence[float], features: Sequence[str] = FEATURES
) -> Calibration:
    """Non-negative least squares on the features, then an isotonic curve from the sum to the targets."""
    x = np.array([[row[name] for name in features] for row in rows], dtype=float)
    y = np.asarray(targets, dtype=float)
    means = x.mean(axis=0)
    raw, _ = nnls(x - means, y - y.mean())
    weights = np.round(raw, 6)
    bias = round(float(y.mean() - means @ weights), 6)
    curve_x, curve_y = isotonic(x @ weights + bias, y)
    return Calibration(
        features=tuple(features),
        weights=tuple(float(w) for w in weights),
        bias=bias,
        curve_x=tuple(round(float(v), 6) for v in curve_x),
        curve_y=tuple(round(float(v), 4) for v in curve_y),
    )
