"""Streamlit entry point: page config, the shared sidebar, and navigation between the four pages."""

import streamlit as st

from app_pages.common import get_runtime

st.set_page_config(page_title="Inference interview coach", page_icon=":material/record_voice_over:", layout="centered")

pages = [
    st.Page("app_pages/interview.py", title="Interview", icon=":material/record_voice_over:", default=True),
    st.Page("app_pages/review.py", title="Review", icon=":material/insights:"),
    st.Page("app_pages/knowledge.py", title="Knowledge", icon=":material/menu_book:"),
    st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
]
st.navigation(pages).run()
get_runtime().warm_up_in_background()  # after the page is drawn, so the first visitor never waits for torch
