"""Settings page (admins only): grader mode, the LLM endpoint, and whether spoken answers' recordings are kept; the
API key is write-only and never shown back.

A saved key belongs to the endpoint saved with it: saving another endpoint without a key drops the old one.
"""

from __future__ import annotations

import streamlit as st

from app_pages.common import (
    SAVED_FLASH,
    current_settings,
    get_runtime,
    show_grader_status,
    show_untrusted_text,
    viewer,
)
from app_pages.people import require_admin
from interviewer.errors import InterviewerError
from interviewer.llm_grader import LLMGrader, llm_configured
from interviewer.settings import save_settings_file

require_admin(viewer())  # app.py lists this page for admins only; its address alone must not open it either
settings = current_settings()
st.title("Settings")
st.caption(
    f"Saved to {settings.settings_file}. Environment variables (OPENAI_API_KEY, OPENAI_BASE_URL, INTERVIEWER_*) "
    "take precedence over what is saved here."
)

modes = ["auto", "llm", "offline"]
with st.form("settings"):
    grader = st.radio(
        "Grader",
        modes,
        index=modes.index(settings.grader),
        horizontal=True,
        captions=["LLM when configured, else offline", "LLM (offline if it fails)", "Offline only"],
    )
    base_url = st.text_input(
        "Endpoint (OpenAI-compatible base URL)",
        value=settings.llm_base_url or "",
        key="settings_base_url",
        placeholder="empty for OpenAI; http://localhost:11434/v1 for Ollama; http://localhost:8000/v1 for vLLM",
    )
    model = st.text_input("Model", value=settings.llm_model)
    timeout = st.number_input("Timeout (seconds)", min_value=1.0, max_value=600.0, value=float(settings.llm_timeout))
    key_state = "A key is set for this endpoint." if settings.llm_key else "No key is set for this endpoint."
    api_key = st.text_input(
        f"API key ({key_state} Leave empty to keep it; a new endpoint needs its own.)",
        type="password",
        value="",
        key="settings_api_key",
    )
    forget_key = st.checkbox("Forget the saved key")
    keep_recordings = st.checkbox(
        "Keep the recordings of spoken answers",
        value=settings.keep_recordings,
        key="settings_keep_recordings",
        help="Kept with their answers to play back on the Review page, and deleted with their round. When off, "
        "a spoken answer keeps its transcript and delivery figures only.",
    )
    saved = st.form_submit_button("Save", type="primary", key="settings_save")

if saved:
    changes: dict[str, str | float | bool | None] = {
        "grader": grader,
        "llm_base_url": base_url.strip() or None,
        "llm_model": model.strip() or None,
        "llm_timeout": timeout,
        "keep_recordings": keep_recordings,
    }
    if api_key:
        changes["llm_api_key"] = api_key.strip()
    elif forget_key:
        changes["llm_api_key"] = None
    try:
        result = save_settings_file(settings, changes)
    except InterviewerError as error:
        st.error(str(error))
    else:
        st.session_state.pop("settings_api_key", None)  # the typed key must not linger in the page
        message = "Saved. New answers use these settings."
        if result.dropped_key_for:
            message += (
                f" The saved API key was for {result.dropped_key_for}, so it was removed:"
                " enter the key for the new endpoint if it needs one."
            )
        st.session_state[SAVED_FLASH] = message
        st.rerun()

if flash := st.session_state.pop(SAVED_FLASH, None):
    st.success(flash)

if st.button("Test the connection"):
    if not llm_configured(settings):
        st.info("No LLM is configured: answers are graded offline with sentence embeddings.")
    else:
        try:
            with st.spinner(f"Asking the endpoint (at most {settings.llm_timeout:g} s)..."):
                answered = LLMGrader(settings, get_runtime().grading.breaker).check()
        except InterviewerError as error:
            st.error("The endpoint did not work:", icon=":material/error:")
            show_untrusted_text(str(error))
        else:  # the reply is the endpoint's own text: shown inert
            st.success("The endpoint answered:", icon=":material/check:")
            show_untrusted_text(answered)

show_grader_status(get_runtime())  # after the test, which may have opened or closed the circuit
