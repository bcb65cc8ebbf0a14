"""The terminal round driven through its standard input, then read back with `transcripts`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from interviewer.settings import PROJECT_ROOT, Settings

ANSWER = (
    "Dynamic batching groups concurrent requests into one batch to raise GPU throughput. A maximum batch size "
    "and a maximum queue delay bound how long a request waits."
)


def run_cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "INTERVIEWER_HOME": str(settings.home),
        "INTERVIEWER_KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "INTERVIEWER_GRADER": "offline",
        "INTERVIEWER_WHISPER_MODEL": os.environ.get("INTERVIEWER_WHISPER_MODEL", ""),
    }
    return subprocess.run(
        [sys.executable, "-m", "interviewer", *args],
        input=stdin,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_terminal_round_is_graded_recorded_and_exported(indexed_settings: Settings) -> None:
    stdin = f"/hint\n\n{ANSWER}\nsecond line of the same answer\n\n/skip\n\n/skip\n\n/end\n\n"
    result = run_cli(indexed_settings, "round", "--focus", "batching", "--n", "2", stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Question 1/2" in out
    assert "A strong answer touches on:" in out  # the hint
    assert "**Score: " in out and ") - graded by offline" in out
    assert "finished:" in out

    listed = run_cli(indexed_settings, "transcripts", "list", "--json")
    (summary,) = json.loads(listed.stdout)
    exported = run_cli(indexed_settings, "transcripts", "export", summary["id"], "--format", "json")
    record = json.loads(exported.stdout)
    first = record["turns"][0]
    assert first["answer"] == ANSWER + "\nsecond line of the same answer"
    assert first["grade"]["grader"] == "offline" and 0 <= first["grade"]["score"] <= 5
    assert record["ended_at"] is not None
    assert any(turn["skipped"] for turn in record["turns"])
    plain = run_cli(indexed_settings, "transcripts", "list").stdout
    assert summary["id"] in plain and f"{len(record['turns'])} turns" in plain

    markdown = run_cli(indexed_settings, "transcripts", "show", summary["id"]).stdout
    assert markdown.startswith(f"# Interview round {summary['id']}")
    assert "> Dynamic batching groups concurrent requests" in markdown


def test_end_of_input_ends_the_round_cleanly(indexed_settings: Settings) -> None:
    result = run_cli(indexed_settings, "round", "--n", "1", stdin="")
    assert result.returncode == 0, result.stderr
    assert "finished: no graded answers" in result.stdout


def test_transcripts_show_with_an_unknown_id_is_a_clear_error(indexed_settings: Settings) -> None:
    result = run_cli(indexed_settings, "transcripts", "show", "nope")
    assert result.returncode == 1
    assert result.stderr.startswith("error: No round with id 'nope'")


def test_a_command_on_its_own_line_acts_at_once(indexed_settings: Settings) -> None:
    """Commands need no empty line after them, and are never graded as an answer."""
    result = run_cli(indexed_settings, "round", "--focus", "batching", "--n", "2", stdin="/hint\n/skip\n/end\n")
    assert result.returncode == 0, result.stderr
    assert "A strong answer touches on:" in result.stdout
    assert "Question 2/2" in result.stdout  # /skip moved on
    (summary,) = json.loads(run_cli(indexed_settings, "transcripts", "list", "--json").stdout)
    record = json.loads(run_cli(indexed_settings, "transcripts", "export", summary["id"], "--format", "json").stdout)
    assert [(turn["skipped"], turn["answer"]) for turn in record["turns"]] == [(True, None)]


def test_a_recording_answers_as_heard_or_as_corrected_and_a_bad_one_asks_again(
    indexed_settings: Settings, speech_env: Path, spoken_answer: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio", encoding="utf-8")
    corrected = "Dynamic batching groups requests into one batch; a queue delay bounds the wait."
    stdin = f"{broken}\n\n{spoken_answer}\n\n\n{spoken_answer}\n\n{corrected}\n\n/end\n\n"
    result = run_cli(indexed_settings, "round", "--focus", "dynamic batching", "--n", "2", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "That file is not audio that can be read" in result.stderr
    assert result.stdout.count("Transcript (offline:") == 2 and "Delivery: " in result.stdout
    heard = result.stdout.split("Transcript (offline:", 1)[1].split("): ", 1)[1].split("\n", 1)[0]

    (summary,) = json.loads(run_cli(indexed_settings, "transcripts", "list", "--json").stdout)
    record = json.loads(run_cli(indexed_settings, "transcripts", "export", summary["id"], "--format", "json").stdout)
    assert [turn["answer"] for turn in record["turns"]] == [heard, corrected]
    assert "throughput" in heard.lower()
