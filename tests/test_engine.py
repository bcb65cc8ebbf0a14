"""The interview engine: its words to the candidate (hints, follow-ups) and what it takes as an answer."""

from __future__ import annotations

import pytest

from interviewer.answers import MAX_ANSWER_CHARS
from interviewer.engine import MAX_FOCUS_CHARS, Interviewer, RoundOptions
from interviewer.errors import QueryError, RoundNotFoundError, StaleAnswerError
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


def test_an_offline_follow_up_asks_the_probe_of_a_missed_point_without_stating_it(engine: Interviewer) -> None:
    follow_up = follow_up_after(
        engine, "TensorFlow 1.x versus 2.x", "TF 2.x runs eagerly by default, so operations run at once like NumPy."
    )
    (asked,) = [q for q in engine.index.questions if q.question.startswith("Can you explain the difference between T")]
    missed = [point for point, probe in zip(asked.key_points, asked.probes, strict=True) if probe == follow_up]
    assert missed, follow_up  # the bank's probe for one of the key points
    assert missed[0] not in follow_up


def test_a_behavioral_follow_up_asks_about_the_story(engine: Interviewer) -> None:
    question = follow_up_after(
        engine,
        "disagreed with a colleague about latency versus accuracy",
        "I disagreed with a colleague about the serving framework. We talked and chose one.",
    )
    assert question.startswith("Let us stay with that story") and "how this works" not in question


def test_an_answer_to_a_question_the_round_has_moved_past_is_neither_graded_nor_saved(engine: Interviewer) -> None:
    round_id = engine.start(RoundOptions(count=2))
    first = engine.next_prompt(round_id)
    assert first is not None
    engine.skip(first)  # another tab skipped it
    with pytest.raises(StaleAnswerError, match="already answered in another tab"):
        engine.answer(first, "An answer written while the other tab moved on.")
    with pytest.raises(StaleAnswerError):
        engine.skip(first)
    record = engine.round(round_id)
    assert [(turn.position, turn.skipped) for turn in record.turns] == [(0, True)]


def test_an_answer_after_the_round_ended_elsewhere_is_refused(engine: Interviewer) -> None:
    round_id = engine.start(RoundOptions(count=2))
    prompt = engine.next_prompt(round_id)
    assert prompt is not None
    engine.end(round_id)
    with pytest.raises(StaleAnswerError, match="round has ended"):
        engine.answer(prompt, "Too late.")
    assert engine.round(round_id).turns == []


def test_the_same_answer_sent_twice_is_saved_once(engine: Interviewer) -> None:
    round_id = engine.start(RoundOptions(count=2))
    prompt = engine.next_prompt(round_id)
    assert prompt is not None
    answer = "Quantization stores weights in int8 to cut memory traffic and speed up inference."
    first, again = engine.answer(prompt, answer), engine.answer(prompt, answer)
    assert (first.saved, again.saved) == (True, False)
    assert again.next_prompt == first.next_prompt
    assert len(engine.round(round_id).turns) == 1


def test_what_is_stored_is_what_was_graded(engine: Interviewer) -> None:
    round_id = engine.start(RoundOptions(count=1))
    prompt = engine.next_prompt(round_id)
    assert prompt is not None
    long_answer = "Batching groups requests to raise throughput. " * 400  # 18,400 characters
    engine.answer(prompt, long_answer)
    (turn,) = engine.round(round_id).turns
    assert turn.answer is not None and len(turn.answer) <= MAX_ANSWER_CHARS < len(long_answer)
    assert turn.grade is not None and "truncated" in turn.grade.flags


def test_a_focus_is_a_few_words_not_an_essay() -> None:
    with pytest.raises(QueryError, match=f"at most {MAX_FOCUS_CHARS} characters"):
        RoundOptions(focus="quantization " * 100)


def test_an_engine_acting_for_one_person_cannot_reach_another_persons_round(engine: Interviewer) -> None:
    ada, bob = engine.for_owner("ada@example.org"), engine.for_owner("bob@example.org")
    round_id = ada.start(RoundOptions(count=2))
    prompt = ada.next_prompt(round_id)
    assert prompt is not None
    for attempt in (
        lambda: bob.next_prompt(round_id),
        lambda: bob.answer(prompt, "Bob's answer to Ada's question, sent with her round's id."),
        lambda: bob.skip(prompt),
        lambda: bob.end(round_id),
    ):
        with pytest.raises(RoundNotFoundError, match=f"No round with id '{round_id}'"):
            attempt()
    assert not bob.delete_round(round_id) and bob.rounds() == [] and bob.unfinished_rounds(3) == []
    assert engine.rounds() == []  # the local person is someone else again

    record = ada.round(round_id)
    assert record.turns == [] and record.ended_at is None and ada.next_prompt(round_id) == prompt
    assert [r.id for r in ada.unfinished_rounds(3)] == [round_id]
