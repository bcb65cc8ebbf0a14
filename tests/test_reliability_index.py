"""Knowledge faults after the index was built, while rounds are running.

tests/test_index.py already covers a changed document, corrupt index files, a non-UTF-8 document (the last good
index is kept) and an empty folder. This adds what it lacks: a deleted document (rebuilt without it, no text
re-encoded), other corruptions of a document (emptied, cut to text without questions), an unfinished round that
planned questions from a deleted document, and the app itself: a running session keeps grading after the
document of its current question is corrupted, and a restarted app keeps the last good index and names the file.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import streamlit as st

from interviewer.engine import Interviewer
from interviewer.errors import QueryError
from interviewer.grading import GradingService
from interviewer.index import open_index
from interviewer.models import LOCAL_OWNER, FollowUp, Turn
from interviewer.offline_grader import OfflineGrader
from interviewer.settings import Settings, load_settings
from interviewer.store import open_store

from .test_app import answer, new_session, start_round

ANSWER = (
    "Dynamic batching groups concurrent requests into one batch to raise throughput; a maximum batch size and "
    "a queue delay bound the latency each request pays."
)


def replace_file(path: Path, data: bytes) -> None:
    """Overwrite a document even when its copy kept a read-only mode."""
    path.unlink()
    path.write_bytes(data)


def file_of(source: str) -> str:
    """The document name of a `file.md:line` source."""
    return source.rsplit(":", 1)[0]


def test_a_deleted_document_is_rebuilt_without_it_and_nothing_is_encoded(indexed_settings: Settings, embedder) -> None:
    settings = indexed_settings
    before = open_index(settings.knowledge_dir, settings.index_dir, embedder).index
    victim = settings.knowledge_dir / "21-curated-serving-optimization.md"  # 15 questions of its own
    victim.unlink()
    progress: list[tuple[int, int]] = []
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder, lambda *a: progress.append(a))
    assert report.action == "rebuilt" and f"removed: {victim.name}" in report.summary()
    sources = {file_of(q.source) for q in report.index.questions}
    sources |= {file_of(q.reference_source) for q in report.index.questions if q.reference_source}
    assert victim.name not in sources
    assert 0 < len(report.index.questions) < len(before.questions)
    total = len(report.index.questions) + len(report.index.passages)
    assert progress == [(total, total)]  # every remaining vector was reused, none encoded again
    assert open_index(settings.knowledge_dir, settings.index_dir, embedder).action == "loaded"


@pytest.mark.parametrize(
    ("damage", "named"),
    [(b"", "the file is empty"), (b"# Notes\n\nThe rest of this file was lost.\n", "no question found")],
    ids=["emptied", "cut to text without questions"],
)
def test_a_corrupted_document_keeps_the_last_good_index_and_names_it(
    indexed_settings: Settings, embedder, damage: bytes, named: str
) -> None:
    settings = indexed_settings
    before = open_index(settings.knowledge_dir, settings.index_dir, embedder).index
    victim = settings.knowledge_dir / "21-curated-serving-optimization.md"
    replace_file(victim, damage)
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder)
    assert report.action == "kept"
    assert f"Problem: {victim.name}: {named}" in report.summary()
    assert [q.id for q in report.index.questions] == [q.id for q in before.questions]


def test_a_round_planned_before_a_document_was_deleted_goes_on_without_its_questions(
    indexed_settings: Settings, embedder
) -> None:
    settings = load_settings(home=indexed_settings.home, knowledge_dir=indexed_settings.knowledge_dir, grader="offline")
    before = open_index(settings.knowledge_dir, settings.index_dir, embedder).index
    store = open_store(settings)
    grading = GradingService(settings, OfflineGrader(embedder))
    doomed = next(q for q in before.questions if file_of(q.source).startswith("21-"))
    kept = next(q for q in before.questions if file_of(q.source).startswith("20-"))
    planned = store.create_round("practice", [], None, [doomed.id, kept.id], owner=LOCAL_OWNER)
    pending = store.create_round("practice", [], None, [doomed.id], owner=LOCAL_OWNER)
    answered = Turn(pending, 0, "question", doomed.id, doomed.topic, doomed.question, ANSWER, False, None, "now")
    follow_up = FollowUp("And padding?", doomed.topic, doomed.id, ())
    # the round waits on a follow-up about the doomed question
    assert store.add_turn(answered, follow_up, owner=LOCAL_OWNER)

    (settings.knowledge_dir / file_of(doomed.source)).unlink()  # deleted while the rounds were open
    rebuilt = open_index(settings.knowledge_dir, settings.index_dir, embedder)
    assert rebuilt.action == "rebuilt" and doomed.id not in rebuilt.index.by_id and kept.id in rebuilt.index.by_id
    restarted = Interviewer(settings, rebuilt.index, embedder, grading, store, random.Random(3))

    prompt = restarted.next_prompt(planned)
    assert prompt is not None and prompt.question_id == kept.id  # the deleted question is passed over
    assert restarted.answer(prompt, ANSWER).saved

    follow = restarted.next_prompt(pending)  # a follow-up on a question that is gone: say so, allow a skip
    assert follow is not None and follow.kind == "follow_up"
    with pytest.raises(QueryError, match="no longer in the knowledge base; skip it"):
        restarted.answer(follow, ANSWER)
    assert restarted.skip(follow).saved and restarted.next_prompt(pending) is None


def test_the_running_app_keeps_grading_after_its_document_is_corrupted(app_env: Settings, embedder) -> None:
    at = new_session()
    start_round(at, count=2, focus="dynamic batching in a model server")
    shown = at.chat_message[0].markdown[1].value
    bank = open_index(app_env.knowledge_dir, app_env.index_dir, embedder).index
    question = next(q for q in bank.questions if q.question == shown)
    broken = app_env.knowledge_dir / file_of(question.reference_source or question.source)
    replace_file(broken, b"\xff\xfe\x00 not text any more")

    answer(at, ANSWER)  # the running session grades against the index it loaded
    assert not at.error and at.metric[0].label == "Score"
    (turn,) = open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0].turns
    assert turn.answer == ANSWER and turn.grade is not None and turn.question == shown

    st.cache_resource.clear()  # as after a restart: the index is opened again, from the broken folder
    restarted = new_session()
    restarted.switch_page("app_pages/knowledge.py").run()
    assert not restarted.exception, restarted.exception
    caption = restarted.caption[0].value
    assert caption.startswith("Kept the index") and f"Problem: {broken.name}: not UTF-8" in caption
    restarted.switch_page("app_pages/interview.py").run()
    resume = next(b for b in restarted.button if b.label.startswith("Resume round"))
    resume.click().run()
    answer(restarted, ANSWER)
    assert not restarted.error and len(open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0].turns) == 2


def test_an_answer_the_app_cannot_grade_stays_on_screen_with_the_reason(app_env: Settings, embedder) -> None:
    at = new_session()
    start_round(at, count=1, focus="dynamic batching in a model server")
    shown = at.chat_message[0].markdown[1].value
    answer(at, "It groups requests into one batch.")  # partial: a follow-up on the same question comes next
    assert "Follow-up" in [m.value.strip("*") for m in at.markdown]
    bank = open_index(app_env.knowledge_dir, app_env.index_dir, embedder).index
    question = next(q for q in bank.questions if q.question == shown)
    (app_env.knowledge_dir / file_of(question.reference_source or question.source)).unlink()
    st.cache_resource.clear()  # the app reopens the knowledge base without that document

    follow_up_answer = "Padding to the longest input, or bucketing by length."
    answer(at, follow_up_answer)
    assert "no longer in the knowledge base" in at.error[0].value
    assert follow_up_answer in [element.value for element in at.text]  # still on screen, to save or copy
    assert "This answer is not saved yet." in [w.value for w in at.warning]
    assert len(open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0].turns) == 1
