"""Settings: which key goes with which endpoint, and how the settings file is written."""

from __future__ import annotations

import os
import stat
import threading
import tomllib
from pathlib import Path

import pytest

from interviewer.errors import ConfigError
from interviewer.settings import OPENAI_ENDPOINT, load_settings, save_settings_file

ELSEWHERE = "http://127.0.0.1:9/v1"


def key_of(**overrides: object) -> str | None:
    """The key the loaded settings would send, as text."""
    key = load_settings(**overrides).llm_key
    return key.get_secret_value() if key else None


def test_an_environment_key_does_not_follow_an_endpoint_saved_on_the_settings_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert key_of() == "sk-env" and load_settings().llm_endpoint == OPENAI_ENDPOINT
    save_settings_file(load_settings(), {"llm_base_url": ELSEWHERE})
    settings = load_settings()
    assert settings.llm_endpoint == ELSEWHERE and settings.llm_key is None


def test_an_environment_key_goes_to_the_endpoint_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVIEWER_LLM_API_KEY", "sk-env")
    monkeypatch.setenv("INTERVIEWER_LLM_BASE_URL", ELSEWHERE + "/")  # a trailing slash names the same endpoint
    save_settings_file(load_settings(), {"llm_base_url": "http://127.0.0.1:8/v1"})  # the environment wins
    assert load_settings().llm_endpoint == ELSEWHERE and key_of() == "sk-env"


def test_a_saved_key_does_not_follow_an_endpoint_set_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings_file(load_settings(), {"llm_base_url": ELSEWHERE, "llm_api_key": "sk-saved"})
    assert key_of() == "sk-saved"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8/v1")
    assert key_of() is None


def test_a_secrets_file_key_belongs_to_the_secrets_file_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'OPENAI_API_KEY = "sk-secret"\nOPENAI_BASE_URL = "{ELSEWHERE}"\n', encoding="utf-8")
    monkeypatch.setenv("INTERVIEWER_SECRETS_FILE", str(secrets))
    assert key_of() == "sk-secret"
    assert key_of(llm_base_url="http://127.0.0.1:8/v1") is None
    secrets.write_text('OPENAI_API_KEY = "sk-secret"\n', encoding="utf-8")
    save_settings_file(load_settings(), {"llm_base_url": ELSEWHERE})  # the key was for OpenAI's endpoint
    assert key_of() is None


def test_a_key_is_only_read_for_the_endpoint_it_was_given_for() -> None:
    settings = load_settings(llm_base_url=ELSEWHERE, llm_api_key="sk-x")
    assert settings.llm_key is not None
    moved = settings.model_copy(update={"llm_base_url": "http://127.0.0.1:8/v1"})
    assert moved.llm_key is None


def test_saving_another_endpoint_without_a_key_drops_the_saved_key_and_says_so() -> None:
    save_settings_file(load_settings(), {"llm_base_url": ELSEWHERE, "llm_api_key": "sk-saved"})
    same = save_settings_file(load_settings(), {"llm_base_url": ELSEWHERE, "llm_model": "m"})
    assert same.dropped_key_for is None and key_of() == "sk-saved"
    moved = save_settings_file(load_settings(), {"llm_base_url": "http://127.0.0.1:8/v1"})
    assert moved.dropped_key_for == ELSEWHERE
    assert key_of() is None
    assert "sk-saved" not in moved.path.read_text(encoding="utf-8")
    renewed = save_settings_file(load_settings(), {"llm_base_url": ELSEWHERE, "llm_api_key": "sk-new"})
    assert renewed.dropped_key_for is None and key_of() == "sk-new"


def test_the_settings_file_is_private_and_no_temporary_file_is_left(isolated_home: Path) -> None:
    previous = os.umask(0)  # even a permissive umask must not widen the file
    try:
        path = save_settings_file(load_settings(), {"llm_api_key": "sk-private"}).path
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in isolated_home.iterdir()] == ["settings.toml"]


def test_concurrent_saves_do_not_collide(isolated_home: Path) -> None:
    settings = load_settings()
    errors: list[BaseException] = []

    def save(number: int) -> None:
        try:
            for round_ in range(10):
                save_settings_file(settings, {"llm_model": f"model-{number}-{round_}"})
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [entry.name for entry in isolated_home.iterdir()] == ["settings.toml"]
    saved = tomllib.loads((isolated_home / "settings.toml").read_text(encoding="utf-8"))
    assert saved["llm_model"].startswith("model-")
    assert stat.S_IMODE((isolated_home / "settings.toml").stat().st_mode) == 0o600


@pytest.mark.parametrize("model", ["gpt-4o-mini", "llama3.1:8b-instruct-q4_K_M", "Qwen/Qwen2.5-7B-Instruct"])
def test_model_names_endpoints_use_are_accepted(model: str) -> None:
    assert load_settings(llm_model=model).llm_model == model


@pytest.mark.parametrize("model", ["![m](http://127.0.0.1:9/m.png)", "<img src=x>", "http://127.0.0.1:9/x", "a b"])
def test_a_model_name_that_would_be_markup_on_a_page_is_refused(model: str) -> None:
    with pytest.raises(ConfigError, match="llm_model"):
        load_settings(llm_model=model)
    with pytest.raises(ConfigError, match="Not saved: llm_model"):
        save_settings_file(load_settings(), {"llm_model": model})
