"""Interview page: start a round, answer in the chat, see each grade, get follow-ups, finish with a summary.

The transcript on screen is read back from the store on every rerun; the session only remembers which round it
is running (and answers that could not be saved yet), so several tabs never mix and a reload loses nothing.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    HINTS,
    REVEALED,
    ROUND_ID,
    UNSAVED,
    get_runtime,
    show_candidate_text,
    show_turn,
    start_loading_model,
)
from interviewer.engine import Prompt, RoundOptions, Summary
from interviewer.errors import InterviewerError, StoreError

runtime = get_runtime()
interviewer = runtime.interviewer
st.title("Interview")


def start_form() -> None:
    """Choose a round: topics or a free-text focus, how many questions, practice or mock."""
    for record in runtime.store.unfinished_rounds(limit=3):
        if st.button(
            f"Resume round {record.id} ({record.turns} answered, started {record.started_at})",
            key=f"resume-{record.id}",
        ):
            st.session_state[ROUND_ID] = record.id
            st.rerun()
    with st.form("start"):
        topics = st.multiselect("Topics", interviewer.topics(), placeholder="All topics", key="start_topics")
        focus = st.text_input("Or a focus, in your own words", placeholder="e.g. quantization", key="start_focus")
        count = st.slider("Questions", 1, 15, 5, key="start_count")
        mode = st.radio(
            "Mode",
            ["practice", "mock"],
            horizontal=True,
            captions=["Grades, hints and model answers as you go", "No help until the end, like the real thing"],
            key="start_mode",
        )
        retry_weak = st.checkbox("Prefer questions I scored low on", key="start_retry_weak")
        submitted = st.form_submit_button("Start the round", type="primary", key="start_submit")
    st.caption(f"Grader: {runtime.grading.describe()}")
    if submitted:
        options = RoundOptions(tuple(topics), focus or None, count, mode, retry_weak)
        try:
            with st.spinner("Choosing questions (the first round after a start also waits for the model)..."):
                st.session_state[ROUND_ID] = interviewer.start(options)
        except InterviewerError as error:
            st.error(str(error))
            return
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


def save_answer(prompt: Prompt, answer: str) -> None:
    """Grade and store an answer; if the store fails, keep the answer in the session to retry."""
    try:
        with st.spinner("Grading..."):
            interviewer.answer(prompt, answer)
    except InterviewerError as error:  # the store, the model or the question failed: the answer stays on screen
        st.session_state.setdefault(UNSAVED, {})[prompt.position] = answer
        st.error(f"{error} Your answer is kept in this session: save it once that is fixed.")
        return
    st.session_state.get(UNSAVED, {}).pop(prompt.position, None)
    st.rerun()


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


def run_round(round_id: str) -> None:
    """Replay the transcript, ask the next question, take the answer."""
    try:
        record = runtime.store.get_round(round_id)
        prompt = interviewer.next_prompt(round_id)
    except StoreError as error:
        st.error(str(error))
        if typed := st.chat_input("Your answer"):  # an answer sent as the store became unreadable is shown back
            show_candidate_text(typed)
            st.warning("The transcript store cannot be read, so this answer was not saved: copy it before reloading.")
        return
    practice = record.mode == "practice"
    st.caption(
        f"Round {record.id} · {record.mode} · "
        + (f"question {prompt.number} of {prompt.total}" if prompt else "finished")
        + f" · graded by {runtime.grading.describe()}"
    )
    if prompt is None:  # the summary first, then the whole transcript with every grade
        show_summary(interviewer.end(round_id) if not record.ended_at else interviewer.summary(round_id))
        st.subheader("Transcript")
    for turn in record.turns:
        show_turn(turn, with_grade=practice or prompt is None)
    if prompt is None:
        return
    with st.chat_message("assistant", avatar=":material/record_voice_over:"):
        st.markdown(f"**{'Follow-up' if prompt.kind == 'follow_up' else prompt.topic}**")
        st.markdown(prompt.question)
        if practice:
            practice_help(prompt)
    typed = st.chat_input("Your answer")
    if typed is not None:  # before the unsaved answer is drawn, so a refused answer shows with its button at once
        if not typed.strip():
            st.warning("That answer is empty. Type your answer, or skip the question.")
        else:
            save_answer(prompt, typed)
    unsaved = st.session_state.get(UNSAVED, {}).get(prompt.position)
    if unsaved is not None:
        with st.chat_message("user"):
            show_candidate_text(unsaved)
        st.warning("This answer is not saved yet.")
        if st.button("Save it now", type="primary"):
            save_answer(prompt, unsaved)
    left, right = st.columns(2)
    if left.button("Skip this question", key="skip_question"):
        interviewer.skip(prompt)
        st.rerun()
    if right.button("End the round", key="end_round"):
        interviewer.end(round_id)
        st.rerun()


try:
    if (active := st.session_state.get(ROUND_ID)) is None:
        start_form()
    else:
        run_round(active)
except StoreError as error:  # a skip, an end or a listing the store refused: say so rather than a traceback
    st.error(str(error))
start_loading_model(runtime)
