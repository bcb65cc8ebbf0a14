"""The interview: choose questions, ask them, grade answers, follow up on what was missed, record every turn.

The app and the terminal round both drive this one engine. It keeps no state of its own between calls: what
to ask next is derived from the store (the round's planned questions, its turns, its pending follow-up), so a
round survives a closed tab or a killed process and can be resumed, and two sessions never share anything but
the database. An engine acts for one person, its `owner` (the local person unless `for_owner` says otherwise),
and the store gives it that person's rounds only.
"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from interviewer.answers import clean_answer
from interviewer.embeddings import Embedder
from interviewer.errors import InterviewerError, QueryError, StaleAnswerError
from interviewer.grade import Grade
from interviewer.grading import GradingService
from interviewer.index import KnowledgeIndex
from interviewer.knowledge import LEVELS, Question
from interviewer.models import LOCAL_OWNER, FollowUp, OpenRound, Reference, RoundRecord, SpokenAnswer, Turn
from interviewer.prompts import render
from interviewer.retrieval import rank
from interviewer.settings import Settings
from interviewer.speech.recordings import delete_round_recordings, discard_recording, save_recording
from interviewer.store import Store
from interviewer.wording import counted

Mode = Literal["practice", "mock"]

FOLLOW_UP_BELOW = 4.0
"""A partial answer (at least 1, below this) to a main question gets one follow-up question."""
FOCUS_MIN_SCORE = 0.6
"""A question is about a free-text focus when its hybrid relevance (meaning and exact terms, `retrieval.rank`,
0-1) reaches this. "tensor parallelism for 70B models" then gives the 70B tensor-parallelism question (0.70), not
TensorFlow's parallelism question (0.52); "batching" gives the three batching questions (0.67 to 0.74), not the
Triton configuration (0.59) or TensorFlow datasets (0.55); the cost: "int8 calibration" finds nothing, as the
TensorRT question that covers it scores 0.55 (probability calibration 0.46)."""
WEAK_BELOW = 3.0
"""Questions scored below this are worth retrying."""
MAX_FOCUS_CHARS = 200
"""A focus names a subject ("quantization", "KV cache for long contexts"), not an essay."""
HINT_WORDS = 6
"""A hint names each key point's subject in at most this many words."""


@dataclass(frozen=True)
class RoundOptions:
    """How a person asked for a round."""

    topics: tuple[str, ...] = ()
    focus: str | None = None
    count: int = 5
    mode: Mode = "practice"
    retry_weak: bool = False
    levels: tuple[str, ...] = ()
    """Only questions of these levels (`knowledge.LEVELS`); empty means every level."""
    ramp: bool = False
    """Easier questions first, harder ones later in the round."""

    def __post_init__(self) -> None:
        if self.focus is not None and len(self.focus) > MAX_FOCUS_CHARS:
            raise QueryError(f"A focus is a few words (at most {MAX_FOCUS_CHARS} characters); shorten it.")


@dataclass(frozen=True)
class FocusMatch:
    """The bank questions about a free-text focus (within the round's topics and levels), best first, and the
    topic to offer when they are fewer than the round asks for."""

    focus: str
    questions: tuple[Question, ...]
    closest_topic: str | None

    def shortfall(self, count: int) -> str | None:
        """What to tell the person before the round starts when fewer questions match than asked; else None."""
        found = len(self.questions)
        if found >= count:
            return None
        offer = f" The closest topic is {self.closest_topic}." if self.closest_topic else ""
        if not found:
            return f"The bank has no question about {self.focus!r}.{offer}"
        return (
            f"The bank has only {counted(found, 'question')} about {self.focus!r} (you asked for {count}); "
            f"the round would have {found}.{offer}"
        )


@dataclass(frozen=True)
class Prompt:
    """The question the candidate must answer now."""

    round_id: str
    position: int
    kind: Literal["question", "follow_up"]
    question: str
    topic: str
    question_id: str | None
    number: int  # 1-based index of the main question
    total: int


@dataclass(frozen=True)
class Outcome:
    """What answering (or skipping) produced."""

    turn: Turn
    saved: bool
    next_prompt: Prompt | None


@dataclass(frozen=True)
class TopicScore:
    topic: str
    average: float
    answered: int


@dataclass(frozen=True)
class Summary:
    """The end-of-round report."""

    round_id: str
    average: float | None
    by_topic: list[TopicScore]
    weakest_key_points: list[tuple[str, int]]
    retry: list[Turn]
    skipped: int
    answered: int = 0
    notes: list[str] = field(default_factory=list)


class Interviewer:
    """Runs one person's rounds over the knowledge index, the grading service and the store."""

    def __init__(
        self,
        settings: Settings,
        index: KnowledgeIndex,
        embedder: Embedder,
        grading: GradingService,
        store: Store,
        rng: random.Random | None = None,
        owner: str = LOCAL_OWNER,
    ) -> None:
        self.settings = settings
        self.index = index
        self.embedder = embedder
        self.grading = grading
        self.store = store
        self.rng = rng or random.Random()
        self.owner = owner

    def for_owner(self, owner: str) -> Interviewer:
        """This engine acting for `owner`: the same index, graders and store, and only that person's rounds."""
        engine = copy.copy(self)
        engine.owner = owner
        return engine

    # -- the person's rounds ------------------------------------------------------------------------------

    def round(self, round_id: str) -> RoundRecord:
        """One of the owner's rounds with its turns; RoundNotFoundError for any other id."""
        return self.store.get_round(round_id, owner=self.owner)

    def rounds(self, topic: str | None = None) -> list[RoundRecord]:
        """The owner's rounds, newest first; with a topic, those that asked about it."""
        return self.store.list_rounds(topic, owner=self.owner)

    def unfinished_rounds(self, limit: int) -> list[OpenRound]:
        """The owner's newest rounds not ended yet, to offer for resuming."""
        return self.store.unfinished_rounds(limit, owner=self.owner)

    def delete_round(self, round_id: str) -> bool:
        """Delete one of the owner's rounds with its recordings; False when they have none by that id."""
        deleted = self.store.delete_round(round_id, owner=self.owner)
        if deleted:
            delete_round_recordings(self.settings.recordings_dir, round_id)
        return deleted

    # -- choosing questions -------------------------------------------------------------------------------

    def topics(self) -> list[str]:
        """Topics of the bank in order of first appearance."""
        return list(dict.fromkeys(question.topic for question in self.index.questions))

    def match_focus(self, options: RoundOptions) -> FocusMatch:
        """The questions about the options' focus within their topics and levels, and the closest topic."""
        focus = (options.focus or "").strip()
        allowed = {question.id for question in self._pool(options)}
        ranked = rank(self.index, self.embedder, focus) if focus else []
        about = tuple(hit.question for hit in ranked if hit.score >= FOCUS_MIN_SCORE and hit.question.id in allowed)
        return FocusMatch(focus, about, ranked[0].question.topic if ranked else None)

    def _pool(self, options: RoundOptions) -> list[Question]:
        """The bank questions of the options' topics and levels; a choice that leaves none is an error."""
        pool = list(self.index.questions)
        if options.topics:
            wanted = {topic.casefold() for topic in options.topics}
            pool = [question for question in pool if question.topic.casefold() in wanted]
            if not pool:
                raise QueryError(f"No questions for {', '.join(options.topics)}. Topics: {', '.join(self.topics())}.")
        if options.levels:
            pool = [question for question in pool if question.level in options.levels]
            if not pool:
                raise QueryError(f"No questions at level {' or '.join(options.levels)} in the chosen topics.")
        return pool

    def _balanced(self, pool: list[Question], count: int, by_level: bool = False) -> list[Question]:
        """A random pick that takes topics (or, for a ramp, levels) in turn, so an all-topics round is not five
        TensorFlow questions and a ramp-up round has easy and hard ones."""
        groups: dict[object, list[Question]] = defaultdict(list)
        for question in pool:
            groups[_difficulty(question) if by_level else question.topic].append(question)
        for questions in groups.values():
            self.rng.shuffle(questions)
        keys = list(groups)
        self.rng.shuffle(keys)
        chosen: list[Question] = []
        while len(chosen) < count and any(groups.values()):
            for key in keys:
                if groups[key] and len(chosen) < count:
                    chosen.append(groups[key].pop())
        return chosen

    def choose_questions(self, options: RoundOptions) -> list[Question]:
        """The questions of a new round: by topic, level or focus, weak ones first when asked, never repeated.

        A focus round takes only questions about the focus, so it is shorter than asked when the bank has fewer
        (`match_focus` says so before the round starts); a ramp-up round orders its questions by level.
        """
        if options.count < 1:
            raise QueryError("A round needs at least one question.")
        pool = self._pool(options)
        focused: list[Question] = []
        if options.focus and options.focus.strip():
            match = self.match_focus(options)
            if not match.questions:
                raise QueryError(f"{match.shortfall(options.count)} Try broader words or choose a topic.")
            pool = list(match.questions)
            focused = pool[: options.count]
        chosen = focused or self._balanced(pool, options.count, options.ramp)
        if options.retry_weak:
            history = self.store.question_scores(owner=self.owner)
            weak = sorted(
                (q for q in pool if q.id in history and min(history[q.id]) < WEAK_BELOW),
                key=lambda q: sum(history[q.id]) / len(history[q.id]),
            )
            rest = [q for q in pool if q not in weak]
            chosen = (weak + (focused or self._balanced(rest, options.count, options.ramp)))[: options.count]
        return sorted(chosen, key=_difficulty) if options.ramp else chosen

    # -- running a round ----------------------------------------------------------------------------------

    def start(self, options: RoundOptions) -> str:
        """Plan and record a new round; returns its id."""
        questions = self.choose_questions(options)
        return self.store.create_round(
            options.mode, list(options.topics), options.focus, [q.id for q in questions], owner=self.owner
        )

    def next_prompt(self, round_id: str) -> Prompt | None:
        """What to ask now, derived from the store; None when the round has nothing left to ask."""
        return self._asking(self.round(round_id))

    def _asking(self, record: RoundRecord) -> Prompt | None:
        """The next prompt, with its reference prepared for grading while the person thinks."""
        prompt = self._next_prompt(record)
        if prompt is not None and prompt.question_id in self.index.by_id:
            self.grading.prepare(prompt.question, self.reference_for(prompt, record))
        return prompt

    def _next_prompt(self, record: RoundRecord) -> Prompt | None:
        """The pending follow-up, else the first planned question not yet asked that is still in the bank."""
        if record.ended_at:
            return None
        total = len(record.question_ids)
        asked = {turn.question_id for turn in record.turns if turn.kind == "question"}
        position = len(record.turns)
        if pending := record.pending_follow_up:
            return Prompt(
                record.id,
                position,
                "follow_up",
                pending.question,
                pending.topic,
                pending.question_id,
                len(asked),
                total,
            )
        for question_id in record.question_ids:
            question = self.index.by_id.get(question_id)
            if question_id not in asked and question is not None:
                number = len(asked) + 1
                return Prompt(
                    record.id, position, "question", question.question, question.topic, question.id, number, total
                )
        return None

    def reference_for(self, prompt: Prompt, record: RoundRecord | None = None) -> Reference:
        """The reference an answer to the prompt is graded against (a follow-up's comes from its round)."""
        question = self.index.by_id.get(prompt.question_id or "")
        if question is None:
            raise QueryError("This question is no longer in the knowledge base; skip it.")
        source = (question.reference_source or question.source,)
        if prompt.kind == "follow_up":
            record = record if record is not None else self.round(prompt.round_id)
            pending = record.pending_follow_up
            missed = (pending.missed if pending else ()) or question.key_points
            return Reference(question.reference_answer, missed, source, 1.0, question)
        return Reference(question.reference_answer, question.key_points, source, 1.0, question)

    def _follow_up(self, prompt: Prompt, answer: str, grade: Grade) -> FollowUp | None:
        """One follow-up after a partial answer to a main question, about the most important missed point."""
        partial = 1.0 <= grade.score < FOLLOW_UP_BELOW
        if prompt.kind != "question" or not partial or not grade.key_points_missed:
            return None
        missed = tuple(grade.key_points_missed[:2])
        text = self.grading.follow_up(grade, prompt.question, answer, missed)
        question = self.index.by_id.get(prompt.question_id or "")
        if not text and question is not None:
            text = question.probe_for(missed[0])  # the author's probe asks for the point without giving it away
        if not text:
            template = "followup_offline_star" if question and question.is_behavioral else "followup_offline"
            text = render(self.settings.prompts_dir, template, point=missed[0].rstrip("."))
        return FollowUp(text, prompt.topic, prompt.question_id, missed)

    def answer(self, prompt: Prompt, answer: str, spoken: SpokenAnswer | None = None) -> Outcome:
        """Grade and record an answer to the prompt; the turn is committed before this returns.

        What is stored is what was graded: the cleaned answer, cut to the grading limit (the grade is then flagged
        `truncated`). Sending the same answer for the same prompt again changes nothing (`saved` is False); an
        answer to a prompt the round has moved past raises StaleAnswerError and is neither graded nor saved.
        A spoken answer (its transcript, as corrected, is `answer`) is graded the same way; its delivery figures
        and, unless the settings say otherwise, its recording are kept with the turn.
        """
        record = self.round(prompt.round_id)
        cleaned = clean_answer(answer)
        text = cleaned.text
        done = next((turn for turn in record.turns if turn.position == prompt.position), None)
        if done is not None and done.answer == text:
            return Outcome(done, False, self._asking(record))
        self._check_current(prompt, record)
        grade = self.grading.grade(prompt.question, text, self.reference_for(prompt, record))
        if cleaned.truncated and "truncated" not in grade.flags:
            grade = grade.model_copy(update={"flags": [*grade.flags, "truncated"]})
        turn = _turn(prompt, text, grade)
        follow_up = self._follow_up(prompt, text, grade)
        if spoken is None:
            return self._record(turn, follow_up)
        recordings = self.settings.recordings_dir
        kept = None
        if self.settings.keep_recordings:
            kept = save_recording(recordings, prompt.round_id, prompt.position, spoken.audio, spoken.suffix)
        try:
            return self._record(replace(turn, recording=kept, delivery=spoken.delivery), follow_up)
        except InterviewerError:
            discard_recording(recordings, kept)  # the turn was not saved, so neither is its recording
            raise

    def skip(self, prompt: Prompt) -> Outcome:
        """Record a skipped question and move on; StaleAnswerError when the round has moved past it."""
        self._check_current(prompt, self.round(prompt.round_id))
        return self._record(_turn(prompt, None, None), None)

    def _check_current(self, prompt: Prompt, record: RoundRecord) -> None:
        """StaleAnswerError unless the prompt is what the round asks now (another tab may have moved it on)."""
        current = self._next_prompt(record)
        if current is None or (current.position, current.kind) != (prompt.position, prompt.kind):
            raise StaleAnswerError(_stale_message(record, current))

    def _record(self, turn: Turn, follow_up: FollowUp | None) -> Outcome:
        """Commit the turn; a position saved meanwhile by another session is not overwritten."""
        if not self.store.add_turn(turn, follow_up, owner=self.owner):
            record = self.round(turn.round_id)
            raise StaleAnswerError(_stale_message(record, self._next_prompt(record)))
        return Outcome(turn, True, self._asking(self.round(turn.round_id)))

    def end(self, round_id: str) -> Summary:
        """Close the round and report on it."""
        self.store.end_round(round_id, owner=self.owner)
        return self.summary(round_id)

    def summary(self, round_id: str) -> Summary:
        """Score per topic, the key points missed most often, the questions worth retrying."""
        record = self.round(round_id)
        graded = record.graded_turns
        by_topic: dict[str, list[float]] = defaultdict(list)
        missed: Counter[str] = Counter()
        for turn in graded:
            assert turn.grade is not None
            by_topic[turn.topic].append(turn.grade.score)
            missed.update(turn.grade.key_points_missed)
        retry = [t for t in graded if t.kind == "question" and t.grade and t.grade.score < WEAK_BELOW]
        retry += [t for t in record.turns if t.skipped and t.kind == "question"]
        return Summary(
            round_id=round_id,
            average=record.average_score,
            by_topic=[TopicScore(topic, sum(s) / len(s), len(s)) for topic, s in by_topic.items()],
            weakest_key_points=missed.most_common(5),
            retry=retry,
            skipped=sum(1 for turn in record.turns if turn.skipped),
            answered=len(graded),
        )

    def hint(self, question_id: str) -> str:
        """A nudge for practice mode: which areas a strong answer touches, without the answer itself."""
        question = self.index.by_id[question_id]
        if not question.key_points:
            return "Think about what the component does, why it matters at inference time, and a trade-off."
        return "A strong answer touches on: " + "; ".join(_subject(point) for point in question.key_points[:3]) + "."


def _subject(point: str) -> str:
    """What a key point is about, without what it says: up to its first colon, semicolon or comma, or its opening
    HINT_WORDS words ("Latency and tail-latency SLOs: address them with ..." gives "Latency and tail-latency SLOs")."""
    head = re.split(r"[:;,(]", point, maxsplit=1)[0].strip()
    words = head.split()
    return head if len(words) <= HINT_WORDS else " ".join(words[:HINT_WORDS]) + " ..."


def _difficulty(question: Question) -> int:
    """A question's place in a ramp-up round: junior first, staff last, questions without a level in the middle."""
    return LEVELS.index(question.level) if question.level in LEVELS else len(LEVELS) // 2


def _turn(prompt: Prompt, answer: str | None, grade: Grade | None) -> Turn:
    """The turn that answers (or, without an answer, skips) a prompt."""
    return Turn(
        prompt.round_id,
        prompt.position,
        prompt.kind,
        prompt.question_id,
        prompt.topic,
        prompt.question,
        answer,
        answer is None,
        grade,
        _now(),
    )


def _stale_message(record: RoundRecord, current: Prompt | None) -> str:
    """Why an answer was not taken, and what the round asks now."""
    if record.ended_at or current is None:
        return "This round has ended (in another tab or window), so the answer was not saved."
    return (
        "This question was already answered in another tab or window, so the answer was not saved. "
        f"The round has moved on to {'a follow-up' if current.kind == 'follow_up' else f'question {current.number}'}."
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
