"""In-domain benchmark: how a grader's scores agree with hand grades of candidate-style answers to bank questions.

Run: `.venv/bin/python -m bench.indomain` measures today's offline grader on both halves of
`bench/data/indomain/`; `--grader` names one or more graders (see `GRADERS`), measured in the same run so their
figures sit side by side. Per half it prints the rank agreement with the hand grades, each answer kind against its
target (contradicting answers at most 1.5, concise correct ones at least 3.5, restated / keyword-list / off-topic
/ empty at most 1.5), and how the grade's covered key points match the points each answer makes or contradicts;
then the paraphrase set's credit rates. While tuning, pass `--half dev`: only the development half may guide a
change (see the data's README), and only it is ever listed answer by answer (`--worst`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bench.grading import bank_reference, paraphrase_credit
from bench.indomain_data import GradedAnswer, load_dev, load_heldout
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.grade import Grade
from interviewer.grading import GradingService
from interviewer.judge import shipped_judge
from interviewer.knowledge import Question, load_bank
from interviewer.metrics import evaluate
from interviewer.offline_grader import OfflineGrader
from interviewer.retrieval import Reference
from interviewer.settings import Settings, load_settings


class Grader(Protocol):
    """Anything that grades an answer against a reference, as every grader in `interviewer` does."""

    def grade(self, question: str, answer: str, reference: Reference) -> Grade:
        """The grade of one answer."""
        ...


GRADERS: dict[str, Callable[[Settings, SentenceTransformerEmbedder], Grader]] = {
    "embeddings": lambda _, embedder: OfflineGrader(embedder),
    "offline": lambda _, embedder: OfflineGrader(embedder, judge=shipped_judge()),
    "configured": lambda settings, embedder: GradingService(settings, OfflineGrader(embedder, judge=shipped_judge())),
}
"""The graders the command can measure, by name: `offline` is the offline grader as the app runs it (with the
key-point judge), `embeddings` the offline grader before the judge (key points matched by embeddings), and
`configured` what the app would use with these settings."""

HALVES: dict[str, Callable[[], list[GradedAnswer]]] = {"dev": load_dev, "heldout": load_heldout}


@dataclass(frozen=True)
class Target:
    """A bound that every answer of some kinds must meet."""

    kinds: tuple[str, ...]
    bound: float
    at_least: bool

    def met(self, scores: Sequence[float]) -> bool:
        """Whether every score is on the right side of the bound."""
        return min(scores) >= self.bound if self.at_least else max(scores) <= self.bound

    def __str__(self) -> str:
        return f"{'min' if self.at_least else 'max'} {'>=' if self.at_least else '<='} {self.bound}"


TARGETS = (
    Target(("concise",), 3.5, at_least=True),
    Target(("contradicting",), 1.5, at_least=False),
    Target(("restated", "keywords", "off_topic", "empty"), 1.5, at_least=False),
)


@dataclass(frozen=True)
class Scored:
    """One hand-graded answer with the grade a grader gave it."""

    record: GradedAnswer
    grade: Grade

    @property
    def error(self) -> float:
        """Grader's score minus the hand grade."""
        return self.grade.score - self.record.grade


def score_all(grader: Grader, records: Sequence[GradedAnswer], bank: dict[str, Question]) -> list[Scored]:
    """Grade every record against its bank question, as the app would."""
    scored = []
    for record in records:
        question = bank[record.question_id]
        scored.append(Scored(record, grader.grade(question.question, record.answer, bank_reference(question))))
    return scored


def agreement(scored: Sequence[Scored]) -> str:
    """Spearman, Pearson, RMSE and mean signed error against the hand grades."""
    f = evaluate([s.grade.score for s in scored], [s.record.grade for s in scored])
    bias = statistics.mean(s.error for s in scored)
    return (
        f"Spearman {f['spearman']:.3f}, Pearson {f['pearson']:.3f}, RMSE {f['rmse']:.2f}, "
        f"mean error {bias:+.2f} (n={f['n']})"
    )


def kind_table(scored: Sequence[Scored]) -> str:
    """Per answer kind: the hand grades' median, the grader's min / median / max, and the target if any."""
    lines = ["| kind | n | hand median | grader min | median | max | target |", "|---|---|---|---|---|---|---|"]
    kinds = dict.fromkeys(s.record.kind for s in sorted(scored, key=lambda s: s.record.kind))
    for kind in kinds:
        group = [s for s in scored if s.record.kind == kind]
        scores = [s.grade.score for s in group]
        target = next((t for t in TARGETS if kind in t.kinds), None)
        verdict = f"{target}: {'met' if target.met(scores) else 'MISSED'}" if target else "–"
        lines.append(
            f"| {kind} | {len(group)} | {statistics.median(s.record.grade for s in group):.1f} | {min(scores):.1f} "
            f"| {statistics.median(scores):.1f} | {max(scores):.1f} | {verdict} |"
        )
    return "\n".join(lines)


def share(hits: Sequence[bool]) -> str:
    """'k of n credited (p%)'."""
    return f"{sum(hits)} of {len(hits)} credited ({np.mean(hits):.0%})"


def key_point_credit(scored: Sequence[Scored], bank: dict[str, Question]) -> str:
    """How often a key point is listed as covered when the answer makes it, contradicts it, or does neither."""
    tallies: dict[str, list[bool]] = {"made": [], "contradicted": [], "neither": []}
    for s in scored:
        covered = set(s.grade.key_points_covered)
        for point in bank[s.record.question_id].key_points:
            if point in s.record.makes:
                tallies["made"].append(point in covered)
            elif point in s.record.contradicts:
                tallies["contradicted"].append(point in covered)
            else:
                tallies["neither"].append(point in covered)
    flagged = [
        verdict.status == "contradicted"
        for s in scored
        for verdict in s.grade.key_points
        if verdict.key_point in s.record.contradicts
    ]
    listed = "; ".join(f"{status}: {share(hits)}" for status, hits in tallies.items() if hits)
    detected = f"{sum(flagged)} of {len(flagged)} ({np.mean(flagged):.0%})" if flagged else "none judged"
    return f"{listed}; contradicted points judged contradicted: {detected}"


def worst(scored: Sequence[Scored], n: int) -> str:
    """The n answers whose grade is farthest from the hand grade, for reading (development half only)."""
    lines = []
    for s in sorted(scored, key=lambda s: -abs(s.error))[:n]:
        text = " ".join(s.record.answer.split())[:140]
        lines.append(f"- {s.record.id} {s.record.kind}: hand {s.record.grade:.1f}, grader {s.grade.score:.1f}: {text}")
    return "\n".join(lines)


def main() -> None:
    """Print the benchmark for each grader named, on each half named."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grader", action="append", choices=sorted(GRADERS), help="repeatable; default: offline")
    parser.add_argument("--half", action="append", choices=sorted(HALVES), help="repeatable; default: both")
    parser.add_argument("--worst", type=int, default=0, help="list the N development answers graded farthest off")
    args = parser.parse_args()
    settings = load_settings()
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    bank = load_bank(settings.knowledge_dir).by_id()
    halves = {name: HALVES[name]() for name in args.half or ("dev", "heldout")}
    questions = [q for q in bank.values() if q.reference_answer and q.key_points]
    for name in args.grader or ["offline"]:
        grader = GRADERS[name](settings, embedder)
        print(f"## grader: {name}\n")
        for half, records in halves.items():
            start = time.perf_counter()
            scored = score_all(grader, records, bank)
            print(f"### {half} half: {agreement(scored)}; graded in {time.perf_counter() - start:.1f} s\n")
            print(kind_table(scored))
            print(f"\nkey points listed as covered, by what the answer does: {key_point_credit(scored, bank)}\n")
            if half == "dev" and args.worst:
                print(f"farthest from the hand grade:\n{worst(scored, args.worst)}\n")
        made, not_made = paraphrase_credit(grader, questions)
        print(f"paraphrase set: key points made in other words: {share(made)}; not made: {share(not_made)}\n")


if __name__ == "__main__":
    main()
