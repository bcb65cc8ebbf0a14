"""Words for the candidate: the offline grader's criteria, advice, model answer and reasoning.

A number alone does not help anyone improve. This module turns the grader's measures into the `Assessment`
fields a person acts on: which key points were made and which were missed (named, not counted), what to add,
what a strong answer contains, and a short account of how the score came about.
"""

from __future__ import annotations

from collections.abc import Sequence

from interviewer.grade import Assessment, CriterionScores, Flag, KeyPointVerdict
from interviewer.offline_features import Measures
from interviewer.point_calibration import PointCalibration
from interviewer.point_grading import PointTally
from interviewer.wording import first_words, sentences

MODEL_ANSWER_WORDS = 150
LONG_SENTENCE_WORDS = 45
"""A sentence longer than this is hard to follow when spoken."""
SHOWN_POINTS = 4
EXPLAINS_NOTHING = frozenset({"restates_question", "keyword_list", "off_topic"})
"""Flags after which nothing in the answer is credited, whatever its words share with the reference."""

_FLAG_ADVICE: dict[str, str] = {
    "empty": "Give an answer: even a partial one earns credit.",
    "restates_question": "Do not restate the question; answer it: say how it works and when it matters.",
    "keyword_list": "Explain the terms instead of listing them: what each does, why it helps, and its cost.",
    "off_topic": "The answer does not address this question; start from what is asked.",
    "instructions_to_grader": (
        "Text that tries to instruct the grader was removed, and the answer is capped at 1.5: answer the question only."
    ),
    "truncated": "The answer was cut before grading; keep it to a few hundred words.",
    "repeated": "Repeating text earns nothing: each point was graded once. Say each thing once, clearly.",
}


def _listing(points: Sequence[str]) -> str:
    """Up to SHOWN_POINTS points joined for a sentence, with how many more there are."""
    shown = "; ".join(point.rstrip(".") for point in points[:SHOWN_POINTS])
    more = len(points) - SHOWN_POINTS
    return shown + (f" (and {more} more)" if more > 0 else "")


def criteria(score: float, measures: Measures, covered: int, answer: str, flags: Sequence[Flag]) -> CriterionScores:
    """Per-criterion scores, each from the measure that speaks to it."""
    capped = bool(EXPLAINS_NOTHING & set(flags))
    return CriterionScores(
        correctness=round(min(5 * measures.soft_precision, 5.0) if not capped else score, 1),
        completeness=0.0 if capped else round(5 * covered / len(measures.points), 1),
        depth=0.0 if capped else round(5 * min(1.0, 2 * measures.sentence_reach), 1),
        # Clear prose about nothing is not good communication: it can be at most a point above the score.
        communication=min(communication(answer, flags), round(score + 1.0, 1)),
    )


def communication(answer: str, flags: Sequence[Flag]) -> float:
    """Start from 5; lists, restatements, run-on sentences and over-long answers cost points."""
    score = 5.0
    if any(len(sentence.split()) > LONG_SENTENCE_WORDS for sentence in sentences(answer)):
        score -= 1
    if "truncated" in flags:
        score -= 1
    if "keyword_list" in flags or "restates_question" in flags:
        score = min(score, 1.0)
    return score


NOTHING_EXPLAINED = "Nothing can be credited yet: the answer does not explain anything the question asks."


def strengths(covered: Sequence[str], measures: Measures, flags: Sequence[Flag]) -> str:
    """Name what was made well, or say plainly that nothing can be credited yet."""
    if EXPLAINS_NOTHING & set(flags):
        return NOTHING_EXPLAINED
    if covered:
        return f"You made these points: {_listing(covered)}."
    if measures.soft_precision >= 0.6:
        return "What you said agrees with the reference, but no key point is fully made yet."
    return "Nothing to credit yet: little of the answer is about what the question asks."


def improvements(missed: Sequence[str], flags: Sequence[Flag], corrections: Sequence[str] = ()) -> str:
    """Flag-specific advice first, then each false claim corrected, then the missed key points by name."""
    advice = [_FLAG_ADVICE[flag] for flag in flags if flag in _FLAG_ADVICE]
    advice += corrections
    if missed:
        advice.append(f"Add: {_listing(missed)}.")
    if not advice:
        advice.append("All key points are there; lead with the main point and give one concrete number or example.")
    return " ".join(advice)


def _quoted(evidence: str | None) -> str:
    """The candidate's own words in quotation marks, as said."""
    return f"\u201c{(evidence or '').strip().rstrip('.')}\u201d"


def judged_strengths(verdicts: Sequence[KeyPointVerdict], flags: Sequence[Flag]) -> str:
    """What was right, quoting the candidate's words that make each point."""
    if EXPLAINS_NOTHING & set(flags):
        return NOTHING_EXPLAINED
    made = [verdict for verdict in verdicts if verdict.status == "made"]
    if not made:
        return "No key point is clearly made yet."
    said = [f"You said {_quoted(v.evidence)}: right, {v.key_point.rstrip('.')}." for v in made[:SHOWN_POINTS]]
    more = len(made) - SHOWN_POINTS
    return " ".join([*said, *([f"You made {more} more key point{'s' if more > 1 else ''}."] if more > 0 else [])])


def judged_improvements(verdicts: Sequence[KeyPointVerdict], flags: Sequence[Flag]) -> str:
    """`improvements` from the judge's verdicts: each false claim quoted with what is right."""
    corrections = [
        f"You said {_quoted(v.evidence)}, but that is not right: {v.key_point.rstrip('.')}."
        for v in verdicts
        if v.status == "contradicted"
    ]
    missed = [verdict.key_point for verdict in verdicts if verdict.status == "missed"]
    return improvements(missed, flags, corrections)


def judged_reasoning(tally: PointTally, calibration: PointCalibration, score: float, flags: Sequence[Flag]) -> str:
    """How the verdicts became the score, in one short paragraph."""
    rule = calibration.rule
    earned = tally.score(rule)
    full = f"{rule.full_share:.0%} of them earns full marks" if rule.full_share < 1 else "all of them earn full marks"
    parts = [
        f"{tally.made} of {tally.total} key points made, each judged by reading it beside the answer's sentence or "
        "clause closest to it.",
        f"An answer that makes none scores {rule.nothing_made:g}; each key point adds by how sure the grader is that "
        f"it was made ({tally.credit:.1f} of {tally.total} here), and {full}.",
    ]
    if calibration.calls_false_claims:
        parts.append(f"Each false claim costs {rule.contradiction_cost:g} ({tally.contradicted} here).")
    parts.append(f"{earned:.1f}/5.")
    if score < round(earned, 1):
        named = ", ".join(flag.replace("_", " ") for flag in flags if flag in _FLAG_ADVICE)
        parts.append(f"Then {score:.1f}: {named}.")
    return " ".join(parts)


def model_answer(derived: bool, reference_text: str) -> str:
    """The bank's reference answer, the same text the "Show the model answer" button reveals; for passages found
    by search (no bank question), their leading sentences within MODEL_ANSWER_WORDS."""
    return first_words(reference_text, MODEL_ANSWER_WORDS) if derived else reference_text.strip()


def reasoning(score: float, measures: Measures, covered: int, flags: Sequence[Flag], calibrated: float) -> str:
    """How the score came about, in one short paragraph."""
    parts = [
        f"{covered} of {len(measures.points)} key points made.",
        f"Key-point words matched by meaning: {measures.soft_recall:.0%}; answer words the reference supports: "
        f"{measures.soft_precision:.0%}; best sentence match per key point: {measures.coverage:.2f}; "
        f"cosine with the reference: {measures.cosine:.2f}; key-point terms used verbatim: "
        f"{measures.lexical_recall:.0%} (words of the question earn nothing).",
        f"Calibrated on human grades: {calibrated:.1f}/5.",
    ]
    if score < round(calibrated, 1):
        named = ", ".join(flag.replace("_", " ") for flag in flags if flag in _FLAG_ADVICE)
        parts.append(f"Capped at {score:.1f}: {named}.")
    return " ".join(parts)


def empty_assessment(key_points: Sequence[str], derived: bool, reference_text: str, flags: list[Flag]) -> Assessment:
    """The assessment of an answer with nothing in it to grade."""
    return Assessment(
        reasoning="Nothing to grade"
        + (" once text addressed to the grader was removed." if "instructions_to_grader" in flags else "."),
        key_points_covered=[],
        key_points_missed=list(key_points),
        criteria=CriterionScores(correctness=0, completeness=0, depth=0, communication=0),
        score=0.0,
        strengths="Nothing to credit yet.",
        improvements=improvements(list(key_points), flags),
        model_answer=model_answer(derived, reference_text),
        flags=flags,
    )
