"""App benchmark: cold start, warm page to first question, answer to offline grade shown, resident memory.

Run: `.venv/bin/python -m bench.app` (needs Debian's chromium; `make bench` installs it). It starts a real
`streamlit run app.py` on a free port with a temporary home whose index is already built (as after `make run`
once), and drives it with headless Chromium. Figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from interviewer.embeddings import SentenceTransformerEmbedder
from interviewer.index import open_index
from interviewer.settings import PROJECT_ROOT, load_settings

ANSWER = (
    "Dynamic batching groups concurrent requests into one batch to raise throughput; a maximum batch size and a "
    "maximum queue delay bound the extra latency each request pays."
)
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of a process in KiB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


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
    expect(page.get_by_role("button", name="Start the round")).to_be_visible(timeout=120_000)
    form = time.perf_counter() - start
    page.get_by_label("Or a focus, in your own words").fill("dynamic batching")
    clicked = time.perf_counter()
    page.get_by_role("button", name="Start the round").click()
    chat = page.get_by_placeholder("Your answer")
    expect(chat).to_be_visible(timeout=60_000)
    question = time.perf_counter() - clicked
    chat.fill(ANSWER)
    sent = time.perf_counter()
    chat.press("Enter")
    expect(page.get_by_text("Score", exact=True).first).to_be_visible(timeout=60_000)
    graded = time.perf_counter() - sent
    return form, question, graded


def main() -> None:
    """Print every figure of the app benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds to time")
    args = parser.parse_args()
    settings = load_settings()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        open_index(settings.knowledge_dir, home / "index", SentenceTransformerEmbedder(settings.embedding_model))
        env = {**os.environ, "INTERVIEWER_HOME": str(home), "INTERVIEWER_GRADER": "offline"}
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(url, time.monotonic() + 120)
            healthy = time.perf_counter() - started
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=BROWSER_ARGS)
                page = browser.new_page()
                first_form, first_question, first_grade = one_round(page, url)
                cold = time.perf_counter() - started
                timings = [one_round(browser.new_page(), url) for _ in range(args.rounds)]
                browser.close()
            rss, peak = memory_kib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

    def stat(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:6.0f} ms, max {max(values) * 1000:6.0f} ms"

    print(f"cold start: process to healthy {healthy:.1f} s; to a page that answers {healthy + first_form:.1f} s")
    print(f"  first round (loads model and index): question {first_question:.2f} s, grade {first_grade:.2f} s")
    print(f"  whole first round incl. browser start: {cold:.1f} s")
    print(f"warm page to form:           {stat([t[0] for t in timings])}  (n={len(timings)})")
    print(f"Start clicked to question:   {stat([t[1] for t in timings])}")
    print(f"page + Start to question:    {stat([t[0] + t[1] for t in timings])}")
    print(f"answer sent to grade shown:  {stat([t[2] for t in timings])}")
    print(f"app process memory: {rss / 1024:.0f} MiB resident now, {peak / 1024:.0f} MiB peak")


if __name__ == "__main__":
    main()
