"""The judge's training data as labelled (text, key point) pairs, each tagged with the question it belongs to.

Two sources, both in the repository: SemEval-2013 Task 7 (`bench/data/asag/semeval2013_train.csv`: student
answers labelled correct / contradictory / incorrect against a reference statement) and our own in-domain pairs
(`bench/data/judge/indomain_pairs.json`: the bank's key points against candidate-style sentences that state or
contradict them). Every pair carries its question, so that training and evaluation can split by question and no
question is ever both fitted and scored.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from interviewer.judge import LABELS, Label

DATA = Path(__file__).resolve().parent / "data"
SEMEVAL = DATA / "asag" / "semeval2013_train.csv"
INDOMAIN = DATA / "judge" / "indomain_pairs.json"
SEMEVAL_LABELS: dict[str, Label] = {"correct": "states", "contradictory": "contradicts", "incorrect": "neither"}
OTHER_POINTS_PER_POINT = 2
"""Sentences written for the question's other key points, drawn as 'neither' pairs per key point: every key point
could be paired with a few dozen, which would drown the few that state or contradict it."""


@dataclass(frozen=True)
class Pair:
    """A text judged against a key point: the text states it, contradicts it, or neither."""

    text: str
    key_point: str
    label: Label
    group: str
    """The question both come from: folds split by it."""
    source: str
    """'semeval' or 'indomain'."""

    @property
    def label_id(self) -> int:
        """The label's position in the model's output."""
        return LABELS.index(self.label)


def semeval_pairs(path: Path = SEMEVAL, share: float = 1.0, seed: int = 0) -> list[Pair]:
    """Each student answer (a seeded `share` of them) against its question's first (best) reference statement."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows = random.Random(seed).sample(rows, round(share * len(rows))) if share < 1 else rows
    return [
        Pair(
            row["answer"],
            json.loads(row["reference_answers"])[0]["text"],
            SEMEVAL_LABELS[row["label_3way"]],
            f"semeval:{row['question_id']}",
            "semeval",
        )
        for row in rows
    ]


def indomain_pairs(path: Path = INDOMAIN, seed: int = 0, kept: bool = False) -> list[Pair]:
    """Stated and contradicting sentences against their key point, and 'neither' pairs for each key point.

    The key point itself states it (a candidate may say it word for word), and its mirrored sentences (its own words
    with one to three changed to make it false) contradict it: without them the judge learnt that sharing the key
    point's words means stating it. With `kept`, its kept sentences (its own words with one to four changed, still
    true) state it too, the other half of each minimal pair (`bench.train_judge.Recipe.kept`).

    'Neither' texts for a key point are its near misses (its own words, no claim about it), sentences written for
    the question's other key points (related, same vocabulary, a different point; their contradictions too, which
    contradict something else, drawn with a fixed seed) and one of the question's restatements or a generic remark.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for question in data["questions"]:
        group = f"bank:{question['question_id']}"
        points = question["key_points"]
        for point in points:
            key_point = point["key_point"]
            stated = [key_point, *point["states"], *(point["kept"] if kept else [])]
            pairs += [Pair(text, key_point, "states", group, "indomain") for text in stated]
            wrong = [*point["contradicts"], *point.get("mirrored", [])]
            pairs += [Pair(text, key_point, "contradicts", group, "indomain") for text in wrong]
            others = [text for other in points if other is not point for text in other["states"] + other["contradicts"]]
            filler = [*question["restatements"], rng.choice(data["generic"])]
            drawn = [*point["near_misses"], *rng.sample(others, min(len(others), OTHER_POINTS_PER_POINT))]
            drawn.append(rng.choice(filler))
            pairs += [Pair(text, key_point, "neither", group, "indomain") for text in drawn]
    return pairs


def training_pairs(semeval_share: float, kept: bool = False, seed: int = 0) -> list[Pair]:
    """Everything a judge is trained on: a seeded share of SemEval's answers and every in-domain pair."""
    return semeval_pairs(share=semeval_share, seed=seed) + indomain_pairs(seed=seed, kept=kept)


def folds(pairs: Iterable[Pair], k: int, seed: int = 0) -> list[set[str]]:
    """`k` disjoint sets of question groups, each source dealt round-robin so every fold holds a share of both."""
    chosen: list[set[str]] = [set() for _ in range(k)]
    by_source: dict[str, dict[str, None]] = {}
    for pair in pairs:
        by_source.setdefault(pair.source, {})[pair.group] = None
    rng = random.Random(seed)
    for groups in by_source.values():
        ordered = sorted(groups)
        rng.shuffle(ordered)
        for position, group in enumerate(ordered):
            chosen[position % k].add(group)
    return chosen


def split(pairs: Sequence[Pair], held_out: set[str]) -> tuple[list[Pair], list[Pair]]:
    """The pairs whose question is not held out (to fit) and those whose question is (to score)."""
    fitted = [pair for pair in pairs if pair.group not in held_out]
    scored = [pair for pair in pairs if pair.group in held_out]
    return fitted, scored
