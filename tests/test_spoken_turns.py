"""A spoken answer's turn: graded like typed text, its delivery figures and recording kept with it (or not, as the
settings say), its recording gone with its round, and databases from before spoken answers migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from interviewer.engine import Interviewer, Prompt, RoundOptions
from interviewer.errors import StaleAnswerError
from interviewer.export import round_dict, round_markdown
from interviewer.models import LOCAL_OWNER, SpokenAnswer
from interviewer.runtime import build_runtime
from interviewer.settings import Settings
from interviewer.speech.delivery import Word, measure
from interviewer.speech.recordings import recording_path
from interviewer.store import SqlStore
from interviewer.store.migrate import _config

ANSWER = "Dynamic batching groups requests into one batch, um, so throughput goes up at some cost in latency."
DELIVERY = measure(
    [Word(word, i * 0.4, i * 0.4 + 0.3) for i, word in enumerate(ANSWER.split())] + [Word("Done.", 12.0, 12.4)], 13.0
)
RECORDING = b"RIFF....WAVEfmt recorded answer"


def engine_for(settings: Settings, embedder: object) -> Interviewer:
    return build_runtime(settings, warm=False, embedder=embedder).interviewer  # type: ignore[arg-type]


def first_prompt(engine: Interviewer) -> Prompt:
    prompt = engine.next_prompt(engine.start(RoundOptions(focus="dynamic batching", count=2)))
    assert prompt is not None
    return prompt


def test_a_store_from_before_spoken_answers_gains_their_columns_and_keeps_its_turns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0002")  # the schema before spoken answers
        connection.execute(
            text(
                "INSERT INTO rounds (id, owner, started_at, mode, topics, question_ids) "
                "VALUES ('r1', :owner, '2026-11-01T00:00:00+00:00', 'practice', '[]', '[]')"
            ),
            {"owner": LOCAL_OWNER},
        )
        connection.execute(
            text(
                "INSERT INTO turns (round_id, position, kind, topic, question, answer, skipped, created_at) "
                "VALUES ('r1', 0, 'question', 'PyTorch', 'Q?', 'typed', 0, '2026-11-01T00:00:00+00:00')"
            )
        )
    engine.dispose()
    (turn,) = SqlStore(url).get_round("r1", owner=LOCAL_OWNER).turns
    assert turn.answer == "typed" and turn.recording is None and turn.delivery is None
    columns = [row[1] for row in sqlite3.connect(tmp_path / "old.db").execute("PRAGMA table_info(turns)")]
    assert columns[-2:] == ["recording", "delivery"]


def test_a_spoken_answer_keeps_its_recording_and_delivery_and_both_go_with_the_round(
    indexed_settings: Settings, embedder: object
) -> None:
    engine = engine_for(indexed_settings, embedder)
    prompt = first_prompt(engine)
    typed = engine_for(indexed_settings, embedder)
    typed_grade = typed.grading.grade(prompt.question, ANSWER, typed.reference_for(prompt))
    outcome = engine.answer(prompt, ANSWER, SpokenAnswer(RECORDING, ".wav", DELIVERY))

    (turn,) = engine.round(prompt.round_id).turns
    assert turn.answer == ANSWER and turn.grade is not None
    assert turn.grade.score == typed_grade.score  # delivery never changes the technical score
    assert turn.delivery == DELIVERY and turn.delivery.fillers == {"um": 1}
    kept = recording_path(indexed_settings.recordings_dir, turn.recording)
    assert kept is not None and kept.read_bytes() == RECORDING and kept.suffix == ".wav"
    assert outcome.turn.recording == turn.recording
    record = engine.round(prompt.round_id)
    assert round_dict(record)["turns"][0]["delivery"]["filler_words"] == 1  # type: ignore[index]
    assert "Delivery (spoken; not part of the score): " in round_markdown(record)

    assert engine.delete_round(prompt.round_id)
    assert not kept.exists() and not (indexed_settings.recordings_dir / prompt.round_id).exists()


def test_with_recordings_off_only_the_delivery_is_kept(indexed_settings: Settings, embedder: object) -> None:
    settings = indexed_settings.model_copy(update={"keep_recordings": False})
    engine = engine_for(settings, embedder)
    prompt = first_prompt(engine)
    engine.answer(prompt, ANSWER, SpokenAnswer(RECORDING, ".wav", DELIVERY))
    (turn,) = engine.round(prompt.round_id).turns
    assert turn.recording is None and turn.delivery == DELIVERY
    assert not settings.recordings_dir.exists()


def test_a_spoken_answer_the_round_cannot_take_leaves_no_recording(
    indexed_settings: Settings, embedder: object
) -> None:
    engine = engine_for(indexed_settings, embedder)
    prompt = first_prompt(engine)
    engine.skip(prompt)
    with pytest.raises(StaleAnswerError):
        engine.answer(prompt, ANSWER, SpokenAnswer(RECORDING, ".wav", DELIVERY))
    leftovers = list(indexed_settings.recordings_dir.rglob("*")) if indexed_settings.recordings_dir.exists() else []
    assert [path for path in leftovers if path.is_file()] == []


def test_a_stored_recording_name_cannot_point_outside_the_recordings_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not a recording", encoding="utf-8")
    folder = tmp_path / "recordings"
    folder.mkdir()
    assert recording_path(folder, "../secret.txt") is None
    assert recording_path(folder, str(outside)) is None
