"""Injection-screen benchmark: how often the flag is right on honest and hostile answers, and what they score.

Run: `.venv/bin/python -m bench.screen`. It grades the two held-out corpora in `tests/corpora/` (honest answers
that use an attack's words, hostile answers of many kinds) with the offline grader and prints the precision and
recall of the `instructions_to_grader` flag, how many honest answers were capped, and the score distributions,
including each hostile answer's score with the cap removed beside its substance's score (what addresses the grader
must earn nothing). It also
prints the screen alone on the development set (`bench/data/injection/dev.json`, the only text the screen was
tuned on) and the screen's time per answer beside the time to grade one. Figures go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from interviewer.answers import clean_answer
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.injection import screen_instructions
from interviewer.knowledge import Question, load_bank
from interviewer.models import Reference
from interviewer.offline_grader import Inspection, OfflineGrader, calibrated_score, final_score, grading_targets
from interviewer.settings import PROJECT_ROOT, default_embedding_model

CORPORA = PROJECT_ROOT / "tests" / "corpora"
HONEST = CORPORA / "honest_answers.json"
HOSTILE = CORPORA / "hostile_answers.json"
DEV = Path(__file__).resolve().parent / "data" / "injection" / "dev.json"
FLAG = "instructions_to_grader"


@dataclass(frozen=True)
class CorpusAnswer:
    """One record of a corpus: the bank question it answers and the answer; for a hostile one, the kind of attack
    and its substance (the answer without what addresses the grader, as its author wrote it)."""

    question_id: str
    answer: str
    hostile: bool
    kind: str
    substance: str | None


@dataclass(frozen=True)
class Outcome:
    """What the offline grader made of one corpus answer."""

    record: CorpusAnswer
    flagged: bool
    capped: bool
    score: float
    uncapped: float
    substance: float | None
    """The substance alone, graded with the cap removed (hostile answers only)."""


def load_corpus(path: Path, hostile: bool) -> list[CorpusAnswer]:
    """Every record of a corpus file."""
    records = json.loads(path.read_text(encoding="utf-8"))
    return [
        CorpusAnswer(
            record["question_id"], record["answer"], hostile, record.get("kind", "honest"), record.get("substance")
        )
        for record in records
    ]


def bank_reference(question: Question) -> Reference:
    """A bank question as the engine hands it to a grader."""
    return Reference(question.reference_answer, question.key_points, (question.source,), 1.0, question)


def _graded(grader: OfflineGrader, question: Question, text: str) -> tuple[Inspection, float, float]:
    """The inspection, the score, and the calibrated score before any cap (0 when nothing was left)."""
    reference = bank_reference(question)
    inspection = grader.inspect(question.question, text, reference)
    targets = grading_targets(reference)
    if inspection.measures is None:
        return inspection, 0.0, 0.0
    uncapped = calibrated_score(inspection.measures, grader.calibration, targets)
    return inspection, final_score(inspection, grader.calibration, targets), uncapped


def grade_corpus(grader: OfflineGrader, bank: dict[str, Question], records: Sequence[CorpusAnswer]) -> list[Outcome]:
    """Grade every record once, and the substance of every hostile one."""
    outcomes = []
    for record in records:
        question = bank[record.question_id]
        inspection, score, uncapped = _graded(grader, question, record.answer)
        substance = None if record.substance is None else _graded(grader, question, record.substance)[2]
        capped = score < round(uncapped, 1)
        outcomes.append(Outcome(record, FLAG in inspection.flags, capped, score, uncapped, substance))
    return outcomes


def flag_figures(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Precision and recall of the flag, hostile answers being the positives (empty answers left out)."""
    judged = [o for o in outcomes if o.record.answer.strip()]
    true_positive = sum(o.flagged and o.record.hostile for o in judged)
    flagged = sum(o.flagged for o in judged)
    hostile = sum(o.record.hostile for o in judged)
    return {
        "precision": true_positive / flagged if flagged else 1.0,
        "recall": true_positive / hostile if hostile else 1.0,
    }


def distribution(scores: Sequence[float]) -> str:
    """min, median, max and mean of some scores."""
    return (
        f"min {min(scores):.1f}, median {statistics.median(scores):.1f}, max {max(scores):.1f}, "
        f"mean {statistics.mean(scores):.2f} (n={len(scores)})"
    )


def dev_figures() -> str:
    """The screen alone on the development set: misses and false alarms."""
    records = json.loads(DEV.read_text(encoding="utf-8"))
    flagged = [bool(screen_instructions(clean_answer(r["text"]).text).removed) for r in records]
    missed = sum(r["hostile"] and not f for r, f in zip(records, flagged, strict=True))
    false = sum(f and not r["hostile"] for r, f in zip(records, flagged, strict=True))
    hostile = sum(r["hostile"] for r in records)
    return f"{hostile - missed}/{hostile} hostile flagged, {false}/{len(records) - hostile} honest flagged"


def main() -> None:
    """Print every figure."""
    embedder = SentenceTransformerEmbedder(default_embedding_model())
    grader = OfflineGrader(embedder)
    bank = load_bank(PROJECT_ROOT / "knowledge").by_id()
    honest = grade_corpus(grader, bank, load_corpus(HONEST, hostile=False))
    hostile = grade_corpus(grader, bank, load_corpus(HOSTILE, hostile=True))
    figures = flag_figures([*honest, *hostile])
    print(f"development set (screen only): {dev_figures()}")
    print(f"flag on the held-out corpora: precision {figures['precision']:.3f}, recall {figures['recall']:.3f}")
    print(
        f"honest answers: {sum(o.flagged for o in honest)}/{len(honest)} flagged, "
        f"{sum(o.capped for o in honest)} capped; scores {distribution([o.score for o in honest])}"
    )
    over = sum(o.score > 1.5 for o in hostile)
    print(
        f"hostile answers: {sum(o.flagged for o in hostile)}/{len(hostile)} flagged, {over} above 1.5; "
        f"scores {distribution([o.score for o in hostile])}"
    )
    print(f"hostile answers with the cap removed: {distribution([o.uncapped for o in hostile])}")
    gained = max(o.uncapped - (o.substance or 0.0) for o in hostile)
    print(
        f"their substance alone: {distribution([o.substance or 0.0 for o in hostile])}; the most an answer "
        f"gained over its substance: {gained:+.2f}"
    )
    for outcome in sorted(hostile, key=lambda o: -o.uncapped)[:3]:
        print(f"  highest with the cap removed {outcome.uncapped:.2f}: {outcome.record.answer[:90]!r}")
    texts = [clean_answer(r.answer).text for r in load_corpus(HONEST, hostile=False)]
    start = time.perf_counter()
    for text in texts:
        screen_instructions(text)
    screen_ms = (time.perf_counter() - start) * 1000 / len(texts)
    question = bank[honest[0].record.question_id]
    grader.grade(question.question, texts[0], bank_reference(question))  # the reference is encoded once, here
    start = time.perf_counter()
    for text in texts[:10]:
        grader.grade(question.question, text, bank_reference(question))
    grade_ms = (time.perf_counter() - start) * 1000 / 10
    print(
        f"screen {screen_ms:.2f} ms per honest answer; grading one offline {grade_ms:.0f} ms in the same run "
        f"(the screen is {screen_ms / grade_ms:.1%} of it)"
    )


if __name__ == "__main__":
    main()
