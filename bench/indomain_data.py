"""The in-domain answer set: candidate-style answers to bank questions, graded by hand, in two fixed halves.

The data lives in `bench/data/indomain/` (its README says how it was written and graded). This module is the one
reader of those files and the one definition of the split, so the benchmark, the integrity test and anyone
fitting on the development half see the same records. The held-out half is for reporting only: nothing that is
fitted, thresholded or prompted may read it (`load_dev` is what tuning code calls).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data" / "indomain"
DEV = DATA_DIR / "dev.jsonl"
HELDOUT = DATA_DIR / "heldout.jsonl"
SPLIT_SEED = "issue-11-indomain"
"""Seeds the shuffle that assigns each batch's answers to a half; changing it would move answers between halves."""

KINDS = (
    "concise",
    "wordy",
    "partial",
    "spoken",
    "wrong",
    "contradicting",
    "off_topic",
    "repeated",
    "keywords",
    "restated",
    "empty",
)
"""How each answer was written (see the README): the benchmark's targets are stated per kind."""


@dataclass(frozen=True)
class GradedAnswer:
    """One hand-graded answer to a bank question, with the key points it makes and the ones it states falsely."""

    id: str
    batch: int
    question_id: str
    topic: str
    kind: str
    answer: str
    grade: float
    makes: tuple[str, ...]
    contradicts: tuple[str, ...]

    @classmethod
    def from_json(cls, line: str) -> GradedAnswer:
        """Parse one JSONL line."""
        row = json.loads(line)
        return cls(**{**row, "makes": tuple(row["makes"]), "contradicts": tuple(row["contradicts"])})

    def to_json(self) -> str:
        """One JSONL line, keys in field order."""
        return json.dumps(asdict(self), ensure_ascii=False)


def read(path: Path) -> list[GradedAnswer]:
    """Every record of one half, in file order."""
    return [GradedAnswer.from_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write(path: Path, records: Iterable[GradedAnswer]) -> None:
    """Write one half, one record per line."""
    path.write_text("".join(record.to_json() + "\n" for record in records), encoding="utf-8")


def load_dev() -> list[GradedAnswer]:
    """The development half: the only part of this set that fitting, thresholds and prompt changes may read."""
    return read(DEV)


def load_heldout() -> list[GradedAnswer]:
    """The held-out half, for reporting figures only."""
    return read(HELDOUT)


def split(records: Sequence[GradedAnswer]) -> tuple[list[GradedAnswer], list[GradedAnswer]]:
    """Development and held-out halves, stratified by batch, kind and topic, decided by a seeded shuffle.

    Each stratum (the answers of one batch, kind and topic) is shuffled with a generator seeded by `SPLIT_SEED`
    and its batch and halved; an odd stratum's extra answer goes to the half that is behind overall. Splitting
    per batch means answers written later never move an earlier answer to the other half.
    """
    strata: dict[tuple[int, str, str], list[GradedAnswer]] = {}
    for record in sorted(records, key=lambda r: r.id):
        strata.setdefault((record.batch, record.kind, record.topic), []).append(record)
    dev: list[GradedAnswer] = []
    heldout: list[GradedAnswer] = []
    for key in sorted(strata):
        members = strata[key]
        random.Random(f"{SPLIT_SEED}/{key[0]}/{key[1]}/{key[2]}").shuffle(members)
        half = len(members) // 2 + (len(members) % 2 if len(heldout) < len(dev) else 0)
        heldout.extend(members[:half])
        dev.extend(members[half:])
    return sorted(dev, key=lambda r: r.id), sorted(heldout, key=lambda r: r.id)
