"""The test OpenID Connect provider (tests/oidc/provider.mjs, node-oidc-provider), the app's [auth] secrets for it,
and signing in at it in a browser; the browser tests and `bench.app --team` use them.

`make test` runs `npm ci` in tests/oidc; without node or the installed package a test that signs in is skipped on
a developer machine and fails under CI. The client secret and cookie keys are made for each run and never printed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

OIDC_DIR = Path(__file__).parent / "oidc"
READY_WITHIN = 30.0


@dataclass(frozen=True)
class Provider:
    """A running provider and the client registered with it for the app."""

    issuer: str
    client_id: str
    client_secret: str

    def secrets_toml(self, redirect_uri: str) -> str:
        """The app's `.streamlit/secrets.toml` [auth] section for this provider, as Streamlit documents it."""
        return "\n".join(
            [
                "[auth]",
                f'redirect_uri = "{redirect_uri}"',
                f'cookie_secret = "{secrets.token_hex(32)}"',
                f'client_id = "{self.client_id}"',
                f'client_secret = "{self.client_secret}"',
                f'server_metadata_url = "{self.issuer}/.well-known/openid-configuration"',
                # Ask for the password every time, so a second person can sign in after the first signs out.
                'client_kwargs = { prompt = "login" }',
                "",
            ]
        )


def require_provider() -> None:
    """Skip (fail under CI) when node or the provider's npm packages are missing."""
    missing = shutil.which("node") is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir()
    if missing:
        message = "node and `npm ci` in tests/oidc are needed for sign-in tests (make test does both)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextlib.contextmanager
def oidc_provider(port: int, redirect_uri: str, log: Path) -> Iterator[Provider]:
    """Run the provider on `port` with a client for `redirect_uri` (several: separated by spaces) until the block
    ends; its output goes to `log`."""
    provider = Provider(f"http://127.0.0.1:{port}", "interview-coach", secrets.token_urlsafe(24))
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_COOKIE_KEY": secrets.token_urlsafe(32),
    }
    process = subprocess.Popen(
        ["node", "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ready = threading.Event()

    def follow() -> None:  # copy its output to the log, and say when it listens
        assert process.stdout is not None
        with log.open("w") as sink:
            for line in process.stdout:
                sink.write(line)
                sink.flush()
                if line.startswith("ready "):
                    ready.set()

    threading.Thread(target=follow, daemon=True).start()
    try:
        if not ready.wait(READY_WITHIN):
            raise RuntimeError("the test OpenID Connect provider did not start:\n" + log.read_text())
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)


def sign_in(page: Page, app_url: str, issuer: str, name: str, timeout_ms: float = 60_000) -> None:
    """Open the app in `page` and sign in at the provider as `name`; returns once the app greets them."""
    page.goto(app_url)
    page.get_by_role("button", name="Sign in").click(timeout=timeout_ms)
    page.wait_for_url(f"{issuer}/interaction/**", timeout=timeout_ms)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill("any password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=timeout_ms)
