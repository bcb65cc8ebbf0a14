"""The grade: one validated object, the same from the LLM grader and the offline grader.

`Assessment` is what a grader judges; its JSON schema is what the LLM is asked to produce (evidence and key
points come before the scores, so the model reasons before it scores), and it validates what comes back.
`Grade` adds where the assessment came from: which grader, against which reference, and any notice the
person should see (for example that the LLM was unreachable and the grade is offline). The store saves it,
the app and the command line render it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from interviewer.figures import FigureCheck

JudgedFlag = Literal["empty", "restates_question", "off_topic", "keyword_list", "instructions_to_grader"]
"""Observations a grader makes about an answer (an LLM may set only these)."""

Flag = Literal[JudgedFlag, "truncated", "score_capped", "repeated", "false_claims"]
"""Observations about an answer that a person (and the grade's consumer) should know about; the last four are set
by the grading code itself (the answer was cut before grading, the score was capped by the offline check, the
answer repeats itself, the key-point judge found at least as many key points stated falsely as made)."""

FLAG_LABELS: dict[str, str] = {
    "empty": "no answer given",
    "restates_question": "restates the question",
    "off_topic": "off topic",
    "keyword_list": "a bare list of keywords",
    "instructions_to_grader": "possible attempt to instruct the grader",
    "truncated": "answer was too long and was cut before grading",
    "score_capped": "score capped: the LLM grade disagreed with the offline check",
    "repeated": "the same text repeated (graded once)",
    "false_claims": "key points stated falsely (as many as made, or more)",
}

Score = float

KeyPointStatus = Literal["made", "contradicted", "missed"]
"""Made: the answer states the key point; contradicted: it asserts the opposite or a false version; missed: neither."""


def _score_field(description: str) -> Score:
    """A 0-5 score with its meaning, which goes into the JSON schema the LLM sees."""
    return Field(ge=0, le=5, description=description)


class CriterionScores(BaseModel):
    """Scores per rubric criterion, each 0-5."""

    model_config = ConfigDict(extra="forbid")

    correctness: Score = _score_field("Are the statements technically right? 0 wrong or none, 5 fully right.")
    completeness: Score = _score_field("How many of the key points are covered? 0 none, 5 all.")
    depth: Score = _score_field("Depth and examples: mechanisms, trade-offs, concrete cases. 0 none, 5 expert.")
    communication: Score = _score_field("Clear, structured, concise. 0 incoherent, 5 crisp.")


class Assessment(BaseModel):
    """A grader's judgement of one answer against its reference."""

    model_config = ConfigDict(extra="forbid")

    reasoning: str = Field(
        description="Brief reasoning first: compare the answer with the reference and each key point."
    )
    key_points_covered: list[str] = Field(description="Key points the answer covers, copied from the list given.")
    key_points_missed: list[str] = Field(description="Key points the answer misses, copied from the list given.")
    criteria: CriterionScores
    score: Score = _score_field("Overall score 0-5, consistent with the criteria; length earns nothing.")
    strengths: str = Field(description="What was good, one or two sentences addressed to the candidate.")
    improvements: str = Field(description="What to add or fix, one or two sentences addressed to the candidate.")
    model_answer: str = Field(description="A concise model answer (under 150 words) a strong candidate would give.")
    flags: list[Flag] = Field(
        default_factory=list,
        description="Any of: empty, restates_question, off_topic, keyword_list, instructions_to_grader.",
    )

    @field_validator("flags")
    @classmethod
    def _unique_flags(cls, flags: list[Flag]) -> list[Flag]:
        """Each flag once, in first-seen order."""
        return list(dict.fromkeys(flags))


class ReferenceInfo(BaseModel):
    """What the answer was graded against."""

    question_id: str | None = Field(default=None, description="The bank question, when one matched.")
    sources: list[str] = Field(default_factory=list, description="file:line of the reference text.")


class KeyPointVerdict(BaseModel):
    """One key point of the reference, judged against the answer, with the answer's own words as evidence."""

    model_config = ConfigDict(extra="forbid")

    key_point: str = Field(description="The key point, as the reference lists it.")
    status: KeyPointStatus = Field(description="made, contradicted or missed.")
    evidence: str | None = Field(
        default=None, description="The answer's sentence or clause that makes or contradicts the point, quoted."
    )


def listed_verdicts(assessment: Assessment) -> list[KeyPointVerdict]:
    """Verdicts from a grader that lists points covered and missed but quotes nothing: made or missed."""
    return [KeyPointVerdict(key_point=point, status="made") for point in assessment.key_points_covered] + [
        KeyPointVerdict(key_point=point, status="missed") for point in assessment.key_points_missed
    ]


class Grade(Assessment):
    """An assessment with its provenance: the object saved, exported and shown."""

    grader: str = Field(description="'llm:<model>' or 'offline'.")
    reference: ReferenceInfo = Field(default_factory=ReferenceInfo)
    notice: str | None = Field(default=None, description="Something the person must know, e.g. a fallback.")
    figures: list[FigureCheck] = Field(
        default_factory=list, description="The question's expected figures, each checked against the answer."
    )
    key_points: list[KeyPointVerdict] = Field(
        default_factory=list,
        description="Each key point made, contradicted or missed, with the quoted evidence where the grader gave it.",
    )

    @property
    def flag_labels(self) -> list[str]:
        """The flags in words."""
        return [FLAG_LABELS[flag] for flag in self.flags]
