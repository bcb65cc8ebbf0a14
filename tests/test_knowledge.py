"""The parser on the real source document, the curated bank as a whole, and broken documents."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from interviewer.errors import KnowledgeError
from interviewer.knowledge import Figure, Question, Source, load_bank, parse_document, question_id

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
TOPICS = [*SOURCE_TOPICS, "PyTorch", "LLM Serving", "ML System Design"]


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
    assert len(bank.questions) >= 150
    assert set(counts) == set(TOPICS)
    assert min(counts.values()) >= 13, counts
    assert counts["LLM Serving"] >= 30 and counts["ML System Design"] >= 12, counts
    assert not bank.problems and not bank.notes, (bank.problems, bank.notes)


def test_every_question_has_a_level_and_every_curated_one_its_primary_sources() -> None:
    for question in load_bank(KNOWLEDGE_DIR).questions:
        assert question.level in {"junior", "mid", "senior", "staff"}, question.question
        assert question.sources and all(source.url.startswith("https://") for source in question.sources), question


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


KV_ENTRY = """Q: How much KV-cache memory does Llama-3.1-70B need per token in BF16?
Topic: LLM Serving
Level: Senior
Sources:
- vLLM documentation, PagedAttention design: https://docs.vllm.ai/en/latest/design/paged_attention.html
- Ainslie et al. 2023, GQA: Training Generalized Multi-Query Transformer Models: https://arxiv.org/abs/2305.13245
Key points:
- Per token the cache holds K and V for every layer
  Probe: Which dimensions of the model decide how many bytes one token adds to the cache?
- GQA shares each KV head among several query heads
- BF16 takes two bytes per element
  Probe: How many bytes does one element take in BF16?
Figure: KV cache per token = 327,680 bytes ± 2%
Figure: KV cache for a 32k-token context = 10.7 GB +/- 5%
Working: 2 x 80 layers x 8 KV heads x 128 head_dim x 2 bytes = 327,680 B per token

The reference answer.
"""


def _one_question(tmp_path: Path, text: str) -> Question:
    (tmp_path / "mine.md").write_text(text, encoding="utf-8")
    bank = load_bank(tmp_path)
    assert not bank.problems, bank.problems
    (question,) = bank.questions
    return question


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ("Level: expert\n", r"mine\.md:2: unknown level 'expert'; use one of junior, mid, senior, staff"),
        ("Level:\n", r"mine\.md:2: unknown level ''"),
        ("Figure: KV cache per token = lots of bytes ± 2%\n", r"mine\.md:2: a figure must read"),
        ("Figure: KV cache per token = 327680 bytes\n", r"mine\.md:2: a figure must read"),
        ("Figure: 327680 bytes ± 2%\n", r"mine\.md:2: a figure must read"),
        ("Sources:\n- vLLM documentation\n", r"mine\.md:3: a source must read '- Title: https://\.\.\.'"),
        ("Sources:\n- https://docs.vllm.ai\n", r"mine\.md:3: a source must read"),
        ("Topic: LLM Serving\n  Probe: What is it?\n", r"mine\.md:3: a 'Probe:' line must sit under a key point"),
        ("Key points:\n  Probe: What is it?\n", r"mine\.md:3: a 'Probe:' line must follow the point"),
        ("Key points:\n- a point\n  Probe: One?\n  Probe: Two?\n", r"mine\.md:5: this point already has a probe"),
        ("Key points:\n- a point\n  Probe:\n", r"mine\.md:4: an empty 'Probe:' line"),
    ],
)
def test_malformed_metadata_is_an_error_naming_file_and_line(tmp_path: Path, metadata: str, message: str) -> None:
    document = tmp_path / "mine.md"
    document.write_text(f"Q: What is a KV cache?\n{metadata}\nIt stores keys and values.\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=message):
        parse_document(document)
    (tmp_path / "good.md").write_text("Q: What is batching?\n\nGrouping requests.\n", encoding="utf-8")
    bank = load_bank(tmp_path)
    assert [q.question for q in bank.questions] == ["What is batching?"]
    assert "mine.md" in str(bank.problems[0])


def test_level_sources_probes_and_figures_are_read(tmp_path: Path) -> None:
    question = _one_question(tmp_path, KV_ENTRY)
    assert question.level == "senior"
    assert question.sources == (
        Source(
            "vLLM documentation, PagedAttention design", "https://docs.vllm.ai/en/latest/design/paged_attention.html"
        ),
        Source(
            "Ainslie et al. 2023, GQA: Training Generalized Multi-Query Transformer Models",
            "https://arxiv.org/abs/2305.13245",
        ),
    )
    assert len(question.key_points) == 3
    assert question.probes == (
        "Which dimensions of the model decide how many bytes one token adds to the cache?",
        "",
        "How many bytes does one element take in BF16?",
    )
    assert question.figures == (
        Figure("KV cache per token", 327680.0, "bytes", 2.0),
        Figure("KV cache for a 32k-token context", 10.7, "GB", 5.0),
    )
    assert str(question.figures[0]) == "KV cache per token = 327,680 bytes ± 2%"
    assert question.working.startswith("2 x 80 layers")
    assert question.reference_answer == "The reference answer."


def test_figures_read_units_of_several_words_and_no_unit(tmp_path: Path) -> None:
    question = _one_question(
        tmp_path,
        "Q: What does it cost?\nFigure: cost = 0.42 $ per million tokens ± 10%\nFigure: speed-up = 3 ± 0%\n"
        "Figure: replicas = 1.2e3 replicas ± 1.5%\n\nAnswer.\n",
    )
    assert question.figures == (
        Figure("cost", 0.42, "$ per million tokens", 10.0),
        Figure("speed-up", 3.0, "", 0.0),
        Figure("replicas", 1200.0, "replicas", 1.5),
    )


def test_star_parts_take_probes_too(tmp_path: Path) -> None:
    question = _one_question(
        tmp_path,
        "Q: Tell me about an outage you handled.\nTopic: Behavioral\nLevel: mid\nSTAR:\n- Situation: a real outage\n"
        "  Probe: What was at stake?\n- Task: your role\n- Action: what you did\n- Result: measured outcome\n",
    )
    assert question.star_probes == ("What was at stake?", "", "", "")
    assert question.probes == ("",) * len(question.key_points)


def test_a_file_without_the_new_fields_still_parses(tmp_path: Path) -> None:
    question = _one_question(tmp_path, "Q: What is batching?\nKey points:\n- groups requests\n\nGrouping.\n")
    assert (question.level, question.sources, question.figures, question.working) == (None, (), (), "")
    assert question.probes == ("",)


def test_a_curated_file_fills_what_a_listing_lacks(tmp_path: Path) -> None:
    (tmp_path / "00-list.md").write_text(
        "Q: Questions\n\n### LLM Serving Questions\n1. What is a KV cache? memory, speed\n", encoding="utf-8"
    )
    (tmp_path / "10-curated.md").write_text(
        KV_ENTRY.replace("How much KV-cache memory does Llama-3.1-70B need per token in BF16?", "What is a KV cache?"),
        encoding="utf-8",
    )
    (question,) = load_bank(tmp_path).questions
    assert question.source == "00-list.md:4"
    assert (question.level, len(question.sources), len(question.figures)) == ("senior", 2, 2)
    assert question.probes[0].startswith("Which dimensions") and len(question.probes) == 3


def test_the_stored_bank_json_round_trips(tmp_path: Path) -> None:
    question = _one_question(tmp_path, KV_ENTRY)
    data = json.loads(json.dumps(question.to_dict()))
    assert Question.from_dict(data) == question
    old = {key: data[key] for key in ("id", "question", "topic", "reference_answer", "key_points", "source")}
    assert Question.from_dict(old).probes == ("", "", "")  # a bank stored before these fields still loads
