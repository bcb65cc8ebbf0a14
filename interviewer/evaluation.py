"""Grade a file of human-scored answers and report how well a grader agrees: what the `eval` command runs.

A dataset is a CSV with columns `question`, `answer` (or `student_answer`), `score` (or `score_avg`) and,
optionally, `reference_answer`. Rows with a reference answer are graded against it; otherwise the caller
supplies the reference (typically by looking the question up in the knowledge base). Any grader fits: a
function with the shape of `OfflineGrader.grade`, returning the grade or only its score.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from interviewer.embeddings import Progress
from interviewer.errors import DatasetError
from interviewer.grade import Grade
from interviewer.metrics import evaluate
from interviewer.models import Reference

GradeFunction = Callable[[str, str, Reference], Grade | float]
"""Grades one answer: returns the `Grade`, or just its score."""
ReferenceFinder = Callable[[str], Reference]

_ANSWER_COLUMNS = ("answer", "student_answer")
_SCORE_COLUMNS = ("score", "score_avg")


@dataclass(frozen=True)
class LabelledAnswer:
    """One row: a question, an answer, the human score and, when given, the reference answer."""

    question: str
    answer: str
    score: float
    reference_answer: str | None
    source: str


def _column(header: list[str], names: tuple[str, ...], path: Path) -> str:
    """The first of `names` present in the header, or an error naming what is needed."""
    for name in names:
        if name in header:
            return name
    raise DatasetError(f"{path.name}: no {' or '.join(repr(n) for n in names)} column; the header is {header}.")


def read_dataset(path: Path) -> list[LabelledAnswer]:
    """Read and check every row; errors name the file and line."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            question = _column(header, ("question",), path)
            answer = _column(header, _ANSWER_COLUMNS, path)
            score = _column(header, _SCORE_COLUMNS, path)
            rows = []
            for row in reader:
                line = f"{path.name}:{reader.line_num}"
                try:
                    value = float(row[score])
                except (TypeError, ValueError) as error:
                    raise DatasetError(f"{line}: score {row[score]!r} is not a number.") from error
                reference = (row.get("reference_answer") or "").strip() or None
                rows.append(LabelledAnswer(row[question], row[answer] or "", value, reference, line))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"Cannot read {path}: {error}. Give a UTF-8 CSV file.") from error
    if not rows:
        raise DatasetError(f"{path.name} has no rows to evaluate.")
    return rows


def evaluate_dataset(
    path: Path,
    grade: GradeFunction,
    find_reference: ReferenceFinder | None = None,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Grade every row and return pearson, spearman, rmse, qwk and n against the human scores."""
    rows = read_dataset(path)
    predicted: list[float] = []
    for done, row in enumerate(rows, start=1):
        if row.reference_answer is not None:
            reference = Reference(row.reference_answer, (), (row.source,), 1.0)
        elif find_reference is not None:
            reference = find_reference(row.question)
        else:
            raise DatasetError(f"{row.source}: no reference_answer, and no way to find a reference was given.")
        graded = grade(row.question, row.answer, reference)
        predicted.append(graded.score if isinstance(graded, Grade) else float(graded))
        if progress:
            progress(done, len(rows))
    return evaluate(predicted, [row.score for row in rows])
