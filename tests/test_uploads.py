"""Uploaded documents: they live under $INTERVIEWER_HOME, add questions but never change a shipped one, and odd
but honest files (upper-case extension, README name, byte-order mark, non-ASCII name) work."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from interviewer.errors import KnowledgeError
from interviewer.index import load_index, open_index
from interviewer.knowledge import load_bank
from interviewer.runtime import build_runtime
from interviewer.settings import PROJECT_ROOT, Settings
from interviewer.uploads import MAX_BYTES, MAX_QUESTIONS, Indexer, UploadError, add_upload, safe_name

NONSENSE = "Bananas are yellow and monkeys like them very much."


def hijack(question: str) -> str:
    """An upload that repeats a shipped question word for word with a nonsense reference, and adds a new one."""
    return f"""Q: {question}
Key points:
- Bananas are yellow
- Monkeys like bananas

{NONSENSE}

Q: What is request coalescing?
Topic: Model Inference and Deployment

Merging identical requests in flight into one model call and sharing its result.
"""


def upload(settings: Settings, name: str, text: str | bytes) -> Path:
    """A document in the uploads folder, as the app leaves it."""
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    path = settings.uploads_dir / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def by_question(settings: Settings) -> dict[str, object]:
    """The merged bank, shipped and uploaded, keyed by question."""
    return {q.question: q for q in load_bank(settings.knowledge_dir, settings.uploads_dir).questions}


def test_a_duplicate_upload_cannot_change_a_shipped_questions_grade(indexed_settings: Settings, embedder) -> None:
    settings = indexed_settings
    shipped = next(q for q in load_bank(settings.knowledge_dir).questions if q.key_points and not q.is_behavioral)

    def grades() -> tuple[float, float]:
        runtime = build_runtime(settings, warm=False, embedder=embedder)
        reference = runtime.reference(shipped.question)
        grade = runtime.grading.grade
        return grade(shipped.question, shipped.reference_answer, reference).score, grade(
            shipped.question, NONSENSE, reference
        ).score

    correct_before, nonsense_before = grades()
    upload(settings, "0-first-by-name.md", hijack(shipped.question))  # it sorts before every shipped file, too

    correct_after, nonsense_after = grades()
    assert (correct_after, nonsense_after) == (correct_before, nonsense_before)
    assert correct_after >= 4 and nonsense_after <= 1.5
    assert by_question(settings)[shipped.question] == shipped
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder, uploads_dir=settings.uploads_dir)
    assert "What is request coalescing?" in {q.question for q in report.index.questions}  # the new one is taken
    skipped = f"uploads/0-first-by-name.md: skipped 1 question(s) the bank already has: {shipped.question!r}"
    assert [note.startswith(skipped) for note in load_bank(settings.knowledge_dir, settings.uploads_dir).notes] == [
        True
    ]


def test_a_later_upload_cannot_change_an_earlier_one(settings: Settings) -> None:
    first = upload(settings, "zz-first.md", "Q: What is request coalescing?\n\nMerging identical requests.\n")
    second = upload(settings, "aa-second.md", "Q: What is request coalescing?\n\nSomething else entirely.\n")
    os.utime(first, ns=(1, 1))  # added long before the second
    bank = load_bank(settings.knowledge_dir, settings.uploads_dir)
    (coalescing,) = [q for q in bank.questions if q.question == "What is request coalescing?"]
    assert coalescing.reference_answer == "Merging identical requests."
    assert [(d.source, d.kept) for d in bank.duplicates] == [("uploads/aa-second.md:1", "uploads/zz-first.md:1")]
    assert second.exists()


def test_shipped_files_still_merge_with_each_other(settings: Settings) -> None:
    upload(settings, "mine.md", "Q: What is request coalescing?\n\nMerging identical requests.\n")
    bank = load_bank(settings.knowledge_dir, settings.uploads_dir).questions
    answered_elsewhere = [q for q in bank if q.reference_source and q.reference_source[:3] != q.source[:3]]
    assert answered_elsewhere  # a curated file answers questions the source document only lists
    assert all(not q.source.startswith("uploads/") for q in answered_elsewhere)


def test_odd_but_honest_uploads_are_read(settings: Settings) -> None:
    upload(settings, "Upper.MD", "Q: What does an upper-case extension change?\n\nNothing.\n")
    upload(settings, "ReadMe.md", "Q: Is an uploaded README a document?\n\nYes.\n")
    upload(settings, "bom.md", b"\xef\xbb\xbfQ: Does a byte-order mark hide the first question?\n\nNo.\n")
    upload(settings, "日本語.md", "Q: Do non-ASCII file names work?\n\nYes.\n")
    bank = by_question(settings)
    sources = {bank[q].source for q in bank if bank[q].source.startswith("uploads/")}  # type: ignore[attr-defined]
    assert sources == {"uploads/Upper.MD:1", "uploads/ReadMe.md:1", "uploads/bom.md:1", "uploads/日本語.md:1"}
    assert not any("README" in q.source for q in bank.values())  # type: ignore[attr-defined] # shipped README skipped


def test_uploads_stay_out_of_the_project_folder(settings: Settings) -> None:
    assert settings.uploads_dir == settings.home / "uploads"
    assert settings.knowledge_dir not in settings.uploads_dir.parents


def questions(count: int) -> str:
    """A document of `count` distinct new questions."""
    return "".join(
        f"Q: What is made-up serving trick number {n}?\n\nAn answer about trick {n}.\n\n" for n in range(count)
    )


def saved(settings: Settings) -> list[str]:
    """Every file in the uploads folder, temporary ones included."""
    return sorted(path.name for path in settings.uploads_dir.iterdir()) if settings.uploads_dir.exists() else []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.md", b"Q: x?\n\n" + b"a" * MAX_BYTES, "the limit is 2 MB"),
        ("many.md", questions(MAX_QUESTIONS + 1).encode(), "holds 201 questions; a document may hold at most 200"),
        ("dump.md", questions(10_000).encode(), "holds 10,000 questions"),
        ("notes.txt", b"Q: x?\n\ny\n", "not a Markdown file"),
        ("prose.md", b"# Notes\n\nNo questions here.\n", "uploads/prose.md: no question found"),
        ("latin1.md", b"Q: caf\xe9?\n\nanswer\n", "uploads/latin1.md: not UTF-8"),
        ("x" * 250 + ".md", b"Q: x?\n\ny\n", "longer than 200 bytes"),
        ("pixel.md", b"Q: x?\n\nSee ![t](https://evil.example/p.png)\n", "uploads/pixel.md:3: an image from another"),
        ("ref.md", b"Q: x?\n\n![t][p]\n\n[p]: //evil.example/p.png\n", "uploads/ref.md:5: an image from another"),
    ],
)
def test_what_cannot_be_a_document_is_refused_and_nothing_is_saved(
    settings: Settings, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(KnowledgeError, match=message):  # an UploadError, or the parser's own
        add_upload(settings, name, data)
    assert saved(settings) == []


def test_a_document_of_known_questions_only_adds_nothing_and_is_not_kept(settings: Settings) -> None:
    shipped = load_bank(settings.knowledge_dir).questions[0].question
    with pytest.raises(
        UploadError, match=re.escape(f"adds nothing: the bank already has every question in it: {shipped!r}")
    ):
        add_upload(settings, "copy.md", f"Q: {shipped}\n\nMy own answer.\n".encode())
    assert saved(settings) == []


def test_a_name_already_taken_is_refused_and_the_first_file_kept(settings: Settings) -> None:
    add_upload(settings, "mine.md", questions(2).encode())
    with pytest.raises(UploadError, match=r"A document named mine\.md was already added"):
        add_upload(settings, "mine.md", b"Q: Something else?\n\nOther.\n")
    assert saved(settings) == ["mine.md"]
    assert (settings.uploads_dir / "mine.md").read_bytes() == questions(2).encode()


def test_what_an_upload_adds_and_skips_is_named(settings: Settings) -> None:
    shipped = load_bank(settings.knowledge_dir).questions[3]
    upload = add_upload(settings, "mine.md", (questions(2) + f"Q: {shipped.question}\n\nMine.\n").encode())
    assert upload.added == ("What is made-up serving trick number 0?", "What is made-up serving trick number 1?")
    assert upload.summary() == (
        f"Added mine.md: 2 new questions. Skipped 1 question the bank already has: {shipped.question!r} "
        f"(already at {shipped.source})."
    )


@pytest.mark.parametrize(
    ("uploaded", "kept"),
    [
        ("日本語.md", "日本語.md"),
        ("Upper.MD", "Upper.MD"),
        ("README.md", "README.md"),
        ("../../etc/evil.md", "---..-etc-evil.md"),
        ("..\\windows.md", "---windows.md"),
        (".hidden.md", "-hidden.md"),
        ("tab\there.md", "tab-here.md"),
    ],
)
def test_a_file_keeps_its_name_but_for_separators_control_characters_and_leading_dots(
    settings: Settings, uploaded: str, kept: str
) -> None:
    assert safe_name(uploaded) == kept
    upload = add_upload(settings, uploaded, b"\xef\xbb\xbfQ: What does a byte-order mark hide?\n\nNothing.\n")
    assert saved(settings) == [kept] and upload.path == settings.uploads_dir / kept
    assert upload.added == ("What does a byte-order mark hide?",)


def test_a_failed_reindex_removes_the_new_file_and_says_why(settings: Settings, tmp_path: Path) -> None:
    upload = add_upload(settings, "mine.md", questions(2).encode())
    broken = settings.model_copy(update={"embedding_model": str(tmp_path / "no-model")})
    job = Indexer(broken).submit(upload)
    deadline = time.monotonic() + 120
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.state == "failed"
    assert job.message.startswith("mine.md was not added: Embedding model")
    assert "is not a local directory" in job.message
    assert saved(settings) == []


def test_an_upload_is_indexed_in_the_background_with_progress(indexed_settings: Settings) -> None:
    settings = indexed_settings
    indexed: list[bool] = []
    upload = add_upload(settings, "mine.md", questions(3).encode())
    job = Indexer(settings, on_indexed=lambda: indexed.append(True)).submit(upload)
    assert job.state in ("waiting", "indexing")  # submit returned at once
    deadline = time.monotonic() + 300
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.state == "done", job.message
    assert job.done == job.total == 6  # three new questions and their passages, nothing else re-embedded
    assert job.message == "Added mine.md: 3 new questions."
    assert indexed == [True]
    bank = load_index(settings.index_dir).questions
    assert "What is made-up serving trick number 2?" in {q.question for q in bank}


def knowledge_page() -> AppTest:
    """The Knowledge page in a new session."""
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("app_pages/knowledge.py").run()
    assert not at.exception, at.exception
    return at


def test_the_knowledge_page_refuses_a_document_and_says_why(app_env: Settings) -> None:
    at = knowledge_page()
    at.file_uploader[0].set_value(("dump.md", questions(MAX_QUESTIONS + 1).encode(), "text/markdown")).run()
    at.button(key="knowledge_add").click().run()
    assert not at.exception, at.exception
    assert "dump.md holds 201 questions; a document may hold at most 200" in at.error[0].value
    assert saved(app_env) == []


def test_the_knowledge_page_adds_a_document_and_says_what_it_added(app_env: Settings) -> None:
    shipped = load_bank(app_env.knowledge_dir).questions[0]
    document = questions(2) + f"Q: {shipped.question}\n\nMine.\n"
    at = knowledge_page()
    at.file_uploader[0].set_value(("日本語.md", document.encode(), "text/markdown")).run()
    at.button(key="knowledge_add").click().run()
    deadline = time.monotonic() + 300
    while not at.success and not at.error and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()  # as the page's one-second refresh does
    assert not at.exception and not at.error, at.error
    assert at.success[0].value.startswith("Added 日本語.md: 2 new questions. Skipped 1 question the bank already has")
    assert saved(app_env) == ["日本語.md"]
    at.switch_page("app_pages/knowledge.py").run()
    at.text_input[0].input("made-up serving trick number 1").run()
    assert at.expander[0].label.endswith(" · What is made-up serving trick number 1?")  # the best search hit
