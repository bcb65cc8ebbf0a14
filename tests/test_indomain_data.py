"""The hand-written data the grader is measured on is well formed: questions, key points, grades and the split.

These check the data files (the in-domain halves and the paraphrase set), not any grader's figures. A record
whose question left the bank, a key point not copied exactly, a grade out of range or an answer in both halves
would make every figure measured on them wrong.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.grading import PARAPHRASES
from bench.indomain_data import KINDS, GradedAnswer, load_dev, load_heldout, split
from interviewer.knowledge import Question, load_bank
from tests.conftest import KNOWLEDGE_DIR

HALVES = {"dev": load_dev, "heldout": load_heldout}
LOW_KINDS = ("off_topic", "keywords", "restated", "empty")


@pytest.fixture(scope="module")
def bank() -> dict[str, Question]:
    """The project's question bank by id."""
    return load_bank(KNOWLEDGE_DIR).by_id()


@pytest.fixture(scope="module", params=sorted(HALVES))
def half(request: pytest.FixtureRequest) -> list[GradedAnswer]:
    """The records of one half."""
    return HALVES[request.param]()


def answer(id: str, batch: int, kind: str = "concise", topic: str = "PyTorch") -> GradedAnswer:
    """A record for exercising the split; only the fields the split reads matter."""
    return GradedAnswer(id, batch, "q", topic, kind, f"answer {id}", 3.0, (), ())


def test_every_answer_is_to_a_bank_question(half, bank) -> None:
    """A record's topic is its question's topic when the answer was written: the seeded split is stratified by it, so
    an answer stays in its half when its question later moves to another topic (KV cache to LLM Serving)."""
    assert [r.id for r in half if r.question_id not in bank] == []


def test_listed_key_points_are_copied_exactly_from_the_question(half, bank) -> None:
    foreign = [(r.id, p) for r in half for p in r.makes + r.contradicts if p not in bank[r.question_id].key_points]
    assert foreign == []
    assert [r.id for r in half if set(r.makes) & set(r.contradicts)] == []
    assert [r.id for r in half if len(set(r.makes)) != len(r.makes)] == []


def test_grades_are_half_points_from_0_to_5_and_kinds_are_known(half) -> None:
    assert [r.id for r in half if not (0 <= r.grade <= 5 and (r.grade * 2).is_integer())] == []
    assert [r.id for r in half if r.kind not in KINDS] == []


def test_grades_follow_the_grading_guide(half) -> None:
    """The README's guide, where it fixes a bound: answers with nothing in them low, concise correct ones high."""
    assert [r.id for r in half if r.kind in LOW_KINDS and (r.grade > 1.5 or r.makes)] == []
    assert [r.id for r in half if r.kind == "contradicting" and (r.grade > 1.5 or not r.contradicts)] == []
    assert [r.id for r in half if r.kind == "concise" and (r.grade < 3.5 or len(r.makes) < 3 or r.contradicts)] == []


def test_ids_and_answers_are_unique(half) -> None:
    assert [id for id, n in Counter(r.id for r in half).items() if n > 1] == []
    texts = Counter(r.answer for r in half if r.kind != "empty")
    assert [text[:60] for text, n in texts.items() if n > 1] == []


def test_the_halves_share_no_answer_and_are_the_seeded_split() -> None:
    dev, heldout = load_dev(), load_heldout()
    assert {r.id for r in dev}.isdisjoint(r.id for r in heldout)
    assert {r.answer for r in dev if r.kind != "empty"}.isdisjoint(r.answer for r in heldout)
    assert split(dev + heldout) == (sorted(dev, key=lambda r: r.id), sorted(heldout, key=lambda r: r.id))


def test_the_set_covers_the_topics_and_every_kind_in_both_halves(bank) -> None:
    """A topic the bank gains may lag here until a later batch answers it, but both halves hold the same topics."""
    dev, heldout = load_dev(), load_heldout()
    assert len(dev) + len(heldout) >= 300
    assert {r.topic for r in dev} == {r.topic for r in heldout} <= {q.topic for q in bank.values()}
    assert len({r.topic for r in dev}) >= 8
    assert {r.kind for r in dev} == {r.kind for r in heldout} == set(KINDS)


def test_paraphrase_cases_name_bank_questions_and_their_key_points(bank) -> None:
    cases = json.loads(PARAPHRASES.read_text(encoding="utf-8"))
    assert [c["question_id"] for c in cases if c["question_id"] not in bank] == []
    bad = [c["answer"][:40] for c in cases if not set(c["makes"]) <= set(range(len(bank[c["question_id"]].key_points)))]
    assert bad == []
    assert [c["answer"][:40] for c in cases if len(set(c["makes"])) != len(c["makes"]) or not c["makes"]] == []
    assert sum(len(c["makes"]) for c in cases) >= 150
    assert len({c["answer"] for c in cases}) == len(cases)
    assert {c["answer"] for c in cases}.isdisjoint(r.answer for r in load_dev() + load_heldout())


def test_the_split_halves_every_group_of_kind_and_topic() -> None:
    records = [answer(f"b1-{i:03d}", 1, kind) for i, kind in enumerate(["concise"] * 6 + ["spoken"] * 3)]
    dev, heldout = split(records)
    assert sorted(dev + heldout, key=lambda r: r.id) == records
    assert Counter(r.kind for r in dev)["concise"] == Counter(r.kind for r in heldout)["concise"] == 3
    assert {len(dev), len(heldout)} == {4, 5}


def test_a_later_batch_never_moves_an_earlier_answer_to_the_other_half() -> None:
    first = [answer(f"b1-{i:03d}", 1, kind) for i, kind in enumerate(["concise", "wordy"] * 5)]
    later = [answer(f"b2-{i:03d}", 2, kind) for i, kind in enumerate(["concise", "wordy", "empty"] * 3)]
    dev_before, _ = split(first)
    dev_after, _ = split(first + later)
    assert {r.id for r in dev_after if r.batch == 1} == {r.id for r in dev_before}
