"""Streamlit pages: UI only; every action goes through `interviewer.runtime.Runtime`."""
