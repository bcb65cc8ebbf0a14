"""What the pages share: the cached runtime, session-state keys, and how a turn and a grade are drawn.

Text the app did not write is untrusted: the candidate's answer, and everything an LLM wrote (feedback, the key
points it lists, the model answer, a follow-up question, a connection test's reply), and the notices that quote
them. All of it is shown with `st.text` (`show_untrusted_text`), which parses no Markdown or HTML, so nothing in it
can turn into a link, an image or markup on the page; only the labels around it, which we write, are Markdown.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from app_pages.people import current_person
from interviewer.circuit import CircuitBreaker
from interviewer.disclosure import Disclosure, disclosure_for
from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.errors import InterviewerError
from interviewer.export import key_point_sections, markdown_text
from interviewer.grade import Grade
from interviewer.models import Turn
from interviewer.people import Person
from interviewer.runtime import Runtime, build_runtime
from interviewer.settings import Settings, load_settings
from interviewer.speech.recordings import recording_path
from interviewer.uploads import Indexer

# Session-state keys, named once.
ROUND_ID = "interview_round_id"
UNSAVED = "interview_unsaved_answers"
QUEUED = "interview_queued_answers"
RETURNED = "interview_returned_answers"
SHOWN = "interview_shown_prompt"
ANSWER_BOX = "interview_answer_box"
FLASH = "interview_flash"
REVEALED = "interview_revealed"
HINTS = "interview_hints"
VOICE_DRAFT = "interview_voice_draft"
CONFIRM_DELETE = "review_confirm_delete"
SAVED_FLASH = "settings_saved"
UPLOAD_JOB = "knowledge_upload_job"

KEY_POINT_MARKS = {"Covered": "✓", "Stated falsely": "✗", "Missed": "○"}

CRITERIA = {
    "correctness": "Correctness",
    "completeness": "Completeness",
    "depth": "Depth and examples",
    "communication": "Communication",
}


@st.cache_resource(show_spinner=False)
def _shared_embedder(model: str) -> SentenceTransformerEmbedder:
    """One embedding model per process: a new API key or grader mode must not load (and hold) a second copy."""
    return SentenceTransformerEmbedder(model)


@st.cache_resource(show_spinner=False)
def _shared_breaker() -> CircuitBreaker:
    """One circuit breaker per process: every session and runtime learns at once that an endpoint is down."""
    return CircuitBreaker()


@st.cache_resource(show_spinner="Opening the knowledge base...")
def _cached_runtime(settings_key: str, _settings: Settings) -> Runtime:  # noqa: ARG001 - the cache key
    """One runtime per distinct settings per process; Streamlit hashes only `settings_key`.

    The model is loaded here only when the index must be rebuilt; otherwise `start_loading_model` loads it.
    """
    return build_runtime(
        _settings, warm=False, embedder=_shared_embedder(_settings.embedding_model), breaker=_shared_breaker()
    )


def reset_runtime() -> None:
    """Forget the runtimes (the knowledge base changed); the loaded model is kept."""
    _cached_runtime.clear()


@st.cache_resource(show_spinner=False)
def _indexer(bank_key: str, _settings: Settings) -> Indexer:  # noqa: ARG001 - the cache key
    """One indexer per bank in the process, so uploads to it are indexed one at a time."""
    return Indexer(_settings, on_indexed=reset_runtime)


def upload_indexer(settings: Settings) -> Indexer:
    """The indexer of the settings' bank; when it has indexed an upload, every page gets the new runtime."""
    return _indexer(f"{settings.home}|{settings.knowledge_dir}|{settings.embedding_model}", settings)


def start_loading_model(runtime: Runtime) -> None:
    """Called at the end of the pages that use the model: the first page is drawn before torch is imported."""
    runtime.load_models_in_background()


def current_settings() -> Settings:
    """Settings as they stand now (the Settings page may have changed the file)."""
    return load_settings()


def settings_key(settings: Settings) -> str:
    """Settings as a cache key; the secrets' hash stands in for the key and database URL, which the JSON masks."""
    secrets = [secret.get_secret_value() if secret else "" for secret in (settings.llm_api_key, settings.database_url)]
    return settings.model_dump_json() + hashlib.sha256("\0".join(secrets).encode()).hexdigest()


def get_runtime() -> Runtime:
    """The process-wide runtime for the current settings; stops the page with a message if it cannot start."""
    try:
        settings = current_settings()
        return _cached_runtime(settings_key(settings), settings)
    except InterviewerError as error:
        st.error(str(error))
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def viewer() -> Person:
    """The person this page is for; app.py has already asked anyone not signed in to sign in."""
    person = current_person(current_settings())
    if person is None:
        st.stop()
    return person


def disclosure(runtime: Runtime) -> Disclosure:
    """What of the LLM endpoint the person at this page may read (everything for an admin)."""
    return disclosure_for(viewer(), runtime.settings)


def show_grader_status(runtime: Runtime) -> None:
    """While the LLM endpoint rests after a timeout or refusal: say so, with a button to try it again."""
    outage = runtime.grading.outage()
    if outage is None:
        return
    text = outage.describe()
    st.warning(text[0].upper() + text[1:] + ".", icon=":material/cloud_off:")
    if st.button("Try the endpoint again", key="grader_try_again"):
        runtime.grading.try_again()
        st.rerun()


def show_untrusted_text(text: str) -> None:
    """Text the app did not write, shown inert: never parsed as Markdown or HTML."""
    st.text(text)


def show_question(kind: str, text: str) -> None:
    """A question as asked: a bank question is the project's own Markdown, a follow-up may be an LLM's words."""
    if kind == "follow_up":
        show_untrusted_text(text)
    else:
        st.markdown(text)


def show_grade(grade: Grade) -> None:
    """The grade card: overall score, per-criterion bars, key points, feedback, the model answer."""
    if grade.notice:  # it may quote an endpoint's error or a setting, so its words are shown inert
        with st.container(border=True):
            st.markdown(":orange[:material/warning:] **About this grade**")
            show_untrusted_text(grade.notice)
    left, right = st.columns([1, 2])
    left.metric("Score", f"{grade.score:.1f} / 5")
    with right:
        for name, label in CRITERIA.items():
            value = float(getattr(grade.criteria, name))
            st.progress(value / 5, text=f"{label}: {value:.1f}")
    if grade.flags:
        st.caption("Flags: " + ", ".join(grade.flag_labels))
    for heading, points in key_point_sections(grade):
        st.markdown(f"**{heading}**")
        for point in points:
            show_untrusted_text(f"{KEY_POINT_MARKS[heading]} {point}")
    if grade.figures:
        st.markdown("**Figures**")
        for check in grade.figures:
            icon = {"right": "check_circle", "wrong": "cancel", "missing": "help"}[check.verdict]
            st.markdown(f"- :material/{icon}: {markdown_text(check.describe())}")
        if grade.figures[0].working:
            st.caption("Working: " + markdown_text(grade.figures[0].working))
    st.markdown("**What was good:**")
    show_untrusted_text(grade.strengths)
    st.markdown("**What to add:**")
    show_untrusted_text(grade.improvements)
    with st.expander("Model answer"):
        show_untrusted_text(grade.model_answer)
    show_untrusted_text(  # the grader's name holds the model name, a setting anyone who reaches the page may type
        f"Graded by {grade.grader}"
        + (f" against {', '.join(grade.reference.sources)}" if grade.reference.sources else "")
    )


def show_turn(turn: Turn, with_grade: bool = True, recordings: Path | None = None) -> None:
    """One question, the answer (with its recording, when spoken and kept) and, optionally, its grade and delivery."""
    label = "Follow-up" if turn.kind == "follow_up" else turn.topic
    with st.chat_message("assistant", avatar=":material/record_voice_over:"):
        st.markdown(f"**{label}**")
        show_question(turn.kind, turn.question)
    with st.chat_message("user"):
        if turn.skipped:
            st.caption("Skipped")
        else:
            show_untrusted_text(turn.answer or "")
        if recordings is not None and (path := recording_path(recordings, turn.recording)) is not None:
            st.audio(path.read_bytes(), format=f"audio/{path.suffix.lstrip('.')}")
    if with_grade and turn.grade is not None:
        with st.chat_message("assistant", avatar=":material/grading:"):
            show_grade(turn.grade)
            if turn.delivery is not None:
                st.markdown(f"**Delivery** (spoken; not part of the score): {turn.delivery.summary()}")
