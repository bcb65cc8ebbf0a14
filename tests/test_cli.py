"""The command line as a user runs it: JSON shapes, messages and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from interviewer.cli import main
from interviewer.settings import PROJECT_ROOT, Settings

QUESTION_KEYS = {"id", "question", "topic", "reference_answer", "key_points", "source"}


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
