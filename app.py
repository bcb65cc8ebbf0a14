"""Streamlit entry point: page config, the shared sidebar, and navigation between the four pages."""

from pathlib import Path

import streamlit as st

ICON = Path(__file__).parent / "app_pages" / "icon.png"
# A local image: a Material or emoji icon would make every browser fetch the favicon from Google's font servers.
st.set_page_config(page_title="Inference interview coach", page_icon=str(ICON), layout="centered")

pages = [
    st.Page("app_pages/interview.py", title="Interview", icon=":material/record_voice_over:", default=True),
    st.Page("app_pages/review.py", title="Review", icon=":material/insights:"),
    st.Page("app_pages/knowledge.py", title="Knowledge", icon=":material/menu_book:"),
    st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
]
st.navigation(pages).run()
