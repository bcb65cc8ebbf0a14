"""Interview page: start a round, answer in the chat (typed, or spoken and corrected), see each grade, get
follow-ups, finish with a summary.

The transcript on screen is read back from the store on every rerun; the session remembers only which round it
runs, which question it last showed, and answers not yet taken. Every answer carries the question it was written
for: if the round has moved on meanwhile (another tab answered, skipped or ended it), the answer is not saved and
goes back into the box with a notice, so several tabs never mix and nothing typed is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from app_pages.common import (
    ANSWER_BOX,
    FLASH,
    HINTS,
    QUEUED,
    RETURNED,
    REVEALED,
    ROUND_ID,
    SHOWN,
    UNSAVED,
    VOICE_DRAFT,
    disclosure,
    get_runtime,
    show_grader_status,
    show_question,
    show_turn,
    show_untrusted_text,
    start_loading_model,
    viewer,
)
from app_pages.speaking import VoiceDraft, answer_aloud, read_aloud
from interviewer.answers import MAX_ANSWER_CHARS, clean_answer
from interviewer.engine import MAX_FOCUS_CHARS, FocusMatch, Prompt, RoundOptions, Summary
from interviewer.errors import InterviewerError, RoundNotFoundError, StaleAnswerError, StoreError
from interviewer.knowledge import LEVELS
from interviewer.models import RoundRecord, SpokenAnswer
from interviewer.wording import counted

runtime = get_runtime()
interviewer = runtime.interviewer.for_owner(viewer().owner)  # this person's rounds, and only theirs
shown_to = disclosure(runtime)
st.title("Interview")
PENDING_FOCUS = "interview_pending_focus"  # a focus round waiting for the person's choice: options and matches


@dataclass(frozen=True)
class Submission:
    """An answer as sent, with the question the page showed when it was written (None: no question shown), and
    the recording it was transcribed from when it was spoken."""

    text: str
    prompt: Prompt | None
    spoken: SpokenAnswer | None = None


def queue_answer() -> None:
    """The answer box's callback: take the answer before anything else runs, so no rerun can drop it.

    The answer sent after a recording was transcribed for the same question is that recording's (as corrected)."""
    text = st.session_state.get(ANSWER_BOX)
    if text is not None:
        shown: Prompt | None = st.session_state.get(SHOWN)
        draft: VoiceDraft | None = st.session_state.get(VOICE_DRAFT)
        spoken = draft.spoken(shown.position) if draft and shown else None
        st.session_state.setdefault(QUEUED, []).append(Submission(text, shown, spoken))


def back_to_start(notice: str) -> None:
    """Leave the round (deleted or ended elsewhere) for the start form, keeping any answer not taken."""
    for key in (ROUND_ID, SHOWN):
        st.session_state.pop(key, None)
    st.session_state[FLASH] = (notice, answers_not_taken())
    st.rerun()


def answers_not_taken() -> list[str]:
    """Every answer sent but neither saved nor yet shown back, oldest first, leaving none behind in the session."""
    returned = [text for text, _ in st.session_state.pop(RETURNED, [])]
    queued = [submission.text for submission in st.session_state.pop(QUEUED, [])]
    return [text for text in returned + queued if text.strip()]


def show_not_saved(texts: list[str]) -> None:
    """Answers the round could not take, shown back to copy."""
    for text in texts:
        with st.chat_message("user"):
            show_untrusted_text(text)
        st.caption("This answer was not saved: copy it if you want to keep it.")


def show_flash() -> None:
    """A notice left by the previous run, with the answers it could not take shown back to copy."""
    notice, kept = st.session_state.pop(FLASH, (None, []))
    if notice:
        st.warning(notice, icon=":material/info:")
    show_not_saved(kept)


def start_form() -> None:
    """Choose a round: topics or a free-text focus, levels, how many questions, practice or mock."""
    show_flash()
    if PENDING_FOCUS in st.session_state:
        confirm_focus(*st.session_state[PENDING_FOCUS])
        return
    for record in interviewer.unfinished_rounds(limit=3):
        if st.button(
            f"Resume round {record.id} ({record.turns} answered, started {record.started_at[:16].replace('T', ' ')})",
            key=f"resume-{record.id}",
        ):
            st.session_state[ROUND_ID] = record.id
            st.rerun()
    with st.form("start"):
        topics = st.multiselect("Topics", interviewer.topics(), placeholder="All topics", key="start_topics")
        focus = st.text_input(
            "Or a focus, in your own words",
            placeholder="e.g. quantization",
            max_chars=MAX_FOCUS_CHARS,
            key="start_focus",
        )
        levels = st.multiselect("Levels", LEVELS, placeholder="All levels", key="start_levels")
        count = st.slider("Questions", 1, 15, 5, key="start_count")
        mode = st.radio(
            "Mode",
            ["practice", "mock"],
            horizontal=True,
            captions=["Grades, hints and model answers as you go", "No help until the end, like the real thing"],
            key="start_mode",
        )
        ramp = st.checkbox("Ramp up: easier questions first, harder ones later", key="start_ramp")
        retry_weak = st.checkbox("Prefer questions I scored low on", key="start_retry_weak")
        submitted = st.form_submit_button("Start the round", type="primary", key="start_submit")
    st.caption(f"Grader: {shown_to.text(runtime.grading.describe())}")
    if submitted:
        try:
            options = RoundOptions(tuple(topics), focus or None, count, mode, retry_weak, tuple(levels), ramp)
            if options.focus and options.focus.strip():
                with st.spinner("Finding the questions about your focus (the first time also waits for the model)..."):
                    match = interviewer.match_focus(options)
                if match.shortfall(count):
                    st.session_state[PENDING_FOCUS] = (options, match)
                    st.rerun()
            start_round(options)
        except InterviewerError as error:
            st.error(str(error))


def start_round(options: RoundOptions) -> None:
    """Plan the round, make it the page's round and show its first question."""
    with st.spinner("Choosing questions (the first round after a start also waits for the model)..."):
        st.session_state[ROUND_ID] = interviewer.start(options)
    st.session_state.pop(PENDING_FOCUS, None)
    st.rerun()


def confirm_focus(options: RoundOptions, match: FocusMatch) -> None:
    """Before a focus round the bank cannot fill: say how many questions match and offer the closest topic."""
    st.warning(match.shortfall(options.count), icon=":material/info:")
    columns = st.columns(3)
    try:
        found = len(match.questions)
        if found and columns[0].button(f"Start with {counted(found, 'question')}", type="primary", key="focus_accept"):
            start_round(options)
        if match.closest_topic and columns[1].button(f"A round on {match.closest_topic}", key="focus_topic"):
            start_round(replace(options, focus=None, topics=(match.closest_topic,)))
    except InterviewerError as error:
        st.error(str(error))
    if columns[2].button("Change the round", key="focus_back"):
        st.session_state.pop(PENDING_FOCUS, None)
        st.rerun()


def show_summary(summary: Summary) -> None:
    """The end-of-round report."""
    st.subheader("Round summary")
    average = f"{summary.average:.1f} / 5" if summary.average is not None else "–"
    cols = st.columns(3)
    cols[0].metric("Average", average)
    cols[1].metric("Graded answers", summary.answered)
    cols[2].metric("Skipped", summary.skipped)
    for topic in summary.by_topic:
        st.progress(topic.average / 5, text=f"{topic.topic}: {topic.average:.1f} over {topic.answered}")
    if summary.weakest_key_points:
        st.markdown("**Key points to work on**")
        for point, count in summary.weakest_key_points:
            st.markdown(f"- {point}" + (f" (missed {count}×)" if count > 1 else ""))
    if summary.retry:
        st.markdown("**Worth retrying**")
        for turn in summary.retry:
            st.markdown(f"- {turn.question}")
    if st.button("Start a new round", type="primary"):
        del st.session_state[ROUND_ID]
        st.rerun()


def refuse(text: str, notice: str) -> None:
    """An answer the round cannot take: it goes back to the person, with why, when the answer box is next drawn.

    Kept in the session rather than written into the box at once, so a rerun or a second refusal in the same run
    (a burst of answers sent for a question already answered) cannot overwrite or drop it.
    """
    st.session_state.setdefault(RETURNED, []).append((text, notice))


def give_back_refused() -> None:
    """Put the refused answers back into the answer box, oldest first, as many as fit; show the rest to copy."""
    returned: list[tuple[str, str]] = st.session_state.pop(RETURNED, [])
    if not returned:
        return
    boxed, shown, size = [], [], 0
    for text, _ in returned:
        size += len(text) + 2
        (boxed if size <= MAX_ANSWER_CHARS or not boxed else shown).append(text)
    st.session_state[ANSWER_BOX] = "\n\n".join(boxed)
    for notice in dict.fromkeys(notice for _, notice in returned):
        st.warning(f"{notice} Your text is back in the answer box.", icon=":material/info:")
    show_not_saved(shown)


def save_answer(prompt: Prompt, answer: str, spoken: SpokenAnswer | None = None) -> bool:
    """Show the answer at once, grade and store it: True when saved; else the answer stays on screen with why."""
    with st.chat_message("user"):
        show_untrusted_text(answer)
    try:
        with st.spinner("Grading..."):
            interviewer.answer(prompt, answer, spoken)
    except StaleAnswerError as error:
        refuse(answer, str(error))
        return False
    except InterviewerError as error:  # the store, the model or the question failed: the answer stays on screen
        st.session_state.setdefault(UNSAVED, {})[prompt.position] = Submission(answer, prompt, spoken)
        kept = "Your answer and its recording are" if spoken else "Your answer is"
        st.error(f"{error} {kept} kept in this session: save it once that is fixed.")
        return False
    st.session_state.get(UNSAVED, {}).pop(prompt.position, None)
    return True


def already_taken(record: RoundRecord, submission: Submission) -> bool:
    """The answer is in the transcript already (a rerun interrupted this page after it was saved)."""
    if submission.prompt is None:
        return False
    text = clean_answer(submission.text).text
    return any(turn.position == submission.prompt.position and turn.answer == text for turn in record.turns)


def take_answers(record: RoundRecord, prompt: Prompt) -> None:
    """Grade the oldest answer sent for this question; answers written for another question go back to the box.

    An answer leaves the queue only once it is decided (saved, refused or shown back), so a rerun that interrupts
    this run finds it again; grading the same answer twice saves it once.
    """
    queued: list[Submission] = st.session_state.get(QUEUED, [])
    while queued:
        submission = queued[0]
        current = submission.prompt is None or (submission.prompt.round_id, submission.prompt.position) == (
            prompt.round_id,
            prompt.position,
        )
        if not submission.text.strip():
            queued.pop(0)
            st.warning("That answer is empty. Type your answer, or skip the question.")
        elif already_taken(record, submission):
            queued.pop(0)
        elif not current:
            queued.pop(0)
            refuse(
                submission.text,
                "That answer was written for a question this round has moved past (answered in another tab or "
                "window), so it was not saved. The current question is above.",
            )
        else:
            saved = save_answer(prompt, submission.text, submission.spoken)
            queued.pop(0)
            if saved:
                st.rerun()
            return


def practice_help(prompt: Prompt) -> None:
    """Hint and model-answer reveal, allowed in practice mode only."""
    if prompt.question_id is None:
        return
    hints, revealed = st.session_state.setdefault(HINTS, set()), st.session_state.setdefault(REVEALED, set())
    left, right = st.columns(2)
    if left.button("Hint", key=f"hint-{prompt.position}"):
        hints.add(prompt.position)
    if right.button("Show the model answer", key=f"reveal-{prompt.position}"):
        revealed.add(prompt.position)
    if prompt.position in hints:
        st.info(interviewer.hint(prompt.question_id))
    if prompt.position in revealed:
        with st.expander("Model answer", expanded=True):
            st.markdown(interviewer.index.by_id[prompt.question_id].reference_answer)


def load(round_id: str) -> tuple[RoundRecord, Prompt | None] | None:
    """The round and what it asks now; None (after saying so) when the store cannot be read."""
    try:
        return shown_to.round(interviewer.round(round_id)), interviewer.next_prompt(round_id)
    except RoundNotFoundError:
        back_to_start("That round was deleted (on the Review page or in another tab or window).")
    except StoreError as error:
        st.error(str(error))
        for submission in st.session_state.get(QUEUED, []):  # answers sent as the store became unreadable
            with st.chat_message("user"):
                show_untrusted_text(submission.text)
        st.warning("The transcript store cannot be read, so no answer was saved: copy it before reloading.")
    return None


def run_round(round_id: str) -> None:
    """Replay the transcript, ask the next question, take the answer."""
    loaded = load(round_id)
    if loaded is None:
        return
    record, prompt = loaded
    shown: Prompt | None = st.session_state.get(SHOWN)
    if record.ended_at and shown is not None:
        back_to_start("That round was ended in another tab or window.")
    practice = record.mode == "practice"
    st.caption(
        f"Round {record.id} · {record.mode} · "
        + (f"question {prompt.number} of {prompt.total}" if prompt else "finished")
        + f" · graded by {shown_to.text(runtime.grading.describe())}"
    )
    show_grader_status(runtime)
    if prompt is None:  # the summary first, then the whole transcript with every grade
        st.session_state.pop(SHOWN, None)
        queued = st.session_state.get(QUEUED, [])
        queued[:] = [submission for submission in queued if not already_taken(record, submission)]
        if late := answers_not_taken():
            st.warning("The round ended before these answers were taken, so they were not saved.")
            show_not_saved(late)
        show_summary(interviewer.end(round_id) if not record.ended_at else interviewer.summary(round_id))
        st.subheader("Transcript")
    for turn in record.turns:
        show_turn(turn, with_grade=practice or prompt is None, recordings=runtime.settings.recordings_dir)
    if prompt is None:
        return
    with st.chat_message("assistant", avatar=":material/record_voice_over:"):
        st.markdown(f"**{'Follow-up' if prompt.kind == 'follow_up' else prompt.topic}**")
        show_question(prompt.kind, prompt.question)
        read_aloud(runtime, prompt)
        if practice:
            practice_help(prompt)
    take_answers(record, prompt)
    st.session_state[SHOWN] = prompt
    unsaved: Submission | None = st.session_state.get(UNSAVED, {}).get(prompt.position)
    if unsaved is not None:
        with st.chat_message("user"):
            show_untrusted_text(unsaved.text)
        st.warning("This answer is not saved yet" + (" (its recording is kept with it)." if unsaved.spoken else "."))
        if st.button("Save it now", type="primary") and save_answer(prompt, unsaved.text, unsaved.spoken):
            st.rerun()
    left, right = st.columns(2)
    if left.button("Skip this question", key="skip_question"):
        try:
            interviewer.skip(prompt)
        except StaleAnswerError as error:
            st.warning(str(error))
        else:
            st.rerun()
    if right.button("End the round", key="end_round"):
        interviewer.end(round_id)
        st.session_state.pop(SHOWN, None)
        st.rerun()
    answer_aloud(runtime, prompt)
    st.caption(f"Answers up to {MAX_ANSWER_CHARS:,} characters.")
    give_back_refused()
    st.chat_input(
        "Your answer", key=ANSWER_BOX, max_chars=MAX_ANSWER_CHARS, submit_mode="disable", on_submit=queue_answer
    )


try:
    if (active := st.session_state.get(ROUND_ID)) is None:
        start_form()
    else:
        run_round(active)
except StoreError as error:  # a skip, an end or a listing the store refused: say so rather than a traceback
    st.error(str(error))
start_loading_model(runtime)
