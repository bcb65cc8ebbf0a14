"""The interview engine's words to the candidate: hints and follow-up questions."""

from __future__ import annotations

import pytest

from interviewer.engine import Interviewer, RoundOptions
from interviewer.runtime import build_runtime
from interviewer.settings import Settings

CHALLENGES = "what-are-some-common-challenges-you-ecad58"


@pytest.fixture
def engine(indexed_settings: Settings, embedder) -> Interviewer:
    """The real engine over the bank, grading offline."""
    return build_runtime(indexed_settings, warm=False, embedder=embedder).interviewer


def follow_up_after(engine: Interviewer, focus: str, answer: str) -> str:
    """Start a one-question round on the focus, answer it, and return the follow-up question asked."""
    round_id = engine.start(RoundOptions(focus=focus, count=1))
    prompt = engine.next_prompt(round_id)
    assert prompt is not None
    outcome = engine.answer(prompt, answer)
    assert outcome.next_prompt is not None and outcome.next_prompt.kind == "follow_up", outcome.turn.grade
    return outcome.next_prompt.question


def test_a_hint_names_what_to_cover_without_giving_it_away(engine: Interviewer) -> None:
    hint = engine.hint(CHALLENGES)
    assert hint.startswith("A strong answer touches on: Latency and tail-latency SLOs; Scalability and cost;")
    assert "address with" not in hint  # the subject of the key point, not its content


def test_a_follow_up_quotes_the_missed_point_as_written(engine: Interviewer) -> None:
    question = follow_up_after(
        engine, "TensorFlow 1.x versus 2.x", "TF 2.x runs eagerly by default, so operations run at once like NumPy."
    )
    assert "TF 1.x" in question and "tF" not in question
    assert question.startswith("One more on this question.")


def test_a_behavioral_follow_up_asks_about_the_story(engine: Interviewer) -> None:
    question = follow_up_after(
        engine,
        "a time you disagreed with a teammate",
        "I disagreed with a colleague about the serving framework. We talked and chose one.",
    )
    assert question.startswith("Let us stay with that story") and "how this works" not in question
