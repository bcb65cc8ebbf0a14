"""Knowledge page: browse and search the question bank; an admin can upload a Markdown Q&A document to index."""

from __future__ import annotations

import streamlit as st

from app_pages.common import UPLOAD_JOB, get_runtime, start_loading_model, upload_indexer, viewer
from interviewer.errors import InterviewerError
from interviewer.knowledge import LEVELS
from interviewer.retrieval import search
from interviewer.uploads import MAX_BYTES, MAX_QUESTIONS, IndexJob, add_upload

WEAK_MATCH = 0.3  # below this similarity the best passage is not about the query

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

left, right = st.columns([2, 1])
topic = left.selectbox("Browse a topic", list(dict.fromkeys(q.topic for q in index.questions)))
levels = right.multiselect("Levels", LEVELS, placeholder="All levels", key="knowledge_levels")
shown = [q for q in index.questions if q.topic == topic and (not levels or q.level in levels)]
if not shown:
    st.info(f"No {topic} question at level {' or '.join(levels)}.")
for question in shown:
    with st.expander(f"{question.question} · {question.level}" if question.level else question.question):
        st.markdown("**Key points**")
        for point in question.key_points:
            st.markdown(f"- {point}")
        st.markdown("**Reference answer**")
        st.markdown(question.reference_answer or "_No reference answer yet._")
        if question.sources:
            st.markdown("**Sources**")
            for source in question.sources:
                st.markdown(f"- [{source.title}]({source.url})")
        st.caption(f"id `{question.id}` · {question.source}")


@st.fragment(run_every=1.0)
def indexing(job: IndexJob) -> None:
    """Progress while the upload is indexed in the background; the whole page redraws when it is over."""
    if job.finished:
        st.rerun()
    elif job.state == "waiting":
        st.info(f"{job.upload.path.name} waits for another document to finish indexing.")
    else:
        share = job.done / job.total if job.total else 0.0
        st.progress(share, text=f"Indexing {job.upload.path.name}: {job.done}/{job.total or '?'} texts embedded")


def add_document() -> None:
    """Upload, validate and index a document: it changes the bank for everyone, so only admins see this."""
    st.divider()
    st.subheader("Add a document")
    st.caption(
        "Markdown Q&A in the format of knowledge/README.md: each question starts a line with `Q:`. "
        f"Up to {MAX_QUESTIONS} questions; questions the bank already has are skipped."
    )
    upload = st.file_uploader("Markdown file", type=["md"], max_upload_size=MAX_BYTES // (1024 * 1024))
    if upload is not None and st.button("Validate and add", type="primary", key="knowledge_add"):
        try:
            added = add_upload(runtime.settings, upload.name, upload.getvalue())
        except InterviewerError as error:
            st.error(str(error))
        else:
            st.session_state[UPLOAD_JOB] = upload_indexer(runtime.settings).submit(added)
    job: IndexJob | None = st.session_state.get(UPLOAD_JOB)
    if job is not None and not job.finished:
        indexing(job)
    elif job is not None and job.state == "done":
        st.success(job.message)
    elif job is not None:
        st.error(job.message)


if viewer().admin:
    add_document()
start_loading_model(runtime)
