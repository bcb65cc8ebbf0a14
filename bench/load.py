"""Load test: many interview sessions at once against one `streamlit run app.py`, over loopback only.

Run: `.venv/bin/python -m bench.load [--driver browser|protocol]` (`make load` runs both); figures go to
docs/RELIABILITY.md. It builds a temporary home with a copy of the project's index (`python -m interviewer
ingest` refreshes it if it is stale), starts one Streamlit server on a free loopback port with offline grading,
and runs one session alone (a baseline), then `--sessions` sessions together. Each starts a practice round,
answers `--answers` prompts with a marker word of its own, and ends the round. Then the transcript store is
read back: every session's answers must be in one round of their own, and no transcript may hold another
session's marker. Everything is bounded by `--deadline` seconds, and the server is stopped at the end.

Two drivers, because on a 2-core machine they answer different questions:

- `browser`: one headless Chromium (Debian's, at /usr/bin/chromium), one context per session, driven by
  Playwright the way a person uses the page. It proves that real pages never mix, but twenty pages of a React
  app cost the two cores more than the server does, so its latency is mostly the browsers' own.
- `protocol`: one WebSocket per session speaking Streamlit's own protocol (the `BackMsg` a page sends on a click
  or a chat message, the `ForwardMsg` elements it receives), with no rendering. The server gets the machine,
  so its latency is the app's: the WebSocket round trip, the script rerun and the grading.

The latency is what a person waits: from sending the answer (pressing Enter) to the grade card of that answer
arriving (browser: visible in the page), while every other session does the same. The first answer to each
question also pays for encoding its reference, once per server; the figures separate those answers.
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
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interviewer.models import LOCAL_OWNER, RoundRecord
from interviewer.settings import PROJECT_ROOT
from interviewer.store import SqlStore, Store

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
MARKER = re.compile(r"\bzq(\d{2})marker\b")
ROUND_CAPTION = re.compile(r"Round ([0-9a-f]{12}) ·")
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ANSWER = (
    "Dynamic batching groups requests that arrive close together into one batch, so the accelerator runs one "
    "large kernel instead of many small ones; a maximum batch size and a queue delay bound the added latency."
)


@dataclass
class Session:
    """What one session did."""

    number: int
    round_id: str | None = None
    latencies: list[float] = field(default_factory=list)
    first_for_prompt: list[bool] = field(default_factory=list)  # no session had answered this prompt before
    error: str | None = None

    @property
    def marker(self) -> str:
        return f"zq{self.number:02d}marker"

    def answer(self, number: int) -> str:
        return f"{self.marker} (answer {number}) {ANSWER}"


# -- the browser driver ------------------------------------------------------------------------------------


async def browser_session(
    browser: Browser, url: str, session: Session, answers: int, step_timeout: float, graded: set[str]
) -> None:
    """One person in a page: start a practice round, answer `answers` prompts, end the round."""
    from playwright.async_api import expect

    timeout = step_timeout * 1000
    context = await browser.new_context(viewport={"width": 1000, "height": 1400})
    page = await context.new_page()
    try:
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
            await chat.fill(session.answer(number))
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
            await page.screenshot(path=str(ARTIFACTS / f"load-failed-session-{session.number}.png"))
    finally:
        await context.close()


async def drive_browser(url: str, sessions: list[Session], answers: int, step_timeout: float) -> str:
    """All sessions at once in one browser; returns the browser's version."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            graded: set[str] = set()  # prompts answered so far, by any session
            await asyncio.gather(*(browser_session(browser, url, s, answers, step_timeout, graded) for s in sessions))
            return f"chromium {browser.version}"
        finally:
            await browser.close()


# -- the protocol driver -----------------------------------------------------------------------------------


class ProtocolPage:
    """A page without a browser: sends what the page sends on a click or a message, reads the elements back."""

    def __init__(self, url: str, step_timeout: float, cookies: Mapping[str, str] | None = None) -> None:
        self.origin = url
        self.url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.step_timeout = step_timeout
        self.cookies = dict(cookies or {})
        """A signed-in person's cookies (Streamlit's `_streamlit_user` and its XSRF cookie), sent as a browser would."""
        self.page_hash = ""
        self.session_id = ""  # the server's id for this page, which its upload endpoint asks for
        self.elements: list[tuple[str, Any]] = []  # (kind, element) of the latest script run
        self.redirect: str | None = None  # where the page was last sent (`st.login` sends it to the sign-in)

    async def __aenter__(self) -> ProtocolPage:
        import websockets

        xsrf = self.cookies.get("_streamlit_xsrf")  # the page sends it back as the second subprotocol
        headers = {"Origin": self.origin, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        self.socket = await websockets.connect(
            self.url,
            subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],  # type: ignore[list-item]
            additional_headers=headers if self.cookies else None,
            max_size=None,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.socket.close()

    def find(self, kind: str, label: str | None = None) -> Any:
        """The first element of a kind (and label) in the latest run."""
        for found, element in self.elements:
            widget = getattr(element, found)
            if found == kind and (label is None or widget.label == label):
                return widget
        raise LookupError(f"no {kind} {label or ''} on the page")

    def texts(self) -> list[str]:
        return [element.markdown.body for kind, element in self.elements if kind == "markdown"]

    async def rerun(self, *widget_states: Any, until_scores: int | None = None) -> float | None:
        """Send one rerun with these widget states; wait until the runs it causes are over. With
        `until_scores`, return the seconds until the grade card of that many answers arrived."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        message.rerun_script.page_script_hash = self.page_hash
        message.rerun_script.widget_states.widgets.extend(widget_states)
        started = time.perf_counter()
        await self.socket.send(message.SerializeToString())
        arrived = None
        deadline = started + self.step_timeout
        while True:
            data = await asyncio.wait_for(self.socket.recv(), max(0.1, deadline - time.perf_counter()))
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "new_session":  # each script run starts with one
                self.page_hash = forward.new_session.page_script_hash
                self.session_id = forward.new_session.initialize.session_id or self.session_id
                self.elements = []
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                self.elements.append((element.WhichOneof("type"), element))
                scores = sum(1 for k, e in self.elements if k == "metric" and e.metric.label == "Score")
                if arrived is None and until_scores is not None and scores >= until_scores:
                    arrived = time.perf_counter() - started
            elif kind == "auth_redirect":
                self.redirect = forward.auth_redirect.url
            elif kind == "script_finished" and forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return arrived


async def protocol_session(
    url: str,
    session: Session,
    answers: int,
    step_timeout: float,
    graded: set[str],
    cookies: Mapping[str, str] | None = None,
) -> None:
    """One person, without a browser (signed in when `cookies` say so): start a practice round, answer `answers`
    prompts, end the round."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    try:
        async with ProtocolPage(url, step_timeout, cookies) as page:
            await page.rerun()  # the page loads
            await page.rerun(WidgetState(id=page.find("button", "Start the round").id, trigger_value=True))
            for number in range(1, answers + 1):
                prompt = next(text for text in reversed(page.texts()) if not text.startswith("Round "))
                message = WidgetState(id=page.find("chat_input").id)
                message.chat_input_value.data = session.answer(number)
                latency = await page.rerun(message, until_scores=number)
                if latency is None:
                    raise AssertionError(f"answer {number} was not graded: {page.texts()[-3:]}")
                session.latencies.append(latency)
                session.first_for_prompt.append(prompt not in graded)
                graded.add(prompt)
            found = next(ROUND_CAPTION.search(text) for text in page.texts() if ROUND_CAPTION.search(text))
            session.round_id = found.group(1)  # type: ignore[union-attr]
            await page.rerun(WidgetState(id=page.find("button", "End the round").id, trigger_value=True))
            if not any("Round summary" in element.heading.body for k, element in page.elements if k == "heading"):
                raise AssertionError("no round summary after ending the round")
    except Exception as error:  # noqa: BLE001 - a failed session is a result to report, not a crash
        session.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"


async def drive_protocol(url: str, sessions: list[Session], answers: int, step_timeout: float) -> str:
    """All sessions at once, one WebSocket each."""
    import streamlit

    graded: set[str] = set()
    await asyncio.gather(*(protocol_session(url, s, answers, step_timeout, graded) for s in sessions))
    return f"Streamlit protocol client {streamlit.__version__}"


# -- the server, the store, the figures --------------------------------------------------------------------


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


def start_server(home: Path, port: int, log: Path, *flags: str, **environment: str) -> subprocess.Popen[bytes]:
    """One `streamlit run app.py` with offline grading and the temporary home (and more flags and variables)."""
    env = {**os.environ, "INTERVIEWER_HOME": str(home), "INTERVIEWER_GRADER": "offline", **environment}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none", *flags]  # a deployment does not watch its source files
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


def check_store(
    store: Store, sessions: list[Session], answers: int, owner_of: Callable[[Session], str] = lambda _: LOCAL_OWNER
) -> list[str]:
    """Every session's answers in its own round, filed under its own person, and no transcript holding another
    session's marker."""
    problems = []
    rounds: dict[str, tuple[str, RoundRecord]] = {}
    for owner in {owner_of(session) for session in sessions}:
        rounds.update({record.id: (owner, record) for record in store.list_rounds(owner=owner)})
    for session in sessions:
        if session.error or session.round_id is None:
            continue
        if session.round_id not in rounds:
            problems.append(f"session {session.number}: round {session.round_id} is not in the store")
            continue
        owner, record = rounds[session.round_id]
        if owner != owner_of(session):
            problems.append(f"session {session.number}: round {record.id} is filed under another person")
        found = {int(m) for turn in record.turns for m in MARKER.findall(turn.answer or "")}
        if found != {session.number}:
            problems.append(f"session {session.number}: round {record.id} holds markers {sorted(found)}")
        if len(record.turns) != answers or any(turn.grade is None for turn in record.turns):
            problems.append(f"session {session.number}: round {record.id} has {len(record.turns)} turns")
    owners: dict[int, set[str]] = {}
    for _, record in rounds.values():
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


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile, rounded to 10 ms."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))], 2)


def machine() -> str:
    """CPU model and count, in one line."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        model = names[0] if names else model
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def figures_of(sessions: list[Session], problems: list[str], run: dict[str, Any]) -> dict[str, Any]:
    """Everything worth keeping from one run."""
    pairs = [pair for s in sessions for pair in zip(s.latencies, s.first_for_prompt, strict=True)]
    latencies = [latency for latency, _ in pairs]
    return {
        **run,
        "machine": machine(),
        "sessions_completed": sum(1 for s in sessions if not s.error),
        "answers_graded": len(latencies),
        "transcript_problems": problems,
        "failed_sessions": {s.number: s.error for s in sessions if s.error},
        "latency_seconds": {
            "p50": round(statistics.median(latencies), 2) if latencies else None,
            "p95": percentile(latencies, 0.95),
            "max": percentile(latencies, 1.0),
            "question_new_to_the_server_p95": percentile([lat for lat, first in pairs if first], 0.95),
            "question_seen_before_p95": percentile([lat for lat, first in pairs if not first], 0.95),
            "answers_new_to_the_server": sum(1 for _, first in pairs if first),
        },
        "sessions_detail": [asdict(session) for session in sessions],
    }


def report(figures: dict[str, Any]) -> None:
    """The figures, for a person."""
    lat = figures["latency_seconds"]
    cpu = figures["cpu_seconds"]
    print(f"driver: {figures['driver']} ({figures['client']}); machine: {figures['machine']}")
    print(
        f"sessions: {figures['sessions_completed']}/{figures['sessions']} completed, "
        f"{figures['answers_graded']} answers graded, in {figures['wall_seconds']} s"
    )
    print(f"submit-to-grade latency, one session alone first: {figures['alone']['latencies']} s")
    print(f"submit-to-grade latency under load: p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s")
    print(
        f"  p95 of answers to a question no session had answered before ({lat['answers_new_to_the_server']}): "
        f"{lat['question_new_to_the_server_p95']} s; of the others: {lat['question_seen_before_p95']} s"
    )
    print(
        f"CPU over the run: server {cpu['server']} s, everything else (driver, other processes) "
        f"{cpu['everything_else']} s, of {cpu['available']} s; load average {figures['load_average']}"
    )
    problems = figures["transcript_problems"]
    print(f"transcripts: {len(problems)} problems" + "".join(f"\n  {problem}" for problem in problems))
    for number, error in figures["failed_sessions"].items():
        print(f"  session {number} failed: {error}")


def main() -> int:
    """Run the load test and print its figures; exit 1 when a session failed or transcripts mixed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", choices=["browser", "protocol"], default="browser")
    parser.add_argument("--sessions", type=int, default=20, help="sessions at once (default 20)")
    parser.add_argument("--answers", type=int, default=2, help="answers per session (default 2)")
    parser.add_argument("--deadline", type=float, default=900, help="stop after this many seconds (default 900)")
    parser.add_argument("--step-timeout", type=float, default=240, help="longest wait for one step, s")
    args = parser.parse_args()
    if args.driver == "browser" and not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium.", file=sys.stderr)
        return 1
    drive = drive_browser if args.driver == "browser" else drive_protocol
    ARTIFACTS.mkdir(exist_ok=True)
    sessions = [Session(number) for number in range(1, args.sessions + 1)]
    with tempfile.TemporaryDirectory(prefix="interviewer-load-") as scratch:
        home = Path(scratch) / "home"
        started = time.perf_counter()
        prepare_home(home)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(scratch) / "streamlit.log"
        server = start_server(home, port, log)
        try:
            wait_healthy(url, 120)
            print(f"server healthy at {url} after {time.perf_counter() - started:.1f} s; {args.sessions} sessions")
            alone = Session(0)  # one session first, by itself: the same steps without the crowd
            asyncio.run(asyncio.wait_for(drive(url, [alone], args.answers, args.step_timeout), args.deadline))
            began = time.perf_counter()
            before = (cpu_seconds(server.pid), cpu_seconds(), os.getloadavg()[0])
            try:
                client = asyncio.run(
                    asyncio.wait_for(drive(url, sessions, args.answers, args.step_timeout), args.deadline)
                )
            except TimeoutError:
                client = "unknown"
                for session in sessions:
                    session.error = session.error or f"unfinished at the {args.deadline:.0f} s deadline"
            wall = time.perf_counter() - began
            server_cpu = cpu_seconds(server.pid) - before[0]
            run = {
                "driver": args.driver,
                "alone": {"latencies": [round(value, 2) for value in alone.latencies], "error": alone.error},
                "client": client,
                "sessions": args.sessions,
                "wall_seconds": round(wall, 1),
                "cpu_seconds": {
                    "server": round(server_cpu, 1),
                    "everything_else": round(cpu_seconds() - before[1] - server_cpu, 1),
                    "available": round(wall * (os.cpu_count() or 1), 1),
                },
                "load_average": f"{before[2]:.1f} -> {os.getloadavg()[0]:.1f}",
            }
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        problems = check_store(SqlStore(f"sqlite:///{home / 'transcripts.db'}"), [alone, *sessions], args.answers)
        if problems or any(session.error for session in [alone, *sessions]):
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)

    figures = figures_of(sessions, problems, run)
    artifact = ARTIFACTS / f"load-{args.driver}.json"
    artifact.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    report(figures)
    print(f"figures written to {artifact.relative_to(PROJECT_ROOT)}")
    return 1 if problems or figures["failed_sessions"] or figures["alone"]["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
