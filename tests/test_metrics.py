"""Agreement figures on hand-checked values, and grading a whole dataset file."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from interviewer.errors import DatasetError
from interviewer.evaluation import evaluate_dataset, read_dataset
from interviewer.metrics import evaluate, pearson, qwk, rmse, spearman, to_points
from interviewer.models import Reference


def test_pearson_of_exact_lines_is_plus_or_minus_one() -> None:
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)


def test_pearson_of_a_constant_is_undefined() -> None:
    assert math.isnan(pearson([3, 3, 3], [1, 2, 3]))


def test_spearman_sees_order_and_averages_ties() -> None:
    assert spearman([1, 2, 3, 4], [1, 4, 9, 16]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [1, 4, 9, 16]) < 1.0
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833, abs=1e-6)


def test_rmse_is_in_score_points() -> None:
    assert rmse([0, 0], [3, 4]) == pytest.approx(math.sqrt(12.5))
    assert rmse([2.5], [2.5]) == 0


def test_points_round_halves_up_and_stay_on_the_scale() -> None:
    assert list(to_points([4.5, 4.49, -1, 7, 0.5])) == [5, 4, 0, 5, 1]


def test_qwk_matches_the_textbook_value() -> None:
    # Checked against sklearn.metrics.cohen_kappa_score(weights="quadratic", labels=range(6)).
    assert qwk([0, 1, 2, 3, 4, 5, 5, 4], [0, 2, 2, 3, 5, 5, 4, 1]) == pytest.approx(0.75)
    assert qwk([0, 1, 2, 5], [0, 1, 2, 5]) == pytest.approx(1.0)
    assert qwk([0.4, 1.6, 4.5], [0, 2, 5]) == pytest.approx(1.0)


def test_evaluate_reports_every_figure() -> None:
    figures = evaluate([1, 2, 3, 4], [1, 2, 3, 5])
    assert set(figures) == {"pearson", "spearman", "rmse", "qwk", "n"}
    assert figures["n"] == 4 and figures["rmse"] == pytest.approx(0.5)


@pytest.mark.parametrize(("predicted", "human"), [([], []), ([1, 2], [1])])
def test_mismatched_or_empty_scores_are_refused(predicted: list[float], human: list[float]) -> None:
    with pytest.raises(ValueError, match="equally long"):
        evaluate(predicted, human)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """A small dataset file."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_dataset_with_references_is_graded_row_by_row(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "set.csv",
        ["question", "student_answer", "score_avg", "reference_answer"],
        [["Q1", "a", 1, "ref one"], ["Q2", "bb", 2, "ref two"], ["Q3", "ccc", 3, "ref three"]],
    )
    seen: list[Reference] = []

    def grade(question: str, answer: str, reference: Reference) -> float:
        seen.append(reference)
        return float(len(answer))

    figures = evaluate_dataset(path, grade)
    assert figures["n"] == 3 and figures["pearson"] == pytest.approx(1.0) and figures["rmse"] == 0
    assert [r.text for r in seen] == ["ref one", "ref two", "ref three"]
    assert seen[0].sources == ("set.csv:2",)


def test_without_reference_answers_the_caller_finds_the_reference(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bank.csv", ["question", "answer", "score"], [["Q1", "x", 4], ["Q2", "y", 2]])
    asked: list[str] = []

    def find(question: str) -> Reference:
        asked.append(question)
        return Reference("found", (), ("bank",), 1.0)

    figures = evaluate_dataset(path, lambda _question, answer, _reference: 4.0 if answer == "x" else 2.0, find)
    assert asked == ["Q1", "Q2"] and figures["rmse"] == 0


def test_dataset_problems_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no 'answer' or 'student_answer' column"):
        read_dataset(write_csv(tmp_path / "a.csv", ["question", "score"], [["Q", 1]]))
    with pytest.raises(DatasetError, match=r"b\.csv:2: score 'high' is not a number"):
        read_dataset(write_csv(tmp_path / "b.csv", ["question", "answer", "score"], [["Q", "A", "high"]]))
    with pytest.raises(DatasetError, match="no way to find a reference"):
        evaluate_dataset(
            write_csv(tmp_path / "c.csv", ["question", "answer", "score"], [["Q", "A", 1]]), lambda *_: 1.0
        )
