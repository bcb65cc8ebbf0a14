"""Agreement between predicted and human scores: the figures every grading benchmark in this project reports.

Pearson and RMSE are what the short-answer grading literature publishes (so our numbers can be compared with
it), Spearman shows whether the order is right even when the scale is not, and quadratic-weighted kappa on
whole points is how graders' agreement on a 0-5 scale is usually judged. Kept free of any model so the
benchmark, the `eval` command and the tests share one definition.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

SCALE = 5


def _pair(predicted: Sequence[float], human: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Both sequences as float arrays of the same, non-zero length."""
    p, h = np.asarray(predicted, dtype=float), np.asarray(human, dtype=float)
    if p.shape != h.shape or p.ndim != 1 or p.size == 0:
        raise ValueError(f"Need two equally long, non-empty score lists; got {p.shape} and {h.shape}.")
    return p, h


def pearson(predicted: Sequence[float], human: Sequence[float]) -> float:
    """Linear correlation; NaN when either side is constant."""
    p, h = _pair(predicted, human)
    p, h = p - p.mean(), h - h.mean()
    denominator = float(np.sqrt((p @ p) * (h @ h)))
    return float(p @ h) / denominator if denominator else float("nan")


def spearman(predicted: Sequence[float], human: Sequence[float]) -> float:
    """Rank correlation (ties get their average rank)."""
    p, h = _pair(predicted, human)
    return pearson(rankdata(p), rankdata(h))


def rmse(predicted: Sequence[float], human: Sequence[float]) -> float:
    """Root mean squared error, in score points."""
    p, h = _pair(predicted, human)
    return float(np.sqrt(np.mean((p - h) ** 2)))


def to_points(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """Whole points 0..SCALE, halves rounded up (so a human 4.5 is a 5)."""
    return np.clip(np.floor(np.asarray(scores, dtype=float) + 0.5), 0, SCALE).astype(int)


def qwk(predicted: Sequence[float], human: Sequence[float]) -> float:
    """Quadratic-weighted kappa on scores rounded to whole points 0..SCALE."""
    p, h = _pair(predicted, human)
    a, b = to_points(p), to_points(h)
    size = SCALE + 1
    observed = np.zeros((size, size))
    np.add.at(observed, (a, b), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(a)
    grid = np.arange(size)
    weights = (grid[:, None] - grid[None, :]) ** 2 / (size - 1) ** 2
    denominator = float((weights * expected).sum())
    return 1.0 - float((weights * observed).sum()) / denominator if denominator else float("nan")


def evaluate(predicted: Sequence[float], human: Sequence[float]) -> dict[str, float]:
    """All figures at once: pearson, spearman, rmse, qwk and n."""
    p, h = _pair(predicted, human)
    return {"pearson": pearson(p, h), "spearman": spearman(p, h), "rmse": rmse(p, h), "qwk": qwk(p, h), "n": len(p)}
