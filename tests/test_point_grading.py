"""The offline grade with the key-point judge: each key point made (quoting the answer) or missed, the score
following how sure the grader is of each; the path a false claim takes (quoted, named, costing the score) under a
calibration that calls claims false; without the judge's weights the grade says so and is graded as before."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from bench.fit_points import weights_digest
from interviewer.grading import INJECTION_MARGIN, GradingService
from interviewer.judge import JUDGE_PATH, Judge, PointJudgement
from interviewer.knowledge import Question, load_bank
from interviewer.llm_grader import LLMGrader
from interviewer.models import Reference
from interviewer.offline_grader import NO_JUDGE_NOTICE, OfflineGrader
from interviewer.point_calibration import PointCalibration, ScoreRule, load_point_calibration, ramp
from interviewer.point_grading import PointTally, passages
from interviewer.settings import load_settings
from interviewer.wording import sentences
from tests.conftest import KNOWLEDGE_DIR
from tests.fake_llm import FakeLLM, graded

GRAPH_OPTIMISATIONS = "what-graph-level-optimizations-do-inference-6b1560"
FUSION = "Operator fusion merges ops into one kernel, saving memory traffic and launch overhead"
FALSE_FUSION = "Operator fusion makes things slower, because it increases memory traffic and launch overhead"
CONTRADICTING = (
    f"{FALSE_FUSION}. Constant folding happens at run time, on every request, so it adds latency. "
    "Compilers keep every op and node of the graph, even unused ones, to stay exact."
)
CONCISE = (
    "Compilers look at the whole graph before running it. They fuse chains of small ops such as a conv, a bias add "
    "and a ReLU into a single kernel, so intermediates never go back to memory and there are fewer launches. "
    "Anything that only depends on constants is computed once ahead of time, for example a BatchNorm folded into "
    "the conv weights. Ops whose output nobody uses are dropped."
)


def verdict(status: str) -> PointJudgement:
    """A judged key point with the given status."""
    return PointJudgement("a point", status, 0.9, "a passage" if status != "missed" else None)  # type: ignore[arg-type]


def test_a_contradicted_point_costs_the_score_and_the_score_never_goes_below_zero() -> None:
    rule = ScoreRule(nothing_made=1.5, full_share=0.85, contradiction_cost=2.0)
    assert rule.score(credit=6, contradicted=0, total=7) == 5.0  # all but one key point is full marks
    assert rule.score(credit=1, contradicted=0, total=2) < 4.0  # but one of two is not
    assert rule.score(credit=6, contradicted=1, total=7) == pytest.approx(3.0)
    assert rule.score(credit=0, contradicted=3, total=7) == 0.0


def test_points_made_raise_the_score_from_nothing_made_to_five() -> None:
    rule = load_point_calibration().rule
    scores = [rule.score(credit=made, contradicted=0, total=7) for made in range(8)]
    assert scores[0] == rule.nothing_made and scores[-1] == 5.0
    assert scores == sorted(scores)


def test_a_point_on_the_edge_of_being_credited_moves_the_score_by_its_probability_not_a_whole_point() -> None:
    rule = ScoreRule(nothing_made=1.0, full_share=0.85, contradiction_cost=1.0)
    made, missed = PointJudgement("p", "made", 0.52, "a passage"), PointJudgement("p", "missed", 0.50, None)
    sure = [PointJudgement(f"q{i}", "made", 0.95, "a passage") for i in range(3)]
    credit = functools.partial(ramp, threshold=0.51, margin=0.1)
    just_made, just_missed = PointTally.of([*sure, made], credit), PointTally.of([*sure, missed], credit)
    assert (just_made.made, just_missed.made) == (4, 3)
    assert abs(just_made.score(rule) - just_missed.score(rule)) < 0.2
    far_below = PointTally.of([*sure, PointJudgement("p", "missed", 0.2, None)], credit)
    nothing = PointTally.of([*sure, PointJudgement("p", "missed", 0.0, None)], credit)
    assert far_below.score(rule) == nothing.score(rule)  # a point clearly missed earns nothing


def test_correctness_counts_false_claims_against_points_made() -> None:
    tally = PointTally.of([verdict("made"), verdict("contradicted"), verdict("missed")], TRUSTING.credit)
    assert tally.claims_correctness(score=2.0) == 2.5


def test_a_likely_contradiction_beats_a_weaker_match_and_needs_its_threshold() -> None:
    # P(made) rises with the judge's P(states), P(contradicted) with its P(contradicts); strength is ignored here.
    calibration = PointCalibration(
        coefficients=((0, 0, 0), (0, 8, 0), (0, 0, 8)),
        intercepts=(0, -4, -4),
        made_threshold=0.5,
        contradicted_threshold=0.5,
    )
    assert calibration.status((0.0, 0.95, 0.05))[0] == "made"
    assert calibration.status((0.0, 0.60, 0.95))[0] == "contradicted"
    assert calibration.status((0.0, 0.10, 0.10))[0] == "missed"
    stricter = PointCalibration(calibration.coefficients, calibration.intercepts, 0.5, 0.99)
    assert stricter.status((0.0, 0.60, 0.95))[0] == "missed"  # not sure enough to call it false


def test_the_judge_is_skipped_only_where_no_reading_of_it_could_change_the_verdict() -> None:
    calibration = load_point_calibration()
    readings = [(s, c) for s in np.linspace(0, 1, 21) for c in np.linspace(0, 1, 21)]
    skipped = [strength for strength in np.linspace(-0.2, 1.0, 61) if not calibration.worth_reading(strength)]
    assert skipped and len(skipped) < 61  # far points are skipped, close ones are read
    for strength in skipped:
        assert {calibration.status((strength, s, c))[0] for s, c in readings} == {"missed"}
        assert {calibration.credit(calibration.probabilities((strength, s, c))["made"]) for s, c in readings} == {0.0}


def test_the_shipped_calibration_never_calls_a_claim_false() -> None:
    # Out of fold, no threshold detected a contradiction without telling an honest answer it said something false.
    calibration = load_point_calibration()
    assert not calibration.calls_false_claims
    readings = [(strength, s, c) for strength in np.linspace(-0.5, 1.5, 21) for s in (0, 0.5, 1) for c in (0, 0.5, 1)]
    assert {calibration.status(features)[0] for features in readings} == {"missed", "made"}


def test_the_shipped_calibration_was_fitted_on_the_shipped_judge() -> None:
    # A judge retrained without `python -m bench.fit_points` would be read through another judge's thresholds.
    assert load_point_calibration().about["judge_sha256"] == weights_digest(JUDGE_PATH)


def test_the_shipped_calibration_says_where_each_number_came_from() -> None:
    about = load_point_calibration().about
    assert {"data", "made_threshold", "contradicted_threshold", "score_rule", "out_of_fold"} <= set(about)
    assert "held-out half is never read" in about["data"]


def test_spoken_answers_without_punctuation_are_read_in_pieces_the_judge_can_hold() -> None:
    spoken = " ".join(["so um batching groups requests together and it raises throughput"] * 10)
    assert all(len(piece.split()) <= 40 for piece in passages(spoken))
    assert all(piece in sentence for piece, sentence in passages(spoken).items())  # quoted as its whole sentence
    assert set(passages(spoken).values()) <= set(sentences(spoken, drop_code=True))


@pytest.fixture(scope="module")
def question() -> Question:
    """A bank question whose first key point is operator fusion."""
    found = load_bank(KNOWLEDGE_DIR).by_id()[GRAPH_OPTIMISATIONS]
    assert found.key_points[0] == FUSION
    return found


def reference(question: Question) -> Reference:
    """A bank question as the engine hands it to a grader."""
    return Reference(question.reference_answer, question.key_points, (question.source,), 1.0, question)


def test_without_the_judges_weights_the_grade_says_so_and_is_graded_as_before(
    embedder, question: Question, tmp_path: Path
) -> None:
    without = OfflineGrader(embedder, judge=Judge(tmp_path)).grade(question.question, CONCISE, reference(question))
    before = OfflineGrader(embedder).grade(question.question, CONCISE, reference(question))
    assert without.notice == NO_JUDGE_NOTICE
    assert without.model_dump(exclude={"notice"}) == before.model_dump(exclude={"notice"})


@pytest.fixture(scope="module")
def judged(embedder, judge: Judge) -> OfflineGrader:
    """The offline grader with the shipped judge, as the app builds it."""
    return OfflineGrader(embedder, judge=judge)


def test_a_false_claim_in_the_key_points_words_earns_nothing(judged: OfflineGrader, question: Question) -> None:
    grade = judged.grade(question.question, CONTRADICTING, reference(question))
    assert FUSION not in grade.key_points_covered
    assert grade.score <= 1.5 and grade.criteria.correctness <= grade.score + 1.0


TRUSTING = PointCalibration(
    coefficients=((0, 0, 0), (0, 8, 0), (0, 0, 8)),
    intercepts=(0, -4, -4),
    made_threshold=0.5,
    contradicted_threshold=0.5,
)
"""A calibration that takes the judge at its word, as one fitted on a judge that tells false claims from true ones
would: the shipped judge reads too many correct sentences as false for the shipped calibration to call any claim
false (`bench.fit_points.MAX_FALSE_ACCUSATION`), so the path a false claim takes through the grade is tested here."""


@pytest.fixture(scope="module")
def calling(embedder, judge: Judge) -> OfflineGrader:
    """The offline grader with the shipped judge and a calibration that calls claims false."""
    return OfflineGrader(embedder, judge=judge, point_calibration=TRUSTING)


def test_a_claim_judged_false_is_quoted_named_and_costs_the_score(calling: OfflineGrader, question: Question) -> None:
    grade = calling.grade(question.question, CONTRADICTING, reference(question))
    fusion = next(point for point in grade.key_points if point.key_point == FUSION)
    assert fusion.status == "contradicted"
    assert fusion.evidence is not None and fusion.evidence in CONTRADICTING
    assert fusion.evidence.rstrip(".") == FALSE_FUSION  # the whole false sentence, as the candidate said it
    assert grade.score <= 1.5
    assert "false_claims" in grade.flags
    assert f"\u201c{fusion.evidence.rstrip('.')}\u201d, but that is not right: {FUSION}" in grade.improvements
    assert grade.criteria.correctness <= 1.5


def test_a_concise_answer_in_its_own_words_is_credited_with_its_sentences(
    judged: OfflineGrader, question: Question
) -> None:
    grade = judged.grade(question.question, CONCISE, reference(question))
    made = [point for point in grade.key_points if point.status == "made"]
    # It makes four points (fusion, constant folding, dead ops dropped, whole graph); the shipped judge credits two:
    # the target (every concise correct answer >= 3.5) is missed, see docs/BENCHMARKS.md.
    assert {point.key_point for point in made} >= {FUSION}
    assert all(point.evidence and point.evidence in CONCISE for point in made)
    assert not [point for point in grade.key_points if point.status == "contradicted"]
    assert grade.score >= judged.grade(question.question, CONTRADICTING, reference(question)).score + 1.0
    assert [point.key_point for point in grade.key_points] == list(question.key_points)
    assert grade.key_points_covered == [point.key_point for point in made]
    assert made[0].evidence.rstrip(".") in grade.strengths


def test_an_answer_pasted_over_and_over_earns_nothing_more_than_once(judged: OfflineGrader, question: Question) -> None:
    once = judged.grade(question.question, CONCISE, reference(question))
    pasted = judged.grade(question.question, "\n\n".join([CONCISE] * 30), reference(question))
    assert "repeated" in pasted.flags
    assert pasted.score < once.score


def test_an_llm_five_for_an_answer_the_judge_finds_wrong_is_not_shown_as_five(
    calling: OfflineGrader, question: Question
) -> None:
    fives = {"correctness": 5, "completeness": 5, "depth": 5, "communication": 5}
    server = FakeLLM(graded(score=5.0, covered=None, criteria=fives)).start()
    try:
        settings = load_settings(llm_base_url=server.base_url, llm_model="always-five", llm_max_retries=0)
        service = GradingService(settings, calling, [LLMGrader(settings)])
        grade = service.grade(question.question, CONTRADICTING, reference(question))
    finally:
        server.stop()
    check = calling.grade(question.question, CONTRADICTING, reference(question))
    assert grade.grader == "llm:always-five"
    assert grade.score < 5.0 and grade.score <= check.score + INJECTION_MARGIN
    assert {"false_claims", "score_capped"} <= set(grade.flags)
    assert grade.notice is not None and "gave 5.0" in grade.notice and f"gave {check.score:.1f}" in grade.notice
