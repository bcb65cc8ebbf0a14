"""Finding references: paraphrased bank questions, unknown questions, and queries that cannot be searched."""

from __future__ import annotations

import pytest

from bench.knowledge import search_quality
from interviewer.errors import QueryError
from interviewer.index import KnowledgeIndex, open_index
from interviewer.lexical import LexicalIndex, tokenize
from interviewer.retrieval import LEXICAL_WEIGHT, find_reference, match_question, search
from interviewer.settings import Settings

# Paraphrases written for these tests; each names the bank question it must find.
PARAPHRASES = [
    ("How is TF2 different from TF1?", "Can you explain the difference between TensorFlow 1.x and TensorFlow 2.x?"),
    ("Explain knowledge distillation with a teacher and a student network.", "what is model distillation in deep"),
    ("What does autoregressive mean in ML?", 'in machine learning, what does the term "autoregressive" mean?'),
    ("Why would you put @tf.function on a Python function?", "How do you use TensorFlow's `tf.function` decorator"),
    ("How do you make a TF model smaller?", "What techniques can you use to reduce the size of a TensorFlow model?"),
    ("Which metrics matter when measuring inference performance?", "How do you evaluate the performance of a model"),
    ("How would you ship a Keras model to an Android phone?", "How do you convert a trained TensorFlow model to"),
    ("Tell me how you keep learning about new ML tools.", "How do you stay updated with the latest advancements"),
    ("Why cache keys and values when a transformer generates text?", "What is the KV cache in autoregressive"),
    ("Does eval() turn off gradient tracking in PyTorch?", "In PyTorch, what is the difference between `model.eval()`"),
]


@pytest.fixture
def index(indexed_settings: Settings, embedder) -> KnowledgeIndex:
    return open_index(indexed_settings.knowledge_dir, indexed_settings.index_dir, embedder).index


@pytest.mark.parametrize(("wording", "expected"), PARAPHRASES)
def test_a_paraphrased_question_finds_its_bank_question(
    index: KnowledgeIndex, embedder, indexed_settings: Settings, wording: str, expected: str
) -> None:
    question, score = match_question(index, embedder, wording, indexed_settings.match_threshold)
    assert question is not None, f"{wording!r} matched nothing (best score {score:.3f})"
    assert question.question.startswith(expected)


def test_the_exact_wording_matches_with_full_confidence(index: KnowledgeIndex, embedder) -> None:
    wanted = index.questions[10]
    question, score = match_question(index, embedder, wanted.question.upper() + "  ", 0.99)
    assert question == wanted and score == 1.0


def test_a_bank_question_gives_its_own_answer_and_key_points(
    index: KnowledgeIndex, embedder, indexed_settings: Settings
) -> None:
    reference = find_reference(index, embedder, "How is TF2 different from TF1?", indexed_settings.match_threshold)
    assert reference.question is not None
    assert reference.text == reference.question.reference_answer
    assert reference.key_points == reference.question.key_points
    assert reference.sources == (reference.question.reference_source,)


@pytest.mark.parametrize("unrelated", ["What is the capital of France?", "How does a hash map handle collisions?"])
def test_an_unrelated_question_matches_no_bank_question(
    index: KnowledgeIndex, embedder, indexed_settings: Settings, unrelated: str
) -> None:
    question, _ = match_question(index, embedder, unrelated, indexed_settings.match_threshold)
    assert question is None


def test_a_question_outside_the_bank_is_graded_against_the_best_passages(
    index: KnowledgeIndex, embedder, indexed_settings: Settings
) -> None:
    reference = find_reference(index, embedder, "Which GPU memory layouts speed up convolutions?", 0.99)
    assert reference.question is None
    assert len(reference.sources) == 3 and reference.text


def test_search_returns_one_hit_per_question_best_first(index: KnowledgeIndex, embedder) -> None:
    hits = search(index, embedder, "int8 quantization calibration", k=5)
    assert len(hits) == 5
    assert len({hit.question.id for hit in hits}) == 5
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert "quantiz" in hits[0].question.question.lower() + hits[0].answer.lower()
    assert set(hits[0].to_dict()) >= {"question", "answer", "topic", "source", "score"}


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "The query is empty"), ("   \n", "The query is empty"), ("x" * 100_000, "100,000 characters long")],
)
def test_unusable_queries_get_a_clear_message(index: KnowledgeIndex, embedder, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        search(index, embedder, query)


def test_a_term_the_bank_never_uses_counts_against_every_text() -> None:
    lexical = LexicalIndex(["INT8 calibration of a TensorRT engine", "Probability calibration with Platt scaling"])
    int8, probability = lexical.scores("int8 calibration")
    assert 0.35 < int8 < 1 and int8 > 3 * probability
    assert list(lexical.scores("NVFP4")) == [0.0, 0.0]
    assert 0 < lexical.scores("NVFP4 calibration")[0] < int8


def test_exact_terms_survive_tokenizing() -> None:
    terms = tokenize("torch.sum(a, keepdim=True) on KV caches: p99 and INT8 with jit_compile")
    expected = {"torch.sum", "torch", "sum", "keepdim", "cache", "p99", "int8", "jit_compile", "jit", "compile"}
    assert expected <= set(terms)
    assert "on" not in terms and "and" not in terms


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("int8 calibration", "Walk through a TensorRT optimization workflow"),
        ("continuous batching", "How do dynamic batching in a model server and continuous batching"),
        ("keepdim when summing over dim 0", "what is the difference between ``torch.sum"),
        ("p99 tail latency", "What do latency SLOs and tail latency"),
    ],
)
def test_a_query_with_exact_terms_ranks_their_question_first(
    index: KnowledgeIndex, embedder, query: str, expected: str
) -> None:
    hits = search(index, embedder, query, k=3)
    assert hits[0].question.question.startswith(expected), [hit.question.question for hit in hits]


def test_the_exact_term_index_follows_the_documents(indexed_settings: Settings, embedder) -> None:
    (indexed_settings.knowledge_dir / "90-new.md").write_text(
        "Q: What is the zorblax scheduler?\n\nA zorblax scheduler orders requests by deadline.\n", encoding="utf-8"
    )
    index = open_index(indexed_settings.knowledge_dir, indexed_settings.index_dir, embedder).index
    hit = search(index, embedder, "zorblax", k=1)[0]
    assert hit.question.question == "What is the zorblax scheduler?" and hit.lexical > 0.35


def test_phrasings_of_bank_questions_find_them_in_the_top_3(index: KnowledgeIndex, embedder) -> None:
    dense = search_quality(index, embedder, 0.0)["groups"]["all"]
    hybrid = search_quality(index, embedder, LEXICAL_WEIGHT)["groups"]["all"]
    top3 = [sum(found for _, found in outcomes) / len(outcomes) for outcomes in (dense, hybrid)]
    assert len(hybrid) >= 200
    assert top3[1] >= 0.95 and top3[1] >= top3[0] + 0.05, top3  # 96.1% and 87.7% on the 150-question bank
