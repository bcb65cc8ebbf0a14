"""The parser on the real source document, the curated bank as a whole, and broken documents."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from interviewer.errors import KnowledgeError
from interviewer.knowledge import load_bank, parse_document, question_id

from .conftest import KNOWLEDGE_DIR

SOURCE = KNOWLEDGE_DIR / "00-source-inference-interview-notes.md"
SOURCE_SHA256 = "82fd1dfb6a256f62adf09d06660d8db310cf6ddfff62c5b054e47f548fe70b88"
SOURCE_TOPICS = {
    "TensorFlow": 8,
    "Model Inference and Deployment": 7,
    "Performance Optimization": 5,
    "General Machine Learning": 5,
    "Behavioral": 3,
}
TOPICS = [*SOURCE_TOPICS, "PyTorch"]


def test_source_document_is_kept_byte_for_byte() -> None:
    assert hashlib.sha256(SOURCE.read_bytes()).hexdigest() == SOURCE_SHA256


def test_all_28_listed_questions_are_found_with_their_topics() -> None:
    listed = [entry for entry in parse_document(SOURCE) if not entry.answer]
    assert len(listed) == 28
    assert Counter(entry.topic for entry in listed) == SOURCE_TOPICS
    assert listed[0].question == "What is TensorFlow, and how does it differ from other deep learning frameworks?"
    assert listed[0].source == f"{SOURCE.name}:6"
    assert listed[-1].question.endswith("What steps did you take?")
    assert listed[-1].topic == "Behavioral"


def test_hints_after_a_listed_question_are_kept_as_its_hints() -> None:
    by_question = {entry.question: entry for entry in parse_document(SOURCE)}
    evaluate = by_question["How do you evaluate the performance of a model during inference?"]
    assert evaluate.hints == ["latency", "throghput", "energe consumption"]
    preprocess = by_question["What are some common data preprocessing steps required before performing inference?"]
    assert "nlp tokenization" in preprocess.hints and "rgb conversion" in preprocess.hints


def test_every_answered_q_block_is_found_and_the_list_block_is_not_a_question() -> None:
    answered = [entry for entry in parse_document(SOURCE) if entry.answer]
    assert [entry.source.rsplit(":", 1)[1] for entry in answered] == ["46", "70", "92", "120", "186", "223"]
    assert all("frequently asked questions" not in entry.question for entry in answered)
    assert answered[2].answer.startswith("```py")  # code fences stay in the answer


def test_listed_questions_with_their_own_q_block_are_merged() -> None:
    bank = load_bank(KNOWLEDGE_DIR)
    tensorflow = [q for q in bank.questions if q.question.startswith("What is TensorFlow, and how")]
    assert len(tensorflow) == 1
    assert tensorflow[0].source == f"{SOURCE.name}:6"
    assert tensorflow[0].reference_source == f"{SOURCE.name}:46"
    assert "Google Brain" in tensorflow[0].reference_answer
    assert len({q.id for q in bank.questions}) == len(bank.questions)


def test_bank_size_and_topics() -> None:
    bank = load_bank(KNOWLEDGE_DIR)
    counts = Counter(q.topic for q in bank.questions)
    assert len(bank.questions) >= 60
    assert set(counts) == set(TOPICS)
    assert min(counts.values()) >= 8, counts
    assert not bank.problems and not bank.notes, (bank.problems, bank.notes)


def test_every_question_has_key_points_and_a_reference_or_star_rubric() -> None:
    for question in load_bank(KNOWLEDGE_DIR).questions:
        assert 3 <= len(question.key_points) <= 7, question.question
        if question.topic == "Behavioral":
            assert [part.split(":")[0] for part in question.star] == ["Situation", "Task", "Action", "Result"]
            assert "Situation" in question.reference_answer
        else:
            assert len(question.reference_answer.split()) >= 60, question.question


def test_source_hints_are_among_the_key_points() -> None:
    bank = {q.question: q for q in load_bank(KNOWLEDGE_DIR).questions}
    points = " ".join(bank["How do you evaluate the performance of a model during inference?"].key_points).lower()
    assert all(word in points for word in ("latency", "throughput", "energy"))


def test_ids_are_stable_across_wording_noise() -> None:
    assert question_id("What is XLA?") == question_id("what is  `XLA`")
    assert question_id("What is XLA?") != question_id("What is TensorRT?")


def test_metadata_block_is_read(tmp_path: Path) -> None:
    document = tmp_path / "mine.md"
    document.write_text(
        "Q: What is a KV cache?\nTopic: Performance Optimization\nKey points:\n- caches keys\n- caches values\n"
        "- grows with sequence length\n\nIt stores keys and values.\n",
        encoding="utf-8",
    )
    (entry,) = parse_document(document)
    assert entry.topic == "Performance Optimization"
    assert entry.key_points == ["caches keys", "caches values", "grows with sequence length"]
    assert entry.answer == "It stores keys and values."
    assert entry.source == "mine.md:1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "mine.md: the file is empty"),
        (b"   \n\n", "mine.md: the file is empty"),
        (b"# Notes\n\nJust prose, no questions.\n", "mine.md: no question found"),
        (b"Q: caf\xe9 question?\n\nanswer\n", "mine.md: not UTF-8"),
    ],
)
def test_broken_documents_are_named_in_the_message(tmp_path: Path, content: bytes, message: str) -> None:
    document = tmp_path / "mine.md"
    document.write_bytes(content)
    with pytest.raises(KnowledgeError, match=message):
        parse_document(document)


def test_a_broken_document_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("Q: What is batching?\n\nGrouping requests.\n", encoding="utf-8")
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe garbage")
    bank = load_bank(tmp_path)
    assert [q.question for q in bank.questions] == ["What is batching?"]
    assert len(bank.problems) == 1 and "bad.md" in str(bank.problems[0])


def test_an_empty_knowledge_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="No knowledge documents"):
        load_bank(tmp_path)
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_bank(tmp_path / "missing")
