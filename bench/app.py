"""App benchmark: cold start, warm page to first question, answer to offline grade shown, resident memory.

Run: `.venv/bin/python -m bench.app` (needs Debian's chromium; `make bench` installs it). It starts `make run`
on a free port with a temporary home whose index is already built (as after a first `make run`), and drives it
with headless Chromium. Each figure ends when the page shows the thing, checked on every animation frame
(Playwright's `expect` re-checks at steps of up to 500 ms, too coarse for these targets). Warm rounds are timed twice:
in a tab of a browser that has seen the app before (its scripts cached, as for someone practising daily) and in
a fresh browser profile (a first visit). Figures go to docs/BENCHMARKS.md.

`--team` times team mode instead, beside local mode in the same run: two `streamlit run` servers on the same
built index, one local and one in team mode signing people in at the test OpenID Connect provider
(tests/oidc, `make oidc`). After one sign-in, rounds in new tabs of that browser profile alternate between the
two servers, so both see the same load; the ratio of their medians is the cost of team mode.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.index import open_index
from interviewer.settings import PROJECT_ROOT, load_settings
from tests.oidc_provider import oidc_provider, sign_in

ANSWER = (
    "Dynamic batching groups concurrent requests into one batch to raise throughput; a maximum batch size and a "
    "maximum queue delay bound the extra latency each request pays."
)
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FORM_SHOWN = "[...document.querySelectorAll('button')].some(b => b.innerText.includes('Start the round'))"
QUESTION_SHOWN = "document.querySelector('textarea[placeholder=\"Your answer\"]') !== null"
GRADE_SHOWN = (
    "[...document.querySelectorAll('[data-testid=\"stMetricLabel\"]')].some(e => e.innerText.trim() === 'Score')"
)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process in KiB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def wait_shown(page: Page, condition: str, timeout_s: float = 120) -> float:
    """Wait until the JavaScript condition holds, checked every animation frame; the moment it did."""
    page.wait_for_function(condition, polling="raf", timeout=timeout_s * 1000)
    return time.perf_counter()


def wait_healthy(url: str, deadline: float) -> None:
    """Poll Streamlit's health endpoint until it answers ok."""
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("streamlit did not become healthy")


def one_round(page: Page, url: str) -> tuple[float, float, float]:
    """(page to form, Start to first question, answer to grade shown) in seconds, for one round."""
    start = time.perf_counter()
    page.goto(url)
    form = wait_shown(page, FORM_SHOWN) - start
    page.get_by_label("Or a focus, in your own words").fill("latency")  # the bank has at least 5 questions on it
    clicked = time.perf_counter()
    page.get_by_role("button", name="Start the round").click()
    question = wait_shown(page, QUESTION_SHOWN) - clicked
    chat = page.get_by_placeholder("Your answer")
    chat.fill(ANSWER)
    sent = time.perf_counter()
    chat.press("Enter")
    graded = wait_shown(page, GRADE_SHOWN) - sent
    page.close()
    return form, question, graded


def timed_rounds(browser: Browser, url: str, rounds: int, returning: bool) -> list[tuple[float, float, float]]:
    """Rounds in new tabs of one browser profile (returning) or each in a fresh profile (first visit)."""
    if returning:
        profile = browser.new_context()
        one_round(profile.new_page(), url)  # the visit that fills the cache, not counted
        return [one_round(profile.new_page(), url) for _ in range(rounds)]
    return [one_round(browser.new_page(), url) for _ in range(rounds)]


def stat(values: list[float]) -> str:
    """Median and max in milliseconds."""
    return f"median {statistics.median(values) * 1000:6.0f} ms, max {max(values) * 1000:6.0f} ms"


def report(label: str, timings: list[tuple[float, float, float]]) -> None:
    """The warm figures of one set of rounds."""
    print(f"{label} (n={len(timings)}):")
    print(f"  page to form:                {stat([t[0] for t in timings])}")
    print(f"  Start clicked to question:   {stat([t[1] for t in timings])}")
    print(f"  page + Start to question:    {stat([t[0] + t[1] for t in timings])}")
    print(f"  answer sent to grade shown:  {stat([t[2] for t in timings])}")


def streamlit_pid(make: subprocess.Popen) -> int:
    """The `streamlit run` process that `make run` started (the one whose memory counts)."""
    for child in Path(f"/proc/{make.pid}/task/{make.pid}/children").read_text().split():
        if b"streamlit" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise SystemExit("make run did not start streamlit")


def serve(home: Path, port: int, *flags: str, **environment: str) -> subprocess.Popen:
    """`streamlit run app.py` on `port`, grading offline with the index in `home`."""
    env = {**os.environ, "INTERVIEWER_HOME": str(home), "INTERVIEWER_GRADER": "offline", **environment}
    command = ["-m", "streamlit", "run", "app.py", "--server.port", str(port), *flags]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def team_main(rounds: int) -> None:
    """Page + Start to the first question in team mode after sign-in, beside local mode in the same run."""
    settings = load_settings()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        open_index(settings.knowledge_dir, home / "index", SentenceTransformerEmbedder(settings.embedding_model))
        local_port, team_port, provider_port = free_port(), free_port(), free_port()
        local_url, team_url = f"http://127.0.0.1:{local_port}", f"http://127.0.0.1:{team_port}"
        with oidc_provider(provider_port, f"{team_url}/oauth2callback", Path(scratch) / "oidc.log") as provider:
            secrets_file = Path(scratch) / "secrets.toml"
            secrets_file.write_text(provider.secrets_toml(f"{team_url}/oauth2callback"))
            servers = [
                serve(home, local_port),
                serve(home, team_port, "--secrets.files", str(secrets_file), INTERVIEWER_MODE="team"),
            ]
            try:
                for url in (local_url, team_url):
                    wait_healthy(url, time.monotonic() + 120)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=BROWSER_ARGS)
                    local, team = browser.new_context(), browser.new_context()
                    signing_in = team.new_page()
                    sign_in(signing_in, team_url, provider.issuer, "ann")
                    signing_in.close()
                    one_round(local.new_page(), local_url)  # the visits that load the model and fill the caches
                    one_round(team.new_page(), team_url)
                    timings: dict[str, list[tuple[float, float, float]]] = {"local": [], "team": []}
                    for _ in range(rounds):
                        timings["local"].append(one_round(local.new_page(), local_url))
                        timings["team"].append(one_round(team.new_page(), team_url))
                    browser.close()
            finally:
                for server in servers:
                    server.terminate()
                    server.wait(timeout=30)
    report("local mode, returning visitor", timings["local"])
    report("team mode, signed in, returning visitor", timings["team"])
    medians = {mode: statistics.median(t[0] + t[1] for t in rows) for mode, rows in timings.items()}
    print(f"page + Start to question, team / local: {medians['team'] / medians['local']:.2f}")


def main() -> None:
    """Print every figure of the app benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds to time, per kind of visit")
    parser.add_argument("--team", action="store_true", help="team mode after sign-in, beside local mode")
    args = parser.parse_args()
    if args.team:
        team_main(args.rounds)
        return
    settings = load_settings()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        open_index(settings.knowledge_dir, home / "index", SentenceTransformerEmbedder(settings.embedding_model))
        env = {**os.environ, "INTERVIEWER_HOME": str(home), "INTERVIEWER_GRADER": "offline"}
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_healthy(url, time.monotonic() + 120)
            healthy = time.perf_counter() - started
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=BROWSER_ARGS)
                first_form, first_question, first_grade = one_round(browser.new_page(), url)
                cold = time.perf_counter() - started
                returning = timed_rounds(browser, url, args.rounds, returning=True)
                first_visits = timed_rounds(browser, url, args.rounds, returning=False)
                browser.close()
            rss, peak = memory_kib(streamlit_pid(make))
        finally:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(timeout=30)

    print(
        f"cold start of `make run`: healthy after {healthy:.1f} s, the page answers after {healthy + first_form:.1f} s"
    )
    print(f"  first round (the model still loading): question {first_question:.2f} s, grade {first_grade:.2f} s")
    print(f"  whole first round incl. browser start: {cold:.1f} s")
    report("warm, returning visitor (a new tab of a browser that has seen the app)", returning)
    report("warm, first visit (a fresh browser profile)", first_visits)
    print(f"app process memory: {rss / 1024:.0f} MiB resident now, {peak / 1024:.0f} MiB peak")


if __name__ == "__main__":
    main()
