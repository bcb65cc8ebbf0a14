"""The persisted index: reuse when nothing changed, rebuild when something did, survive corruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interviewer.errors import KnowledgeError
from interviewer.index import chunk_answer, open_index
from interviewer.settings import Settings

EXTRA = "Q: What is request coalescing?\nTopic: Model Inference and Deployment\n\nMerging identical requests.\n"


def test_first_open_builds_with_progress_then_loads_without_encoding(settings: Settings, embedder) -> None:
    progress: list[tuple[int, int]] = []
    first = open_index(settings.knowledge_dir, settings.index_dir, embedder, lambda *a: progress.append(a))
    assert progress[-1][0] == progress[-1][1] == len(first.index.questions) + len(first.index.passages)
    assert first.action == "built"
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["model"] == embedder.name and manifest["dimension"] == 384
    assert set(manifest["documents"]) == {p.name for p in settings.knowledge_dir.glob("*.md")} - {"README.md"}

    assert first.index.question_vectors.ntotal == len(first.index.questions)

    calls: list[tuple[int, int]] = []
    second = open_index(settings.knowledge_dir, settings.index_dir, embedder, progress=lambda *a: calls.append(a))
    assert second.action == "loaded" and not calls
    assert len(second.index.questions) == len(first.index.questions)


def test_a_copied_index_of_the_same_documents_is_loaded(indexed_settings: Settings, embedder) -> None:
    settings = indexed_settings
    assert open_index(settings.knowledge_dir, settings.index_dir, embedder).action == "loaded"


def test_a_changed_document_triggers_a_rebuild_that_names_it(indexed_settings: Settings, embedder) -> None:
    settings = indexed_settings
    encoded: list[tuple[int, int]] = []
    (settings.knowledge_dir / "50-mine.md").write_text(EXTRA, encoding="utf-8")
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder, lambda *a: encoded.append(a))
    assert report.action == "rebuilt"
    assert "new: 50-mine.md" in report.summary()
    assert encoded[-1] == (2, 2)  # only the new question and its passage were encoded
    assert any(q.question == "What is request coalescing?" for q in report.index.questions)

    (settings.knowledge_dir / "50-mine.md").write_text(EXTRA.replace("Merging", "Collapsing"), encoding="utf-8")
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder)
    assert report.action == "rebuilt" and "changed: 50-mine.md" in report.summary()


@pytest.mark.parametrize("victim", ["passages.faiss", "bank.json"])
def test_a_corrupt_index_is_rebuilt_with_a_message(indexed_settings: Settings, embedder, victim: str) -> None:
    settings = indexed_settings
    (settings.index_dir / victim).write_bytes(b"\x00garbage")
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder)
    assert report.action == "rebuilt"
    assert "unreadable" in report.summary()
    assert open_index(settings.knowledge_dir, settings.index_dir, embedder).action == "loaded"


def test_an_index_written_by_another_model_is_rebuilt(indexed_settings: Settings, embedder) -> None:
    settings = indexed_settings
    manifest_path = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest))
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder)
    assert report.action == "rebuilt"
    assert "embedding model changed from 'some-other-model'" in report.summary()


def test_a_broken_document_keeps_the_last_good_index(indexed_settings: Settings, embedder) -> None:
    settings = indexed_settings
    built = open_index(settings.knowledge_dir, settings.index_dir, embedder)
    source = next(settings.knowledge_dir.glob("00-*.md"))
    source.write_bytes(b"\xff\xfe not text")
    report = open_index(settings.knowledge_dir, settings.index_dir, embedder)
    assert report.action == "kept"
    assert len(report.index.questions) == len(built.index.questions)
    assert f"{source.name}: not UTF-8" in report.summary()
    assert open_index(settings.knowledge_dir, settings.index_dir, embedder).action == "kept"  # still reported


def test_an_empty_knowledge_folder_is_an_error_and_keeps_the_index(indexed_settings: Settings, embedder) -> None:
    settings = indexed_settings
    for document in settings.knowledge_dir.glob("*.md"):
        document.unlink()
    with pytest.raises(KnowledgeError, match="No knowledge documents"):
        open_index(settings.knowledge_dir, settings.index_dir, embedder)
    assert (settings.index_dir / "manifest.json").exists()


def test_long_answers_are_chunked_on_paragraphs_and_fences_stay_whole() -> None:
    fence = "```python\n" + "\n\n".join(f"x{i} = {i}" for i in range(50)) + "\n```"
    answer = "\n\n".join(["word " * 80, "more " * 80, fence, "tail " * 10])
    chunks = chunk_answer(answer, max_words=120)
    assert len(chunks) >= 3
    assert all(chunk.count("```") % 2 == 0 for chunk in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == answer.replace("\n", "").replace(" ", "")


def test_missing_model_directory_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    from interviewer.embeddings import SentenceTransformerEmbedder
    from interviewer.errors import ConfigError

    with pytest.raises(ConfigError, match="not a local directory"):
        open_index(settings.knowledge_dir, settings.index_dir, SentenceTransformerEmbedder(str(tmp_path / "nope")))
