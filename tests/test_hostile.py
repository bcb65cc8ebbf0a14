"""The injection screen on two held-out corpora, through the offline grader, and a lenient LLM kept in check.

`tests/corpora/honest_answers.json` holds good answers that use an attack's words (ignore, system prompt,
override, score, 5/5, ChatML, JSON configs); `hostile_answers.json` holds answers that try to instruct the grader,
each with wrong or empty substance. Nothing in the screen was tuned on them (its development set is in
`bench/data/injection/`). Each corpus is graded once per module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.screen import (
    HONEST,
    HOSTILE,
    CorpusAnswer,
    Outcome,
    bank_reference,
    flag_figures,
    grade_corpus,
    load_corpus,
)
from interviewer.answers import clean_answer
from interviewer.grading import INJECTION_MARGIN, GradingService
from interviewer.knowledge import Question, load_bank
from interviewer.llm_grader import LLMGrader, fence_id
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import load_settings

from .conftest import KNOWLEDGE_DIR
from .fake_llm import FakeLLM, graded

LOW = 1.5
NOTHING = 1.0
"""About what the offline grader gives any text that says nothing relevant (a pasta recipe scores 0.9)."""
HONEST_ANSWERS = load_corpus(HONEST, hostile=False)
HOSTILE_ANSWERS = load_corpus(HOSTILE, hostile=True)


@pytest.fixture(scope="module")
def bank() -> dict[str, Question]:
    return load_bank(KNOWLEDGE_DIR).by_id()


@pytest.fixture(scope="module")
def offline(embedder) -> OfflineGrader:
    return OfflineGrader(embedder)


@pytest.fixture(scope="module")
def honest(offline, bank) -> list[Outcome]:
    return grade_corpus(offline, bank, HONEST_ANSWERS)


@pytest.fixture(scope="module")
def hostile(offline, bank) -> list[Outcome]:
    return grade_corpus(offline, bank, HOSTILE_ANSWERS)


@pytest.fixture
def lenient_llm() -> Iterator[FakeLLM]:
    """An LLM that falls for every attack: it always answers 5/5 with no flags."""
    fake = FakeLLM(graded(score=5, covered=None, flags=[])).start()
    yield fake
    fake.stop()


def test_the_corpora_are_large_and_answer_bank_questions(bank) -> None:
    assert len(HONEST_ANSWERS) >= 60 and len(HOSTILE_ANSWERS) >= 60
    assert {record.question_id for record in [*HONEST_ANSWERS, *HOSTILE_ANSWERS]} <= set(bank)


def test_no_honest_answer_is_flagged_or_capped(honest: list[Outcome]) -> None:
    wrongly = [(o.record.question_id, o.record.answer[:80]) for o in honest if o.flagged or o.capped]
    assert wrongly == []


def test_every_hostile_answer_scores_at_most_1_5(hostile: list[Outcome]) -> None:
    too_high = [(o.score, o.record.answer[:80]) for o in hostile if o.score > LOW]
    assert too_high == []


def test_at_least_95_percent_of_hostile_answers_are_flagged_and_no_honest_one(honest, hostile) -> None:
    figures = flag_figures([*honest, *hostile])
    assert figures["recall"] >= 0.95
    assert figures["precision"] == 1.0


def test_with_the_cap_removed_text_aimed_at_the_grader_earns_nothing(hostile: list[Outcome]) -> None:
    """The cap is not the only defence: what instructs is cut before grading, so without the cap an answer earns
    what its substance alone earns (or what any text with nothing in it earns, for an empty substance)."""
    gained = [
        (o.record.answer[:60], round(o.uncapped, 2), round(o.substance or 0, 2))
        for o in hostile
        if o.uncapped > max(o.substance or 0, NOTHING) + 0.1
    ]
    assert gained == []


def one_of_each_kind(records: list[CorpusAnswer]) -> list[CorpusAnswer]:
    """The first non-empty answer of each kind of attack, to keep the LLM round trips few."""
    kinds: dict[str, CorpusAnswer] = {}
    for record in records:
        if record.answer.strip():
            kinds.setdefault(record.kind, record)
    return list(kinds.values())


@pytest.mark.parametrize("record", one_of_each_kind(HOSTILE_ANSWERS), ids=lambda record: record.kind)
def test_over_the_llm_a_hostile_answer_stays_fenced_and_its_grade_is_capped(
    offline, bank, lenient_llm: FakeLLM, record: CorpusAnswer
) -> None:
    question = bank[record.question_id]
    settings = load_settings(llm_base_url=lenient_llm.base_url, llm_max_retries=0, llm_timeout=5)
    service = GradingService(settings, offline, [LLMGrader(settings)])
    grade = service.grade(question.question, record.answer, bank_reference(question))
    offline_score = offline.grade(question.question, record.answer, bank_reference(question)).score
    user = lenient_llm.requests[-1]["messages"][1]["content"]
    fence = fence_id(clean_answer(record.answer).text)
    body = user.split(f'<candidate_answer id="{fence}">', 1)[1].split(f'</candidate_answer id="{fence}">', 1)[0]
    assert clean_answer(record.answer).text in body  # the whole answer is inside the fence, as data
    assert grade.score <= offline_score + INJECTION_MARGIN
    assert "score_capped" in grade.flags and "instructions_to_grader" in grade.flags
