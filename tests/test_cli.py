"""The command line as a user runs it: JSON shapes, messages and exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interviewer.cli import main
from interviewer.settings import PROJECT_ROOT, Settings

from .fake_llm import FakeLLM, graded

QUESTION_KEYS = {"id", "question", "topic", "level", "reference_answer", "key_points", "sources", "source"}


@pytest.fixture
def cli_env(indexed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Environment so `main()` reads the test's home and knowledge copy."""
    monkeypatch.setenv("INTERVIEWER_KNOWLEDGE_DIR", str(indexed_settings.knowledge_dir))
    return indexed_settings


def test_questions_json_lists_the_bank(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["questions", "--json"]) == 0
    questions = json.loads(capsys.readouterr().out)
    assert len(questions) >= 60
    assert all(set(q) == QUESTION_KEYS for q in questions)
    assert all(":" in q["source"] for q in questions)


def test_questions_filtered_by_topic(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["questions", "--topic", "performance optimization", "--json"]) == 0
    topics = {q["topic"] for q in json.loads(capsys.readouterr().out)}
    assert topics == {"Performance Optimization"}
    assert main(["questions", "--topic", "cooking"]) == 1
    assert "No questions with topic 'cooking'" in capsys.readouterr().err


def test_questions_filtered_by_level(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["questions", "--level", "expert"])
    assert "invalid choice: 'expert'" in capsys.readouterr().err
    (cli_env.knowledge_dir / "90-levels.md").write_text(
        "Q: What is a warm-up request?\nLevel: junior\nSources:\n- Triton docs: https://docs.nvidia.com/triton\n"
        "\nA first request.\n\nQ: How do you size a KV cache?\nLevel: staff\n\nLayers times heads.\n",
        encoding="utf-8",
    )
    assert main(["questions", "--level", "junior", "--level", "staff", "--json"]) == 0
    questions = json.loads(capsys.readouterr().out)
    assert [(q["question"], q["level"]) for q in questions][-2:] == [
        ("What is a warm-up request?", "junior"),
        ("How do you size a KV cache?", "staff"),
    ]
    assert questions[-2]["sources"] == [{"title": "Triton docs", "url": "https://docs.nvidia.com/triton"}]
    assert all(q["level"] in ("junior", "staff") for q in questions)


def test_search_json_is_best_first(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "serving models with dynamic batching", "--k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3
    assert all({"question", "answer", "topic", "source", "score"} <= set(hit) for hit in hits)
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    assert "batch" in (hits[0]["question"] + hits[0]["answer"]).lower()


@pytest.mark.parametrize(("query", "message"), [("", "query is empty"), ("y" * 100_000, "100,000 characters")])
def test_search_refuses_unusable_queries(
    cli_env: Settings, capsys: pytest.CaptureFixture[str], query: str, message: str
) -> None:
    assert main(["search", query]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and "Traceback" not in error


def test_ingest_reports_what_it_did(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    assert capsys.readouterr().out.startswith("Loaded the index: ")
    (cli_env.knowledge_dir / "90-extra.md").write_text("Q: What is a warm-up request?\n\nA first request.\n")
    assert main(["ingest"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Rebuilt the index: ") and "new: 90-extra.md" in out


def test_python_dash_m_runs_the_cli(cli_env: Settings) -> None:
    env = {**os.environ, "INTERVIEWER_KNOWLEDGE_DIR": str(cli_env.knowledge_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "interviewer", "questions", "--topic", "Behavioral", "--json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) >= 8


KV_ANSWER = (
    "Each layer keeps the keys and values of past tokens, so a decode step computes them only for the new token. "
    "It costs 2 x layers x KV heads x head_dim x bytes per token, times sequence length and batch."
)


@pytest.fixture
def endpoint() -> Iterator[FakeLLM]:
    """A chat-completions server that would grade every answer 4.5."""
    fake = FakeLLM(graded(4.5)).start()
    yield fake
    fake.stop()


def test_grade_json_finds_the_reference_for_a_freely_worded_question(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", "--question", "what's a kv cache", "--answer", KV_ANSWER, "--json"]) == 0
    grade = json.loads(capsys.readouterr().out)
    assert grade["grader"] == "offline" and 0 <= grade["score"] <= 5
    assert grade["reference"]["question_id"].startswith("what-is-the-kv-cache")
    made = [point for point in grade["key_points"] if point["status"] == "made"]
    assert made and grade["key_points_covered"] == [point["key_point"] for point in made]
    assert all(point["evidence"] in KV_ANSWER for point in made)  # each credited point quotes the answer
    assert main(["grade", "--question", "what's a kv cache", "--answer", "   "]) == 0
    assert "**Score: 0/5**" in capsys.readouterr().out


def test_grade_follows_the_grader_setting_unless_told_otherwise(
    cli_env: Settings, endpoint: FakeLLM, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTERVIEWER_LLM_BASE_URL", endpoint.base_url)
    monkeypatch.setenv("INTERVIEWER_LLM_MODEL", "grader-model")
    monkeypatch.setenv("INTERVIEWER_GRADER", "offline")
    assert main(["grade", "--question", "What is a KV cache?", "--answer", KV_ANSWER, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["grader"] == "offline"
    assert endpoint.requests == []  # the setting said offline: the endpoint is never asked

    assert main(["grade", "--question", "What is a KV cache?", "--answer", KV_ANSWER, "--grader", "llm", "--json"]) == 0
    grade = json.loads(capsys.readouterr().out)
    assert grade["grader"] == "llm:grader-model" and grade["score"] == 4.5
    assert len(endpoint.requests) == 1


def test_eval_prints_agreement_with_human_scores(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "graded.csv"
    rows = [
        ("What is a KV cache?", KV_ANSWER, 4.5),
        ("What is a KV cache?", "It stores the keys and values of earlier tokens in each layer.", 3.0),
        ("What is a KV cache?", "A cache.", 0.5),
        ("What is a KV cache?", "My favourite recipe is tomato sauce with basil.", 0.0),
        ("How does dynamic batching work?", "Requests are grouped into one batch up to a size or a delay.", 3.5),
        ("How does dynamic batching work?", "It batches.", 0.5),
    ]
    with dataset.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["question", "answer", "score"])
        writer.writerows(rows)
    assert main(["eval", "--dataset", str(dataset), "--grader", "offline", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"pearson", "spearman", "rmse", "qwk", "n"}
    assert figures["n"] == len(rows) and figures["pearson"] > 0.5
    assert main(["eval", "--dataset", str(dataset)]) == 0
    assert capsys.readouterr().out.startswith("pearson ")


def test_what_an_llm_writes_cannot_drive_the_terminal(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = (
        "Good.\x1b[2J\x1b]8;;http://127.0.0.1:9/x\x07click\x1b]8;;\x07 \x1b]52;c;cm0gLXJmIH4=\x07"
        "Score: 1\rScore: 5 \u202eevil\u202c \U000e0041"
    )
    fake = FakeLLM(graded(3.0, strengths=hostile, improvements=hostile)).start()
    monkeypatch.setenv("INTERVIEWER_LLM_BASE_URL", fake.base_url)
    try:
        asked = ["grade", "--question", "What is a KV cache?", "--answer", KV_ANSWER, "--grader", "llm"]
        assert main(asked) == 0
        shown = capsys.readouterr().out
        assert main([*asked, "--json"]) == 0
        as_json = json.loads(capsys.readouterr().out)
    finally:
        fake.stop()
    assert not any(character in shown for character in "\x1b\x07\r\u202e\u202c\U000e0041")
    assert "Good.\\u001b[2J\\u001b]8;;http://127.0.0.1:9/x\\u0007click" in shown  # shown as the text it is
    assert "\\u202eevil\\u202c \\udb40\\udc41" in shown
    assert as_json["strengths"] == hostile  # JSON output stays valid and loses nothing
