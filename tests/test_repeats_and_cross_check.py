"""Repeating text earns nothing, and an LLM's grade far from the offline check is capped or shown beside it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interviewer.answers import drop_repeats
from interviewer.grading import GradingService
from interviewer.knowledge import Question, load_bank
from interviewer.llm_grader import LLMGrader
from interviewer.models import Reference
from interviewer.offline_grader import FLAGGED_CAP, REPEAT_PENALTY, OfflineGrader
from interviewer.settings import load_settings
from tests.conftest import KNOWLEDGE_DIR

from .fake_llm import FakeLLM, graded

INFERENCE = "what-is-model-inference-and-how-7a7950"
ONCE = (
    "Inference runs the trained model forward on new inputs with its weights fixed. There is no backpropagation, "
    "no loss and no optimizer step, so it needs far less memory than training."
)


def test_a_repeated_paragraph_is_kept_once_and_said_to_be_repeated() -> None:
    result = drop_repeats(" ".join([ONCE] * 48))
    assert result.repeated
    assert result.text.split("\n") == [
        "Inference runs the trained model forward on new inputs with its weights fixed.",
        "There is no backpropagation, no loss and no optimizer step, so it needs far less memory than training.",
    ]


def test_an_answer_that_repeats_nothing_is_left_as_written() -> None:
    answer = "Batching raises throughput.\n\n```python\nx = 1\n```"
    assert drop_repeats(answer).text == answer
    assert not drop_repeats(answer).repeated


@pytest.fixture(scope="module")
def question() -> Question:
    """A bank question with curated key points."""
    return load_bank(KNOWLEDGE_DIR).by_id()[INFERENCE]


@pytest.fixture(scope="module")
def offline(embedder) -> OfflineGrader:
    """The offline grader with the shipped calibration."""
    return OfflineGrader(embedder)


def reference(question: Question) -> Reference:
    """A bank question as the engine hands it to a grader."""
    return Reference(question.reference_answer, question.key_points, (question.source,), 1.0, question)


def test_pasting_a_paragraph_48_times_scores_a_point_below_saying_it_once(offline, question) -> None:
    single = offline.grade(question.question, ONCE, reference(question))
    pasted = offline.grade(question.question, " ".join([ONCE] * 48), reference(question))
    assert "repeated" in pasted.flags and "repeated" not in single.flags
    assert pasted.score == pytest.approx(max(0.0, single.score - REPEAT_PENALTY), abs=0.05)
    assert "Repeating text earns nothing" in pasted.improvements


@pytest.fixture
def always_five() -> Iterator[FakeLLM]:
    """An endpoint that grades every answer 5."""
    fives = {"correctness": 5, "completeness": 5, "depth": 5, "communication": 5}
    fake = FakeLLM(graded(score=5.0, covered=None, criteria=fives)).start()
    yield fake
    fake.stop()


def graded_by(server: FakeLLM, offline: OfflineGrader, question: Question, answer: str):
    """The grade the service gives with the endpoint first in the chain."""
    settings = load_settings(llm_base_url=server.base_url, llm_model="always-five", llm_max_retries=0)
    service = GradingService(settings, offline, [LLMGrader(settings)])
    return service.grade(question.question, answer, reference(question))


def test_an_llm_five_for_an_off_topic_answer_is_capped_and_both_are_shown(always_five, offline, question) -> None:
    recipe = (
        "My favourite weekend recipe is a slow tomato sauce: fry garlic in olive oil, add crushed tomatoes and basil, "
        "then let it simmer for two hours before tossing it with fresh pasta."
    )
    result = graded_by(always_five, offline, question, recipe)
    assert result.grader == "llm:always-five"
    assert result.score <= FLAGGED_CAP + 1.5
    assert {"off_topic", "score_capped"} <= set(result.flags)
    assert result.notice is not None
    assert "gave 5.0" in result.notice and "offline check gave" in result.notice


def test_an_llm_grade_close_to_the_check_is_shown_as_given(offline, question) -> None:
    fake = FakeLLM(graded(score=3.0)).start()
    try:
        result = graded_by(fake, offline, question, ONCE)
    finally:
        fake.stop()
    check = offline.grade(question.question, ONCE, reference(question))
    assert abs(3.0 - check.score) <= 1.5
    assert (result.score, result.notice) == (3.0, None)
