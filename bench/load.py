"""Load test: many interview sessions at once against one `streamlit run app.py`, each in a real browser page.

Run: `.venv/bin/python -m bench.load` (or `make load`); figures go to docs/RELIABILITY.md. It builds a temporary
home with a copy of the project's index (`python -m interviewer ingest` refreshes it if it is stale), starts one
Streamlit server on a free loopback port with offline grading, and opens `--sessions` browser contexts in one
headless Chromium (Debian's, at /usr/bin/chromium). All sessions start together; each starts a practice round,
answers `--answers` prompts with a marker word of its own, and ends the round. Then the transcript store is
read back: every session's answers must be in one round of their own, and no transcript may hold another
session's marker. Everything is bounded by `--deadline` seconds, and the server is stopped at the end.

The latency reported is what a person waits: from pressing Enter in the chat input to the grade card of that
answer being visible in the page, as seen by the browser, while every other session does the same. It includes
the WebSocket round trip, the script rerun, offline grading and rendering; the first answers also pay for
encoding their question's reference once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from interviewer.settings import PROJECT_ROOT
from interviewer.store import Store

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # Every page stands for a person at their own screen: none of them may be throttled as a background tab.
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
ARTIFACT = PROJECT_ROOT / "test-artifacts" / "load.json"
MARKER = re.compile(r"\bzq(\d{2})marker\b")
ROUND_CAPTION = re.compile(r"Round ([0-9a-f]{12}) ·")
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ANSWER = (
    "Dynamic batching groups requests that arrive close together into one batch, so the accelerator runs one "
    "large kernel instead of many small ones; a maximum batch size and a queue delay bound the added latency."
)


@dataclass
class Session:
    """What one browser session did."""

    number: int
    round_id: str | None = None
    latencies: list[float] = field(default_factory=list)
    first_for_prompt: list[bool] = field(default_factory=list)  # no session had answered this prompt before
    error: str | None = None

    @property
    def marker(self) -> str:
        return f"zq{self.number:02d}marker"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_home(home: Path) -> None:
    """A home with a current index: a copy of the project's when there is one, refreshed by `ingest`."""
    source = PROJECT_ROOT / ".interviewer" / "index"
    if (source / "manifest.json").is_file():
        shutil.copytree(source, home / "index")
    subprocess.run(
        [sys.executable, "-m", "interviewer", "ingest"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "INTERVIEWER_HOME": str(home)},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )


def start_server(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """One `streamlit run app.py` with offline grading and the temporary home."""
    env = {**os.environ, "INTERVIEWER_HOME": str(home), "INTERVIEWER_GRADER": "offline"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]  # a deployment does not watch its source files
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_healthy(url: str, timeout: float) -> None:
    """Poll /_stcore/health until it answers "ok"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")


async def run_session(
    browser: Browser, url: str, session: Session, answers: int, step_timeout: float, graded: set[str]
) -> None:
    """One person: start a practice round, answer `answers` prompts, end the round."""
    from playwright.async_api import expect

    timeout = step_timeout * 1000
    context = await browser.new_context(viewport={"width": 1000, "height": 1400})
    try:
        page = await context.new_page()
        page.set_default_timeout(timeout)
        idle = page.locator(IDLE)  # as Streamlit's own e2e tests do: act only when the script run is over
        await page.goto(url)
        await idle.wait_for()
        await page.get_by_role("button", name="Start the round").click()
        chat = page.get_by_placeholder("Your answer")
        scores = page.get_by_text("Score", exact=True)
        for number in range(1, answers + 1):
            await expect(chat).to_be_editable(timeout=timeout)
            await idle.wait_for()
            prompt = (await page.get_by_test_id("stChatMessage").last.inner_text()).strip()
            await chat.fill(f"{session.marker} (answer {number}) {ANSWER}")
            started = time.perf_counter()
            await chat.press("Enter")
            await expect(scores).to_have_count(number, timeout=timeout)
            session.latencies.append(time.perf_counter() - started)
            session.first_for_prompt.append(prompt not in graded)
            graded.add(prompt)
        await idle.wait_for()
        caption = await page.get_by_text(ROUND_CAPTION).first.inner_text()
        session.round_id = ROUND_CAPTION.search(caption).group(1)  # type: ignore[union-attr]
        await page.get_by_role("button", name="End the round").click()
        await expect(page.get_by_text("Round summary")).to_be_visible(timeout=timeout)
    except Exception as error:  # noqa: BLE001 - a failed session is a result to report, not a crash
        session.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
        with contextlib.suppress(Exception):  # what the person would have seen
            await page.screenshot(path=str(ARTIFACT.parent / f"load-failed-session-{session.number}.png"))
    finally:
        await context.close()


async def drive(url: str, sessions: list[Session], answers: int, step_timeout: float) -> str:
    """All sessions at once in one browser; returns the browser's version."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            graded: set[str] = set()  # prompts answered so far, by any session
            await asyncio.gather(*(run_session(browser, url, s, answers, step_timeout, graded) for s in sessions))
            return browser.version
        finally:
            await browser.close()


def check_store(database: Path, sessions: list[Session], answers: int) -> list[str]:
    """Every session's answers in its own round, and no transcript holding another session's marker."""
    problems = []
    rounds = {record.id: record for record in Store(database).list_rounds()}
    for session in sessions:
        if session.error or session.round_id is None:
            continue
        record = rounds.get(session.round_id)
        if record is None:
            problems.append(f"session {session.number}: round {session.round_id} is not in the store")
            continue
        found = {int(m) for turn in record.turns for m in MARKER.findall(turn.answer or "")}
        if found != {session.number}:
            problems.append(f"session {session.number}: round {record.id} holds markers {sorted(found)}")
        if len(record.turns) != answers or any(turn.grade is None for turn in record.turns):
            problems.append(f"session {session.number}: round {record.id} has {len(record.turns)} turns")
    owners: dict[int, set[str]] = {}
    for record in rounds.values():
        for turn in record.turns:
            for marker in MARKER.findall(turn.answer or ""):
                owners.setdefault(int(marker), set()).add(record.id)
    problems += [f"marker {m} is in rounds {sorted(ids)}" for m, ids in owners.items() if len(ids) > 1]
    return problems


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time used so far by one process, or by the whole machine (every core, every process)."""
    ticks = os.sysconf("SC_CLK_TCK")
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return (sum(map(int, busy)) - int(busy[3]) - int(busy[4])) / ticks  # all but idle and iowait


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def machine() -> str:
    """CPU model and count, in one line."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        model = names[0] if names else model
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    """Run the load test and print its figures; exit 1 when a session failed or transcripts mixed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="browser sessions at once (default 20)")
    parser.add_argument("--answers", type=int, default=2, help="answers per session (default 2)")
    parser.add_argument("--deadline", type=float, default=900, help="stop after this many seconds (default 900)")
    parser.add_argument("--step-timeout", type=float, default=240, help="longest wait for one page step, s")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium.", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="interviewer-load-") as scratch:
        home = Path(scratch) / "home"
        started = time.perf_counter()
        prepare_home(home)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(scratch) / "streamlit.log"
        server = start_server(home, port, log)
        sessions = [Session(number) for number in range(1, args.sessions + 1)]
        try:
            wait_healthy(url, 120)
            print(f"server healthy at {url} after {time.perf_counter() - started:.1f} s; {args.sessions} sessions")
            began = time.perf_counter()
            cpu_before = (cpu_seconds(server.pid), cpu_seconds(), os.getloadavg()[0])
            remaining = args.deadline - (began - started)
            try:
                version = asyncio.run(
                    asyncio.wait_for(drive(url, sessions, args.answers, args.step_timeout), remaining)
                )
            except TimeoutError:
                version = "unknown"
                for session in sessions:
                    session.error = session.error or f"unfinished at the {args.deadline:.0f} s deadline"
            wall = time.perf_counter() - began
            server_cpu = cpu_seconds(server.pid) - cpu_before[0]
            other_cpu = cpu_seconds() - cpu_before[1] - server_cpu
            load = (cpu_before[2], os.getloadavg()[0])
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        problems = check_store(home / "transcripts.db", sessions, args.answers)
        failed = [s for s in sessions if s.error]
        if failed or problems:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)

    latencies = [value for session in sessions for value in session.latencies]
    pairs = [pair for session in sessions for pair in zip(session.latencies, session.first_for_prompt, strict=True)]
    cold = [latency for latency, first in pairs if first]
    warm = [latency for latency, first in pairs if not first]
    figures = {
        "machine": machine(),
        "chromium": version,
        "sessions": args.sessions,
        "sessions_completed": args.sessions - len(failed),
        "answers_graded": len(latencies),
        "transcript_problems": problems,
        "failed_sessions": {s.number: s.error for s in failed},
        "wall_seconds": round(wall, 1),
        "latency_seconds": {
            "p50": round(statistics.median(latencies), 2) if latencies else None,
            "p95": round(percentile(latencies, 0.95), 2) if latencies else None,
            "max": round(max(latencies), 2) if latencies else None,
            "prompt_new_to_the_server_p95": round(percentile(cold, 0.95), 2) if cold else None,
            "prompt_seen_before_p95": round(percentile(warm, 0.95), 2) if warm else None,
            "prompts_new_to_the_server": len(cold),
        },
        "cpu_seconds": {"server": round(server_cpu, 1), "everything_else": round(other_cpu, 1)},
        "load_average_1min": {"start": round(load[0], 2), "end": round(load[1], 2)},
        "sessions_detail": [asdict(session) for session in sessions],
    }
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"machine: {figures['machine']}; chromium {version}")
    print(f"sessions: {figures['sessions_completed']}/{args.sessions} completed, {len(latencies)} answers graded")
    print(f"wall time for all sessions: {wall:.1f} s")
    lat = figures["latency_seconds"]
    print(f"submit-to-grade latency under load: p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s")
    print(
        f"  p95 for prompts no session had answered before ({len(cold)}): {lat['prompt_new_to_the_server_p95']} s; "
        f"for prompts answered before ({len(warm)}): {lat['prompt_seen_before_p95']} s"
    )
    print(
        f"CPU over the run: server {server_cpu:.0f} s, everything else (browser, other processes) {other_cpu:.0f} s "
        f"of {wall * (os.cpu_count() or 1):.0f} s available; load average {load[0]:.1f} -> {load[1]:.1f}"
    )
    print(f"transcripts: {len(problems)} problems" + "".join(f"\n  {problem}" for problem in problems))
    for session in failed:
        print(f"  session {session.number} failed: {session.error}")
    print(f"figures written to {ARTIFACT.relative_to(PROJECT_ROOT)}")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
