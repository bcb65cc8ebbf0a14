"""Streamlit entry point: the interview pages arrive with the interview engine; for now, the question bank."""

import streamlit as st

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.index import IndexReport, open_index
from interviewer.settings import Settings, load_settings


@st.cache_resource(show_spinner="Loading the knowledge base...")
def knowledge(settings: Settings) -> IndexReport:
    """The index, opened once per process."""
    embedder = SentenceTransformerEmbedder(settings.embedding_model)
    return open_index(settings.knowledge_dir, settings.index_dir, embedder)


st.set_page_config(page_title="Inference interview coach", page_icon="🎤")
st.title("Inference interview coach")
report = knowledge(load_settings())
st.caption(report.summary())
for topic in dict.fromkeys(q.topic for q in report.index.questions):
    with st.expander(topic):
        for question in report.index.questions:
            if question.topic == topic:
                st.markdown(f"- {question.question}")
