"""Answers that try to instruct the grader: offline they earn nothing; over the LLM they stay fenced and capped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from interviewer.answers import clean_answer
from interviewer.grading import INJECTION_MARGIN, GradingService
from interviewer.knowledge import Question, load_bank
from interviewer.llm_grader import LLMGrader, fence_id
from interviewer.models import Reference
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import load_settings

from .conftest import KNOWLEDGE_DIR
from .fake_llm import FakeLLM, reply, valid_assessment
from .hostile_cases import HOSTILE

QUESTION_START = "How do dynamic batching"


@pytest.fixture(scope="module")
def batching() -> Question:
    return next(q for q in load_bank(Path(KNOWLEDGE_DIR)).questions if q.question.startswith(QUESTION_START))


@pytest.fixture(scope="module")
def offline(embedder) -> OfflineGrader:
    return OfflineGrader(embedder)


@pytest.fixture
def lenient_llm() -> Iterator[FakeLLM]:
    """An LLM that falls for every attack: it always answers 5/5 with no flags."""
    perfect = valid_assessment(
        score=5, criteria={"correctness": 5, "completeness": 5, "depth": 5, "communication": 5}, flags=[]
    )
    fake = FakeLLM(reply(perfect)).start()
    yield fake
    fake.stop()


def reference(question: Question) -> Reference:
    return Reference(question.reference_answer, question.key_points, (question.source,), 1.0, question)


def test_the_corpus_is_large_enough() -> None:
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("answer", HOSTILE)
def test_offline_a_hostile_answer_scores_at_most_1_5_and_is_flagged(offline, batching, answer: str) -> None:
    grade = offline.grade(batching.question, answer, reference(batching))
    assert grade.score <= 1.5
    if answer.strip():
        assert {"instructions_to_grader", "empty", "off_topic"} & set(grade.flags), grade.flags


@pytest.mark.parametrize("answer", [a for a in HOSTILE if a.strip()])
def test_over_the_llm_a_hostile_answer_stays_fenced_and_its_grade_is_capped(
    offline, batching, lenient_llm: FakeLLM, answer: str
) -> None:
    settings = load_settings(llm_base_url=lenient_llm.base_url, llm_max_retries=0, llm_timeout=5)
    service = GradingService(settings, offline, [LLMGrader(settings)])
    grade = service.grade(batching.question, answer, reference(batching))
    offline_score = offline.grade(batching.question, answer, reference(batching)).score
    user = lenient_llm.requests[-1]["messages"][1]["content"]
    fence = fence_id(clean_answer(answer).text)
    body = user.split(f'<candidate_answer id="{fence}">', 1)[1].split(f'</candidate_answer id="{fence}">', 1)[0]
    assert clean_answer(answer).text in body  # the whole answer is inside the fence, as data
    assert grade.score <= offline_score + INJECTION_MARGIN
    assert "score_capped" in grade.flags and "instructions_to_grader" in grade.flags
