"""Figures a candidate computes: found in the answer in any common notation, converted, checked, shown and exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interviewer.cli import main
from interviewer.export import grade_markdown
from interviewer.figures import FigureCheck, check_figure, check_figures, wrong_figures_note
from interviewer.grade import CriterionScores, Grade
from interviewer.knowledge import Figure

PER_TOKEN = Figure("KV cache per token", 327680, "bytes", 2)
CONTEXT = Figure("KV cache for a 32k-token context", 10.7, "GB", 5)
WORKING = "2 x 80 layers x 8 KV heads x 128 head_dim x 2 bytes = 327,680 B per token; x 32,768 tokens = 10.7 GB"

KV_DOCUMENT = f"""Q: How much KV-cache memory does Llama-3.1-70B need per token in BF16, and for a 32k-token context?
Topic: LLM Serving
Level: senior
Key points:
- Per token the cache holds K and V for every layer and KV head
- GQA with 8 KV heads shrinks the cache eightfold against 64 query heads
- BF16 stores two bytes per element
Figure: {PER_TOKEN}
Figure: {CONTEXT}
Working: {WORKING}

Per token the cache holds a key and a value vector for every layer and every KV head: 2 x 80 layers x 8 KV heads
x 128 head_dim x 2 bytes (BF16) = 327,680 bytes. GQA keeps 8 KV heads for 64 query heads, so the cache is eight
times smaller than with full multi-head attention. A 32k-token context (32,768 tokens) needs 10.7 GB (10 GiB).
"""


@pytest.mark.parametrize(
    ("answer", "verdicts"),
    [
        ("I would not know without looking it up.", ["missing", "missing"]),
        ("Roughly 160 KB per token, so about 5 GB for the context.", ["wrong", "wrong"]),
        ("A 32k context needs 10,737,418,240 bytes.", ["missing", "right"]),  # a total is not a per-token attempt
        ("Each token adds 655,360 bytes and 32k tokens take 21.4 GB.", ["wrong", "wrong"]),
        ("It is 327,680 bytes per token, so 10.7 GB for 32k tokens.", ["right", "right"]),
        ("About ~330 KB/token and 10 GiB in total.", ["right", "right"]),
        ("320 KiB per token; 10.0 GiB for the whole context", ["right", "right"]),
    ],
)
def test_figures_are_found_converted_and_judged(answer: str, verdicts: list[str]) -> None:
    assert [check.verdict for check in check_figures((PER_TOKEN, CONTEXT), WORKING, answer)] == verdicts


@pytest.mark.parametrize(
    ("figure", "answer", "found"),
    [
        (Figure("GPUs needed", 4, "GPUs", 0), "We need 4 GPUs with tensor parallelism.", 4.0),
        (Figure("throughput", 1200, "tokens/s", 10), "It sustains 1.2k tokens/s per replica.", 1200.0),
        (Figure("decode step", 12, "ms", 10), "A step takes 0.0125 s at batch 1.", 12.5),
        (Figure("cost", 0.42, "$ per million tokens", 10), "That comes to $0.40 per million tokens.", 0.4),
        (Figure("tokens per day", 10e6, "tokens", 5), "About 10M tokens a day.", 10e6),
    ],
)
def test_units_and_suffixes_are_read(figure: Figure, answer: str, found: float) -> None:
    check = check_figure(figure, "", answer)
    assert check.verdict == "right" and check.found == pytest.approx(found)


def test_a_wrong_figure_is_named_with_the_expected_value() -> None:
    checks = check_figures((PER_TOKEN, CONTEXT), WORKING, "About 160 KB per token and 10.7 GB in total.")
    assert wrong_figures_note(checks) == "Check your arithmetic: KV cache per token should be about 327,680 bytes."
    assert checks[0].describe() == "KV cache per token: 160 KB is wrong (expected 327,680 bytes ± 2%)"
    lines = grade_markdown_lines(checks)
    assert "- KV cache per token: 160 KB is wrong (expected 327,680 bytes ± 2%)" in lines
    assert any(line.startswith("- Working: 2 x 80 layers") for line in lines)


def grade_markdown_lines(checks: list[FigureCheck]) -> list[str]:
    """The export of a grade that carries these checks."""
    grade = Grade(
        reasoning="r",
        key_points_covered=[],
        key_points_missed=[],
        criteria=CriterionScores(correctness=2, completeness=2, depth=2, communication=3),
        score=2,
        strengths="s",
        improvements="i",
        model_answer="m",
        grader="offline",
        figures=checks,
    )
    return grade_markdown(grade)


def test_grade_json_carries_the_figure_check(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    knowledge = tmp_path / "kv-knowledge"
    knowledge.mkdir()
    (knowledge / "kv.md").write_text(KV_DOCUMENT, encoding="utf-8")
    monkeypatch.setenv("INTERVIEWER_KNOWLEDGE_DIR", str(knowledge))
    question = KV_DOCUMENT.splitlines()[0].removeprefix("Q: ")
    answer = "K and V for 80 layers and 8 KV heads in BF16: about 160 KB per token, so 5 GB for 32k tokens."
    assert main(["grade", "--question", question, "--answer", answer, "--grader", "offline", "--json"]) == 0
    grade = json.loads(capsys.readouterr().out)
    assert [(f["label"], f["verdict"], f["found_text"]) for f in grade["figures"]] == [
        ("KV cache per token", "wrong", "160 KB"),
        ("KV cache for a 32k-token context", "wrong", "5 GB"),
    ]
    assert grade["figures"][0]["working"] == WORKING and grade["figures"][1]["expected"] == 10.7
    assert "should be about 327,680 bytes" in grade["improvements"]
