"""One entry point for grading: a chain of graders chosen by settings, with the offline grader as check and fallback.

Every grader (the LLM, the offline grader, any later one) answers the same `Grader` protocol, so adding one means
writing the class and naming it in `configured_graders`; nothing else compares grader names. The offline grade is
computed for every answer first (it is fast and needs nothing outside the process). It is the fallback when no
grader in the chain answers, with the reason in the grade's notice, and it is the check on the others: when it sees
an attempt to instruct the grader or an answer that explains nothing, and the chain's score is far above its own,
the score is capped and flagged rather than trusted; and when the two disagree by more than 1.5, the grade shows
both.

The service also owns the circuit breaker its LLM graders share (`interviewer.circuit`): while the configured
endpoint rests after a timeout, `outage()` says until when, and `try_again()` closes the circuit early.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, runtime_checkable

from interviewer.answers import clean_answer
from interviewer.circuit import CircuitBreaker, Outage
from interviewer.errors import GraderError
from interviewer.figures import check_figures, wrong_figures_note
from interviewer.grade import CriterionScores, Flag, Grade
from interviewer.llm_grader import LLMGrader, llm_configured
from interviewer.models import Reference
from interviewer.offline_features import ReferenceVectors
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import Settings

INJECTION_MARGIN = 1.5
"""How far above the offline score another grader may grade an answer that tries to instruct the grader."""


class Grader(Protocol):
    """Grades one answer against its reference; raises GraderError when it cannot, so the chain moves on."""

    name: str
    """Recorded in the grade (`Grade.grader`), e.g. 'llm:gpt-4o-mini' or 'offline'."""

    def grade(self, question: str, answer: str, reference: Reference) -> Grade:
        """The grade, with its provenance filled in."""
        ...


@runtime_checkable
class FollowUpWriter(Protocol):
    """A grader that can also word a follow-up question about the key points an answer missed."""

    def follow_up(self, question: str, answer: str, missed: Sequence[str]) -> str:
        """One follow-up question; GraderError when it cannot."""
        ...


def configured_graders(settings: Settings, breaker: CircuitBreaker | None = None) -> list[Grader]:
    """The graders tried before the offline one, in order, as the settings ask."""
    if settings.grader == "offline" or not llm_configured(settings):
        return []
    return [LLMGrader(settings, breaker)]


DISAGREEMENT = 1.5
"""Scores further apart than this between a grader and the offline check are both shown, and the grade says so."""
DISTRUSTED: frozenset[Flag] = frozenset(
    {"instructions_to_grader", "empty", "restates_question", "keyword_list", "off_topic", "false_claims"}
)
"""What the offline check can see that makes a high score from another grader untrustworthy: an attempt to instruct
the grader, an answer that explains nothing, or one whose false claims outnumber its points made."""


def _cap(grade: Grade, ceiling: float, reasons: Sequence[Flag]) -> Grade:
    """The grade with every score at most `ceiling`, flagged as capped and why."""
    criteria = CriterionScores(**{name: min(value, ceiling) for name, value in grade.criteria})
    flags = list(dict.fromkeys([*grade.flags, *reasons, "score_capped"]))
    return grade.model_copy(update={"score": min(grade.score, ceiling), "criteria": criteria, "flags": flags})


def with_notice(grade: Grade, notice: str) -> Grade:
    """The grade with one more thing the person must know, after any it already says."""
    return grade.model_copy(update={"notice": f"{grade.notice} {notice}" if grade.notice else notice})


def with_figures(grade: Grade, answer: str, reference: Reference) -> Grade:
    """The grade with the bank question's expected figures checked; a wrong one is named in the improvements."""
    question = reference.question
    if question is None or not question.figures:
        return grade
    checks = check_figures(question.figures, question.working, answer)
    note = wrong_figures_note(checks)
    improvements = f"{grade.improvements} {note}".strip() if note else grade.improvements
    return grade.model_copy(update={"figures": checks, "improvements": improvements})


class GradingService:
    """Tries the configured graders in order and never lets a grading fault lose an answer."""

    def __init__(
        self,
        settings: Settings,
        offline: OfflineGrader,
        graders: Sequence[Grader] | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        """`breaker` is the process's shared one (the app passes its cached one); a private one by default."""
        self.settings = settings
        self.offline = offline
        self.breaker = breaker or CircuitBreaker()
        self.graders: tuple[Grader, ...] = tuple(
            configured_graders(settings, self.breaker) if graders is None else graders
        )
        self._preparing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-reference")

    def prepare(self, question: str, reference: Reference) -> Future[ReferenceVectors]:
        """Encode a reference in the background while its question is on screen, so the answer is graded fast.

        Encoding a bank reference takes about 200 ms, more than grading an answer against it; a failure here is
        left for the grading call itself to report.
        """
        return self._preparing.submit(self.offline.reference_vectors, question, reference)

    def outage(self) -> Outage | None:
        """The configured LLM endpoint's cool-down, while answers skip it; None when it is asked as usual."""
        if not self.graders:
            return None
        return self.breaker.outage(self.settings.llm_endpoint)

    def try_again(self) -> None:
        """Ask the configured endpoint again from the next answer on, cool-down or not."""
        self.breaker.reset(self.settings.llm_endpoint)

    def describe(self) -> str:
        """Which grader answers will get, in words."""
        if not self.graders:
            return "offline (sentence embeddings)"
        return " then ".join(grader.name for grader in self.graders) + " (offline if it fails)"

    def grade(self, question: str, answer: str, reference: Reference) -> Grade:
        """Grade one answer; the result says which grader made it and why, and checks the figures it computes."""
        return with_figures(self._grade(question, answer, reference), answer, reference)

    def _grade(self, question: str, answer: str, reference: Reference) -> Grade:
        """The grade of the first grader in the chain that answers, else the offline one."""
        check = self.offline.grade(question, answer, reference)
        if not self.graders:
            if self.settings.grader == "offline":
                return check
            return with_notice(check, "No LLM is configured, so this answer was graded offline.")
        if clean_answer(answer).is_empty:
            return check
        failures: list[str] = []
        for grader in self.graders:
            try:
                return self._checked(grader.grade(question, answer, reference), check)
            except GraderError as error:
                failures.append(f"{grader.name}: {error}")
        notice = f"The LLM grader was unavailable ({'; '.join(failures)}), so this answer was graded offline."
        return with_notice(check, notice)

    @staticmethod
    def _checked(grade: Grade, check: Grade) -> Grade:
        """The grade, capped when the check distrusts the answer and the grade is far above it; when the two
        disagree by more than DISAGREEMENT, both scores are shown."""
        given = grade.score
        reasons = [flag for flag in dict.fromkeys([*check.flags, *grade.flags]) if flag in DISTRUSTED]
        if reasons and grade.score > check.score + INJECTION_MARGIN:
            grade = _cap(grade, check.score + INJECTION_MARGIN, reasons)
        if abs(given - check.score) > DISAGREEMENT:
            capped = f", capped at {grade.score:.1f}" if grade.score < given else ""
            notice = (
                f"The graders disagree: {grade.grader} gave {given:.1f}{capped}; the offline check gave "
                f"{check.score:.1f}. Check the key points below before trusting either."
            )
            grade = grade.model_copy(update={"notice": notice})
        return grade

    def follow_up(self, grade: Grade, question: str, answer: str, missed: Sequence[str]) -> str | None:
        """A follow-up worded by the grader that made the grade, when it can write one; None otherwise."""
        for grader in self.graders:
            if grader.name == grade.grader and isinstance(grader, FollowUpWriter):
                try:
                    return grader.follow_up(question, answer, missed) or None
                except GraderError:
                    return None
        return None
