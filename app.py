"""Streamlit entry point: page config, who is there, the shared sidebar, and navigation between the pages.

In team mode nobody sees a page before signing in, and only admins get the Settings page in their navigation
(the page itself checks again, so its address alone does not open it).
"""

from pathlib import Path

import streamlit as st

from app_pages.common import current_settings
from app_pages.people import current_person, sign_out_button
from interviewer.errors import InterviewerError

ICON = Path(__file__).parent / "app_pages" / "icon.png"
# A local image: a Material or emoji icon would make every browser fetch the favicon from Google's font servers.
st.set_page_config(page_title="Inference interview coach", page_icon=str(ICON), layout="centered")

try:
    settings = current_settings()
except InterviewerError as error:
    st.error(str(error))
    st.stop()
person = current_person(settings)
if person is None:
    st.stop()
if settings.mode == "team":
    with st.sidebar:
        st.text(f"Signed in as {person.name}")  # the provider's words: plain text, never Markdown
        sign_out_button()

pages = [
    st.Page("app_pages/interview.py", title="Interview", icon=":material/record_voice_over:", default=True),
    st.Page("app_pages/review.py", title="Review", icon=":material/insights:"),
    st.Page("app_pages/knowledge.py", title="Knowledge", icon=":material/menu_book:"),
]
if person.admin:
    pages.append(st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"))
st.navigation(pages).run()
