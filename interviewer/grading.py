"""One entry point for grading: the LLM when it is configured and answers, the offline grader otherwise.

The offline grade is computed for every answer first (it is fast and needs nothing outside the process). It is
the fallback when the LLM is not configured or fails, with the reason in the grade's notice, and it is the
check on the LLM: when either grader sees an attempt to instruct the grader and the LLM's score is far above
the offline one, the LLM's score is capped and flagged rather than trusted.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from interviewer.answers import clean_answer
from interviewer.errors import GraderError
from interviewer.grade import Assessment, CriterionScores, Grade, ReferenceInfo
from interviewer.llm_grader import LLMGrader, llm_configured
from interviewer.offline_features import ReferenceVectors
from interviewer.offline_grader import OfflineGrader
from interviewer.retrieval import Reference
from interviewer.settings import GraderMode, Settings

INJECTION_MARGIN = 1.5
"""How far above the offline score an LLM may grade an answer that tries to instruct the grader."""


def _cap(assessment: Assessment, ceiling: float) -> Assessment:
    """The assessment with every score at most `ceiling`, flagged as capped."""
    criteria = CriterionScores(**{name: min(value, ceiling) for name, value in assessment.criteria})
    flags = [*assessment.flags, "instructions_to_grader", "score_capped"]
    return assessment.model_copy(
        update={"score": min(assessment.score, ceiling), "criteria": criteria, "flags": list(dict.fromkeys(flags))}
    )


class GradingService:
    """Chooses the grader per the mode and never lets a grading fault lose an answer."""

    def __init__(self, settings: Settings, offline: OfflineGrader, llm: LLMGrader | None = None) -> None:
        self.settings = settings
        self.offline = offline
        self.llm = llm if llm is not None else (LLMGrader(settings) if llm_configured(settings) else None)
        self._preparing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-reference")

    def prepare(self, question: str, reference: Reference) -> Future[ReferenceVectors]:
        """Encode a reference in the background while its question is on screen, so the answer is graded fast.

        Encoding a bank reference takes about 200 ms, more than grading an answer against it; a failure here is
        left for the grading call itself to report.
        """
        return self._preparing.submit(self.offline.reference_vectors, question, reference)

    def describe(self, mode: GraderMode | None = None) -> str:
        """Which grader answers will get, in words."""
        mode = mode or self.settings.grader
        if mode == "offline" or self.llm is None:
            return "offline (sentence embeddings)"
        return f"{self.llm.name} (offline if it fails)"

    def grade(self, question: str, answer: str, reference: Reference, mode: GraderMode | None = None) -> Grade:
        """Grade one answer; the result says which grader made it and why, if it is not the one asked for."""
        mode = mode or self.settings.grader
        offline = self.offline.grade(question, answer, reference)
        if mode == "offline":
            return offline
        if self.llm is None:
            return offline.model_copy(update={"notice": "No LLM is configured, so this answer was graded offline."})
        cleaned = clean_answer(answer)
        if cleaned.is_empty:
            return offline
        try:
            assessment = self.llm.assess(question, cleaned, reference)
        except GraderError as error:
            notice = f"The LLM grader was unavailable ({error}), so this answer was graded offline."
            return offline.model_copy(update={"notice": notice})
        flagged = "instructions_to_grader" in offline.flags or "instructions_to_grader" in assessment.flags
        if flagged and assessment.score > offline.score + INJECTION_MARGIN:
            assessment = _cap(assessment, offline.score + INJECTION_MARGIN)
        if cleaned.truncated:
            assessment = assessment.model_copy(update={"flags": [*assessment.flags, "truncated"]})
        return Grade(
            **assessment.model_dump(),
            grader=self.llm.name,
            reference=ReferenceInfo(question_id=reference.question_id, sources=list(reference.sources)),
        )
