"""Knowledge page: browse and search the question bank; upload a Markdown Q&A document and index it."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import streamlit as st

from app_pages.common import get_runtime, reset_runtime, start_loading_model
from interviewer.errors import InterviewerError
from interviewer.index import open_index
from interviewer.knowledge import parse_document
from interviewer.retrieval import search
from interviewer.wording import counted

MAX_UPLOAD_MB = 2
"""A Q&A document is text: anything larger is not one (the widget says so; the check below holds either way)."""
WEAK_MATCH = 0.3
"""Below this similarity the best passage is not about the query."""

runtime = get_runtime()
index = runtime.report.index
st.title("Knowledge")
st.caption(runtime.report.summary())

query = st.text_input("Search by meaning", placeholder="e.g. how does continuous batching work")
if query:
    try:
        hits = search(index, runtime.embedder, query, k=5, max_chars=runtime.settings.max_query_chars)
        if hits and hits[0].score < WEAK_MATCH:
            st.info("Nothing in the knowledge base is close to that; these are the nearest passages.")
        for hit in hits:
            with st.expander(f"{hit.score:.2f} · {hit.question.question}"):
                st.caption(f"{hit.question.topic} · {hit.question.reference_source or hit.question.source}")
                st.markdown(hit.answer)
    except InterviewerError as error:
        st.warning(str(error))

topic = st.selectbox("Browse a topic", list(dict.fromkeys(q.topic for q in index.questions)))
for question in (q for q in index.questions if q.topic == topic):
    with st.expander(question.question):
        st.markdown("**Key points**")
        for point in question.key_points:
            st.markdown(f"- {point}")
        st.markdown("**Reference answer**")
        st.markdown(question.reference_answer or "_No reference answer yet._")
        st.caption(f"id `{question.id}` · {question.source}")

st.divider()
st.subheader("Add a document")
st.caption("Markdown Q&A in the format of knowledge/README.md: each question starts a line with `Q:`.")
upload = st.file_uploader("Markdown file", type=["md"], max_upload_size=MAX_UPLOAD_MB)
if upload is not None and st.button("Validate and add", type="primary"):
    name = re.sub(r"[^A-Za-z0-9._-]", "-", Path(upload.name).name)
    data = upload.getvalue()
    target = runtime.settings.knowledge_dir / name
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        st.error(f"{name} is {len(data):,} bytes; the limit is {MAX_UPLOAD_MB} MB.")
    elif target.exists():
        st.error(f"{name} already exists in the knowledge folder; rename your file.")
    else:
        with tempfile.TemporaryDirectory() as scratch:
            candidate = Path(scratch) / name
            candidate.write_bytes(data)
            try:
                entries = parse_document(candidate)
            except InterviewerError as error:
                st.error(str(error))
                st.stop()
        target.write_bytes(data)
        bar = st.progress(0.0, text="Indexing...")
        report = open_index(
            runtime.settings.knowledge_dir,
            runtime.settings.index_dir,
            runtime.embedder,
            lambda done, total: bar.progress(done / total, text=f"Embedding {done}/{total}"),
        )
        bar.empty()
        reset_runtime()
        st.success(f"Added {name} ({counted(len(entries), 'question')}). {report.summary()}")
start_loading_model(runtime)
