"""Review page: past rounds newest first, scores over time and per topic, transcripts, export and delete."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.common import CONFIRM_DELETE, disclosure, get_runtime, show_turn, viewer
from interviewer.export import round_json, round_markdown
from interviewer.knowledge import LEVELS
from interviewer.models import RoundRecord
from interviewer.wording import counted

CHART_HEIGHT = 240

runtime = get_runtime()
interviewer = runtime.interviewer.for_owner(viewer().owner)  # this person's rounds, and only theirs
shown_to = disclosure(runtime)
st.title("Review")

all_rounds = interviewer.rounds()
if not all_rounds:
    st.info("No rounds yet. Start one on the Interview page; every answer is saved as you go.")
    st.stop()

topics = sorted({turn.topic for record in all_rounds for turn in record.turns})
topic = st.selectbox("Topic", ["All topics", *topics])
rounds = [shown_to.round(record) for record in interviewer.rounds(None if topic == "All topics" else topic)]


NO_LEVEL = "no level"


def score_rows(records: list[RoundRecord]) -> pd.DataFrame:
    """One row per graded answer: when, topic, level, score, round and its place in time (for the chosen topic).

    The level is the bank question's as it is now: a question gone from the bank, or never given one, has none.
    """
    bank = runtime.report.index.by_id
    rows = [
        {
            "time": turn.created_at,
            "topic": turn.topic,
            "level": getattr(bank.get(turn.question_id or ""), "level", None) or NO_LEVEL,
            "score": turn.grade.score,
            "round": record.id,
            "order": order,
        }
        for order, record in enumerate(reversed(records), start=1)  # the store lists newest first
        for turn in record.graded_turns
        if turn.grade and (topic == "All topics" or turn.topic == topic)
    ]
    frame = pd.DataFrame(rows, columns=["time", "topic", "level", "score", "round", "order"])
    frame["time"] = pd.to_datetime(frame["time"])
    return frame


scores = score_rows(rounds)
if not scores.empty:
    left, right = st.columns(2)
    with left:
        st.markdown("**Scores over time**")
        over_time = (
            scores.groupby("round", as_index=False)
            .agg(time=("time", "min"), score=("score", "mean"), order=("order", "first"))
            .sort_values("order")
        )
        # Rounds in the order taken, not on a clock: a day's rounds would stack on one tick of a time axis.
        over_time["number"] = range(1, len(over_time) + 1)
        st.altair_chart(
            alt.Chart(over_time, height=CHART_HEIGHT)
            .mark_line(point=True)
            .encode(
                x=alt.X("number:O", title="Round, oldest first", axis=alt.Axis(labelAngle=0)),
                y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 5]), title="Average score"),
                tooltip=[
                    alt.Tooltip("time:T", title="started", format="%b %d %H:%M"),
                    "round",
                    alt.Tooltip("score:Q", format=".1f"),
                ],
            ),
            width="stretch",
        )
    with right:
        st.markdown("**Average score per topic**")
        per_topic = scores.groupby("topic", as_index=False).agg(score=("score", "mean"), answers=("score", "size"))
        st.altair_chart(
            alt.Chart(per_topic, height=alt.Step(32))  # one band per topic, whatever their number
            .mark_bar()
            .encode(
                x=alt.X("score:Q", scale=alt.Scale(domain=[0, 5]), title="Average score"),
                y=alt.Y("topic:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
                tooltip=["topic", alt.Tooltip("score:Q", format=".1f"), "answers"],
            ),
            width="stretch",
        )
    st.markdown("**Average score per level**")
    per_level = scores.groupby("level", as_index=False).agg(score=("score", "mean"), answers=("score", "size"))
    per_level["order"] = per_level["level"].map(lambda level: (*LEVELS, NO_LEVEL).index(level))
    st.dataframe(
        per_level.sort_values("order")[["level", "score", "answers"]],
        column_config={"score": st.column_config.NumberColumn("average score", format="%.1f")},
        hide_index=True,
    )


def delivery_rows(records: list[RoundRecord]) -> pd.DataFrame:
    """One row per spoken answer, oldest first: its pace and its fillers per minute of speaking."""
    spoken = [
        (turn.created_at, turn.delivery)
        for record in reversed(records)  # the store lists newest first
        for turn in record.turns
        if turn.delivery is not None and (topic == "All topics" or turn.topic == topic)
    ]
    rows = [
        {
            "answer": number,
            "time": when,
            "words per minute": delivery.words_per_minute,
            "fillers per minute": delivery.filler_words / max(delivery.speaking_s / 60, 1 / 60),
        }
        for number, (when, delivery) in enumerate(spoken, start=1)
    ]
    return pd.DataFrame(rows, columns=["answer", "time", "words per minute", "fillers per minute"])


deliveries = delivery_rows(rounds)
if not deliveries.empty:
    st.markdown("**Delivery of spoken answers over time** (not part of any score)")
    pace, fillers = st.columns(2)
    for column, measure in ((pace, "words per minute"), (fillers, "fillers per minute")):
        column.altair_chart(
            alt.Chart(deliveries, height=CHART_HEIGHT)
            .mark_line(point=True)
            .encode(
                x=alt.X("answer:O", title="Spoken answer, oldest first", axis=alt.Axis(labelAngle=0)),
                y=alt.Y(f"{measure}:Q", title=measure.capitalize()),
                tooltip=[alt.Tooltip("time:T", title="answered", format="%b %d %H:%M"), f"{measure}:Q"],
            ),
            width="stretch",
        )


def label(record: RoundRecord) -> str:
    average = f"{record.average_score:.1f}/5" if record.average_score is not None else "not graded"
    status = "" if record.ended_at else " · unfinished"
    subject = ", ".join(record.topics) or record.focus or "all topics"
    turns = counted(len(record.turns), "turn")
    return f"{record.started_at[:16].replace('T', ' ')} · {subject} · {average} · {turns}{status}"


chosen = st.selectbox("Round", rounds, format_func=label) if rounds else None
if chosen is None:
    st.info(f"No rounds with {topic}.")
    st.stop()

left, middle, right = st.columns(3)
left.download_button("Export Markdown", round_markdown(chosen), file_name=f"round-{chosen.id}.md", mime="text/markdown")
middle.download_button("Export JSON", round_json(chosen), file_name=f"round-{chosen.id}.json", mime="application/json")
if right.button("Delete round"):
    st.session_state[CONFIRM_DELETE] = chosen.id
if st.session_state.get(CONFIRM_DELETE) == chosen.id:
    st.warning("Delete this round, its transcript and its recordings for good?")
    yes, no = st.columns(2)
    if yes.button("Yes, delete it", type="primary"):
        interviewer.delete_round(chosen.id)
        del st.session_state[CONFIRM_DELETE]
        st.rerun()
    if no.button("Keep it"):
        del st.session_state[CONFIRM_DELETE]
        st.rerun()

for turn in chosen.turns:
    show_turn(turn, recordings=runtime.settings.recordings_dir)
