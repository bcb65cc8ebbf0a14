"""Streamlit entry point: page config, the shared sidebar, and navigation between the four pages."""

import streamlit as st

st.set_page_config(page_title="Inference interview coach", page_icon=":material/record_voice_over:", layout="centered")

pages = [
    st.Page("app_pages/interview.py", title="Interview", icon=":material/record_voice_over:", default=True),
    st.Page("app_pages/review.py", title="Review", icon=":material/insights:"),
    st.Page("app_pages/knowledge.py", title="Knowledge", icon=":material/menu_book:"),
    st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
]
st.navigation(pages).run()
