"""Prompt files, filled by name: every text the LLM sees lives in `prompts/` and is reviewed as a diff there.

`string.Template` substitutes once, so a value (the candidate's answer) is never re-read as a template, and a
missing value raises instead of leaving a blank hole in a prompt.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from interviewer.errors import ConfigError


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    """A prompt file's text, read once per process."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"Prompt file {path} cannot be read ({error}); restore it from the repository.") from error


def render(prompts_dir: Path, name: str, **values: str) -> str:
    """Fill `prompts/<name>.md` with `values`; every placeholder must be given."""
    template = string.Template(_read(prompts_dir / f"{name}.md"))
    try:
        return template.substitute(values).strip()
    except KeyError as error:
        raise ConfigError(f"Prompt {name}.md needs a value for {error.args[0]!r}.") from error
