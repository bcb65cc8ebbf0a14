"""The offline grader: a `Grade` without any LLM, from sentence and word embeddings calibrated on human grades.

It is the fallback when no LLM answers, and the check an LLM grade can be compared with, so it must be fast,
deterministic and hard to fool. The answer is cleaned and screened first (text aimed at the grader is cut out
and earns nothing; a sentence said again is graded once, and an answer mostly repeated loses `REPEAT_PENALTY`). The
measures of `offline_features` are scored against each key point with the calibration
fitted on human grades (each key point is about as long as a reference answer in that data) and averaged, so
a missed key point costs more than a weak one. Form checks then cap the score: an answer that only restates
the question, a bare keyword list or an off-topic answer scores at most `FLAGGED_CAP`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from interviewer.answer_checks import is_keyword_list
from interviewer.answers import clean_answer, drop_repeats
from interviewer.calibration import Calibration, load_calibration
from interviewer.embeddings import TokenEmbedder
from interviewer.grade import Assessment, Flag, Grade, KeyPointVerdict, ReferenceInfo, listed_verdicts
from interviewer.injection import screen_instructions
from interviewer.judge import Judge, PointJudgement
from interviewer.models import Reference
from interviewer.offline_features import (
    POINT_COVERED,
    Measures,
    PointMatch,
    ReferenceVectors,
    encode_answer,
    encode_reference,
    measure,
)
from interviewer.offline_feedback import (
    EXPLAINS_NOTHING,
    criteria,
    empty_assessment,
    improvements,
    judged_improvements,
    judged_reasoning,
    judged_strengths,
    model_answer,
    reasoning,
    strengths,
)
from interviewer.point_calibration import PointCalibration, load_point_calibration
from interviewer.point_grading import PointTally, credited_nothing, decide, read_points, verdicts_for_grade
from interviewer.wording import sentences

GRADER_NAME = "offline"
NO_JUDGE_NOTICE = (
    "The key-point judge's weights are missing, so key points were matched by sentence embeddings, which cannot tell "
    "a claim from its negation. Restore them: git checkout -- interviewer/data/judge."
)
CACHE_SIZE = 256
"""References kept encoded; an interview uses a handful, the benchmark about a hundred."""
MAX_DERIVED_POINTS = 8
"""Without listed key points, the reference's first sentences stand in for them."""
FLAGGED_CAP = 1.5
"""The most a restatement, keyword list or off-topic answer can score."""
RESTATE_SIMILARITY = 0.65
RESTATE_NEW_WORDS = 3
RESTATE_RECALL = 0.2
"""Close to the question in meaning, at most a few content words of its own, and almost none of the key points'
words beyond the question's: the answer restates the question."""
OFF_TOPIC_SIMILARITY = 0.3
OFF_TOPIC_PRECISION = 0.35
OFF_TOPIC_WORDS = 5
"""Far from both question and reference, few words the reference supports, yet enough words to judge (a
two-word fragment is short, not off topic): the answer is about something else."""
COVERAGE_FLOOR = 0.4
"""Key-point strength below which a point earns no coverage at all (POINT_COVERED earns it fully). Short clauses
share a word or two with many key points, so below this a match is no evidence that the point was made."""
COVERAGE_WEIGHT = 0.6
"""With curated key points, the share of the calibrated score that depends on covering them. The calibration
comes from human grades on short references (where even weak answers got about 3 of 5), so without this an
answer that makes one of six key points would still score about 4; the rubric says completeness counts."""
REPEAT_PENALTY = 1.0
"""What pasting the same text over and over costs, on top of being graded once: the in-domain grading guide grades a
repeated paragraph as one copy minus 1 (repetition adds nothing and is hard to follow)."""
REFERENCE_COVERAGE_FLOOR = 0.5
"""Coverage is measured relative to what the reference text itself makes, but never against less than this: a
document whose key points its own answer barely states should not hand full coverage to any answer."""


@dataclass(frozen=True)
class Targets:
    """What an answer is graded against: key points (STAR parts included), and whether they were derived."""

    key_points: tuple[str, ...]
    derived: bool
    technical: bool = True

    @property
    def coverage_weighted(self) -> bool:
        """Curated key points of a technical question: each one is content the answer must contain."""
        return self.technical and not self.derived


def grading_targets(reference: Reference) -> Targets:
    """Listed key points plus STAR parts for behavioral questions; else the reference's first sentences."""
    star = reference.question.star if reference.question and reference.question.is_behavioral else ()
    listed = tuple(dict.fromkeys((*reference.key_points, *star)))
    if listed:
        return Targets(listed, derived=False, technical=not star)
    derived = tuple(sentences(reference.text, drop_code=True)[:MAX_DERIVED_POINTS])
    return Targets(derived or (reference.text.strip(),), derived=True)


@dataclass(frozen=True)
class Inspection:
    """An answer as screened, its flags, and its measures (None when nothing was left to grade)."""

    text: str
    flags: tuple[Flag, ...]
    measures: Measures | None


class OfflineGrader:
    """Grades answers against references with one encoder, a calibration and, when given, the key-point judge;
    safe to share between threads.

    With a judge, the key points of a technical bank question are each judged made, contradicted or missed, and
    the score follows from them (`interviewer.point_grading`); the embedding measures still screen the answer's
    form (restated, off topic). Without one (or without its weights, which the grade then says), key points are
    matched by embeddings and the calibrated score is today's.
    """

    def __init__(
        self,
        embedder: TokenEmbedder,
        calibration: Calibration | None = None,
        cache_size: int = CACHE_SIZE,
        judge: Judge | None = None,
        point_calibration: PointCalibration | None = None,
    ) -> None:
        """Use the given calibrations, or the ones shipped with the package."""
        self.embedder = embedder
        self.judge = judge
        self.calibration = calibration if calibration is not None else load_calibration()
        self._point_calibration = point_calibration
        self._cache: OrderedDict[tuple[str, str, tuple[str, ...]], ReferenceVectors] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._encoding = threading.Lock()

    @property
    def point_calibration(self) -> PointCalibration:
        """The key-point calibration given, or the shipped one (read when a judged grade first needs it)."""
        return self._point_calibration or load_point_calibration()

    def _cached(self, key: tuple[str, str, tuple[str, ...]]) -> ReferenceVectors | None:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        return None

    def reference_vectors(self, question: str, reference: Reference) -> ReferenceVectors:
        """The encoded reference, from the LRU cache when this question and reference were seen before.

        References are encoded one at a time: an answer that arrives while its reference is being prepared in
        the background waits for that work instead of repeating it.
        """
        key_points = grading_targets(reference).key_points
        key = (question, reference.text, key_points)
        if (vectors := self._cached(key)) is not None:
            return vectors
        with self._encoding:
            if (vectors := self._cached(key)) is not None:
                return vectors
            vectors = encode_reference(self.embedder, question, reference.text, key_points)
            with self._lock:
                self._cache[key] = vectors
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return vectors

    def measure(self, question: str, answer: str, reference: Reference) -> Measures:
        """The measures of a screened, non-empty answer: one encode of its sentences."""
        vectors = self.reference_vectors(question, reference)
        return measure(encode_answer(self.embedder, answer, vectors), vectors)

    def inspect(self, question: str, answer: str, reference: Reference) -> Inspection:
        """Clean, screen and deduplicate the answer, then measure it and check its form (no calibration involved)."""
        cleaned = clean_answer(answer)
        flags: list[Flag] = ["truncated"] if cleaned.truncated else []
        screened = screen_instructions(cleaned.text)
        if screened.removed:
            flags.append("instructions_to_grader")
        if not any(char.isalnum() for char in screened.text):
            return Inspection(screened.text, (*flags, "empty"), None)
        once = drop_repeats(screened.text)
        if once.repeated:
            flags.append("repeated")
        measures = self.measure(question, once.text, reference)
        flags += form_flags(once.text, reference.text, measures)
        return Inspection(once.text, tuple(flags), measures)

    def grade(self, question: str, answer: str, reference: Reference) -> Grade:
        """Inspect, then judge each key point (or calibrate embedding measures without a judge), and explain."""
        inspection = self.inspect(question, answer, reference)
        targets = grading_targets(reference)
        judge = self.judge if targets.coverage_weighted else None
        notice = NO_JUDGE_NOTICE if judge is not None and not judge.available else None
        verdicts: list[KeyPointVerdict] | None = None
        if inspection.measures is None:
            assessment = empty_assessment(targets.key_points, targets.derived, reference.text, list(inspection.flags))
        elif judge is not None and notice is None:
            strengths = [point.strength for point in inspection.measures.points]
            worth = [self.point_calibration.worth_reading(strength) for strength in strengths]
            nearest = [
                units if read else [] for units, read in zip(inspection.measures.nearest_units, worth, strict=True)
            ]
            evidence = read_points(judge, targets.key_points, inspection.text, nearest)
            judged = decide(self.point_calibration, evidence, strengths)
            assessment, verdicts = assess_judged(
                inspection, inspection.measures, judged, self.point_calibration, targets, reference.text
            )
        else:
            assessment = assess(inspection, inspection.measures, self.calibration, targets, reference.text)
        info = ReferenceInfo(question_id=reference.question_id, sources=list(reference.sources))
        if verdicts is None:  # no judge: the points matched by embeddings, without evidence
            verdicts = listed_verdicts(assessment)
        return Grade(**assessment.model_dump(), grader=GRADER_NAME, reference=info, notice=notice, key_points=verdicts)


def form_flags(answer: str, reference_text: str, measures: Measures) -> list[Flag]:
    """Restatement, keyword list and off-topic: answers whose words may match but that explain nothing."""
    flags: list[Flag] = []
    if (
        measures.question_similarity >= RESTATE_SIMILARITY
        and measures.new_words <= RESTATE_NEW_WORDS
        and measures.soft_recall < RESTATE_RECALL
    ):
        flags.append("restates_question")
    if is_keyword_list(answer) and not is_keyword_list(reference_text):
        flags.append("keyword_list")
    if (
        max(measures.cosine, measures.question_similarity) < OFF_TOPIC_SIMILARITY
        and measures.soft_precision < OFF_TOPIC_PRECISION
        and measures.new_words >= OFF_TOPIC_WORDS
    ):
        flags.append("off_topic")
    return flags


def _points_made(points: tuple[PointMatch, ...]) -> float:
    """Share of the key points made, with partial credit between COVERAGE_FLOOR and POINT_COVERED."""
    span = POINT_COVERED - COVERAGE_FLOOR
    return float(np.mean([np.clip((point.strength - COVERAGE_FLOOR) / span, 0, 1) for point in points]))


def soft_coverage(measures: Measures) -> float:
    """Key points made, relative to how many the reference text itself makes in words the matcher can see.

    Curated key points sometimes say more than the reference text (a code transcript, a source that never
    mentions KV caching); an answer is not asked to beat its own reference, so the reference itself scores full.
    On the bank the reference text makes between 72% and 100% of its key points.
    """
    own = _points_made(measures.reference_points)
    return min(1.0, _points_made(measures.points) / max(own, REFERENCE_COVERAGE_FLOOR))


def calibrated_score(measures: Measures, calibration: Calibration, targets: Targets) -> float:
    """The calibrated score against each key point, averaged; weighted by coverage when key points are curated."""
    score = float(np.mean([calibration.score(features) for features in measures.point_features()]))
    if not targets.coverage_weighted:
        return score
    return score * (1 - COVERAGE_WEIGHT + COVERAGE_WEIGHT * soft_coverage(measures))


def capped_score(score: float, flags: tuple[Flag, ...]) -> float:
    """Cap the score when a form check fired or the answer addressed the grader, and take REPEAT_PENALTY off a
    repeated answer; one decimal.

    An answer that tries to instruct the grader is not graded on its merits: whatever else it says, it scores at
    most FLAGGED_CAP, and the feedback says why. That makes an attack cost something instead of nothing.
    """
    if (EXPLAINS_NOTHING | {"instructions_to_grader"}) & set(flags):
        score = min(score, FLAGGED_CAP)
    if "repeated" in flags:
        score = max(0.0, score - REPEAT_PENALTY)
    return round(score, 1)


def final_score(inspection: Inspection, calibration: Calibration, targets: Targets) -> float:
    """The grade's score for an inspection: 0 when nothing was left to grade."""
    if inspection.measures is None:
        return 0.0
    return capped_score(calibrated_score(inspection.measures, calibration, targets), inspection.flags)


def assess(
    inspection: Inspection, measures: Measures, calibration: Calibration, targets: Targets, reference_text: str
) -> Assessment:
    """Turn an inspection with measures into the fields a person acts on."""
    flags = list(inspection.flags)
    calibrated = calibrated_score(measures, calibration, targets)
    score = capped_score(calibrated, inspection.flags)
    capped = bool(EXPLAINS_NOTHING & set(flags))
    made = [point.strength >= POINT_COVERED and not capped for point in measures.points]
    covered = [text for text, hit in zip(targets.key_points, made, strict=True) if hit]
    missed = [text for text, hit in zip(targets.key_points, made, strict=True) if not hit]
    return Assessment(
        reasoning=reasoning(score, measures, len(covered), flags, calibrated),
        key_points_covered=covered,
        key_points_missed=missed,
        criteria=criteria(score, measures, len(covered), inspection.text, flags),
        score=score,
        strengths=strengths(covered, measures, flags),
        improvements=improvements(missed, flags),
        model_answer=model_answer(targets.derived, reference_text),
        flags=flags,
    )


def assess_judged(
    inspection: Inspection,
    measures: Measures,
    judged: Sequence[PointJudgement],
    point_calibration: PointCalibration,
    targets: Targets,
    reference_text: str,
) -> tuple[Assessment, list[KeyPointVerdict]]:
    """The assessment from the judge's verdict on each key point; an answer that explains nothing is credited
    nothing, whatever the judge read in it."""
    flags = list(inspection.flags)
    if EXPLAINS_NOTHING & set(flags):
        judged = credited_nothing(judged)
    tally = PointTally.of(judged, point_calibration.credit)
    if tally.contradicted and tally.contradicted >= tally.made:
        flags.append("false_claims")
    rule = point_calibration.rule
    score = capped_score(tally.score(rule), inspection.flags)
    measured = criteria(score, measures, tally.made, inspection.text, flags)
    if EXPLAINS_NOTHING & set(flags):
        correctness = measured.correctness
    elif point_calibration.calls_false_claims:
        correctness = round(tally.claims_correctness(score), 1)
    else:  # nothing is ever read as false: how much of the answer the reference supports, at most a point above
        correctness = min(measured.correctness, score + 1.0)
    verdicts = verdicts_for_grade(judged)
    assessment = Assessment(
        reasoning=judged_reasoning(tally, point_calibration, score, flags),
        key_points_covered=[v.key_point for v in verdicts if v.status == "made"],
        key_points_missed=[v.key_point for v in verdicts if v.status != "made"],
        criteria=measured.model_copy(
            update={
                "correctness": correctness,
                "completeness": tally.completeness,
                "depth": min(measured.depth, score + 1.0),
            }
        ),
        score=score,
        strengths=judged_strengths(verdicts, flags),
        improvements=judged_improvements(verdicts, flags),
        model_answer=model_answer(targets.derived, reference_text),
        flags=flags,
    )
    return assessment, verdicts
