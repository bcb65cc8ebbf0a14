"""Choosing a round's questions: a focus round stays on its focus and says when the bank is short; levels and
ramp-up rounds. A small bank with known levels keeps these independent of the growing real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from interviewer.engine import Interviewer, RoundOptions
from interviewer.errors import QueryError
from interviewer.knowledge import LEVELS
from interviewer.runtime import build_runtime
from interviewer.settings import Settings, load_settings

from .test_terminal_round import run_cli

BANK = """Q: What is the KV cache in LLM inference, and how much memory does it take?
Topic: LLM Serving
Level: senior
Key points:
- Keys and values of past tokens are kept so each step attends without recomputing them
- Memory grows with layers, KV heads, head size and context length

The KV cache keeps the keys and values of every past token for every layer, so a decode step only computes the
new token's. It grows linearly with context length: 2 x layers x KV heads x head_dim x bytes per token.

Q: How does continuous batching schedule LLM requests?
Topic: LLM Serving
Level: mid
Key points:
- The batch is re-formed at every decode step
  Probe: At what moments does the scheduler decide which sequences run together?
- Finished sequences leave and queued ones join at once
  Probe: What happens to a request that finishes while others in its batch are still generating?

Continuous batching rebuilds the batch at every decode step: finished sequences leave and waiting requests join.

Q: How do pinned memory and non_blocking copies speed up host-to-device transfers in PyTorch?
Topic: PyTorch
Level: mid
Key points:
- Page-locked host memory allows asynchronous DMA copies
- non_blocking=True overlaps the copy with compute

Pinned (page-locked) host memory lets the GPU copy by DMA, so `non_blocking=True` copies overlap with compute.

Q: What is the difference between torch.sum(a, 0) and torch.sum(a, 1)?
Topic: PyTorch
Level: junior
Key points:
- dim 0 sums down the rows, leaving one value per column
- keepdim=True keeps the reduced axis with size 1

`torch.sum(a, 0)` reduces dimension 0, giving one sum per column; `torch.sum(a, 1)` gives one per row.

Q: Why is decoding at batch size 1 memory-bound, in roofline terms?
Topic: Performance Optimization
Level: staff
Key points:
- Arithmetic intensity of a matrix-vector product is about one FLOP per byte
- The ridge point of a modern GPU is hundreds of FLOPs per byte

Each weight is read once per token for two FLOPs, far below the ridge point, so bandwidth bounds the speed.

Q: How does gradient checkpointing save memory during training?
Topic: Training
Level: junior
Key points:
- Activations are recomputed in the backward pass instead of stored

Checkpointing stores only some activations and recomputes the rest in the backward pass.
"""


@pytest.fixture
def small_settings(isolated_home: Path, tmp_path: Path) -> Settings:
    knowledge = tmp_path / "small-knowledge"
    knowledge.mkdir()
    (knowledge / "bank.md").write_text(BANK, encoding="utf-8")
    return load_settings(home=isolated_home, knowledge_dir=knowledge)


@pytest.fixture
def engine(small_settings: Settings, embedder) -> Interviewer:
    return build_runtime(small_settings, warm=False, embedder=embedder).interviewer


def planned(engine: Interviewer, options: RoundOptions) -> list[str]:
    """The questions a new round plans, in order."""
    return [question.question for question in engine.choose_questions(options)]


def test_a_focus_with_no_question_is_refused_naming_the_closest_topic(engine: Interviewer) -> None:
    with pytest.raises(QueryError, match=r"no question about 'speculative decoding'\. The closest topic is "):
        engine.choose_questions(RoundOptions(focus="speculative decoding", count=3))


def test_a_focus_round_asks_only_about_the_focus_and_says_how_many_match(engine: Interviewer) -> None:
    options = RoundOptions(focus="KV cache", count=3)
    match = engine.match_focus(options)
    assert [question.level for question in match.questions] == ["senior"]
    assert match.closest_topic == "LLM Serving"
    assert match.shortfall(3) == (
        "The bank has only 1 question about 'KV cache' (you asked for 3); the round would have 1. "
        "The closest topic is LLM Serving."
    )
    assert match.shortfall(1) is None
    assert planned(engine, options) == ["What is the KV cache in LLM inference, and how much memory does it take?"]


def test_a_level_with_no_question_is_refused(engine: Interviewer) -> None:
    with pytest.raises(QueryError, match="No questions at level staff in the chosen topics"):
        engine.choose_questions(RoundOptions(topics=("PyTorch",), levels=("staff",)))


def test_a_round_by_level_takes_only_those_levels(engine: Interviewer) -> None:
    questions = engine.choose_questions(RoundOptions(levels=("junior", "staff"), count=5))
    assert sorted(question.level for question in questions) == ["junior", "junior", "staff"]


def test_a_ramp_up_round_goes_from_easy_to_hard_across_levels(engine: Interviewer) -> None:
    for _ in range(5):  # the pick is random; every pick must ramp and span the levels
        levels = [question.level for question in engine.choose_questions(RoundOptions(count=4, ramp=True))]
        assert levels == sorted(levels, key=LEVELS.index)
        assert levels[0] == "junior" and levels[-1] == "staff" and len(set(levels)) == 4


def test_the_terminal_round_says_the_focus_is_short_before_it_starts(small_settings: Settings) -> None:
    result = run_cli(small_settings, "round", "--focus", "KV cache", "--n", "3", "--level", "senior", stdin="/end\n")
    assert result.returncode == 0, result.stderr
    intro, rest = result.stdout.split("Round ", 1)
    assert "only 1 question about 'KV cache' (you asked for 3)" in intro
    assert "`python -m interviewer round --topic 'LLM Serving' --n 3`" in intro
    assert rest.split(":", 1)[1].startswith(" 1 question,")


def test_the_terminal_round_refuses_an_unknown_level(small_settings: Settings) -> None:
    result = run_cli(small_settings, "round", "--level", "expert", stdin="/end\n")
    assert result.returncode == 2 and "invalid choice: 'expert'" in result.stderr


def test_an_offline_follow_up_asks_the_bank_probe_without_giving_the_point_away(engine: Interviewer) -> None:
    prompt = engine.next_prompt(engine.start(RoundOptions(focus="continuous batching", count=1)))
    assert prompt is not None and prompt.question.startswith("How does continuous batching")
    outcome = engine.answer(prompt, "Finished sequences leave the batch at once and queued requests join right away.")
    assert outcome.turn.grade is not None
    follow_up = outcome.next_prompt
    assert follow_up is not None and follow_up.kind == "follow_up", outcome.turn.grade
    assert follow_up.question == "At what moments does the scheduler decide which sequences run together?"
