"""Load test in team mode: many people, each signed in, across two app replicas that share one PostgreSQL.

Run: `.venv/bin/python -m bench.load_team [--people 40]` (`make load` runs it after the single-server drivers);
figures go to docs/RELIABILITY.md. It starts, all on loopback: a PostgreSQL server in a temporary folder
(tests/postgres.py), the test OpenID Connect provider (tests/oidc, node-oidc-provider) and two `streamlit run`
replicas in team mode on one new database and one home. Each person signs in the way a browser does: the app's
"Sign in" button (Streamlit's `st.login`), the provider's login form, back to the app with its sign-in cookie; then
a page speaking Streamlit's protocol with that cookie (`bench.load.protocol_session`) starts a practice round,
answers with a marker word of its own and ends the round. Nothing is faked: the app finds who is there through
`st.user`, exactly as for a person in a browser.

Two phases in one run, so the figures are comparable: `--people` people against one replica (the single-process
figure), then as many other people spread over both replicas. After each phase the database is read back: every
person's answers must be in one round of their own, filed under their own owner, and no transcript may hold
another person's marker. Latency is from sending an answer to its grade card arriving, with everyone else doing
the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from bench.load import (
    ARTIFACTS,
    ProtocolPage,
    Session,
    check_store,
    figures_of,
    free_port,
    prepare_home,
    protocol_session,
    start_server,
    wait_healthy,
)
from interviewer.people import owner_of
from interviewer.store import SqlStore
from tests.oidc_provider import oidc_provider
from tests.postgres import binaries, postgres_server

LOGIN_FORM = re.compile(r'<form method="post" action="([^"]+)"')
PASSWORD = "any password"  # the test provider takes any password


async def sign_in(app: str, name: str, step_timeout: float) -> dict[str, str]:
    """Sign `name` in as a browser does; returns the app's cookies (its sign-in and XSRF cookies)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def app_cookies() -> dict[str, str]:
        return {cookie.name: cookie.value or "" for cookie in jar if cookie.name.startswith("_streamlit")}

    def fetch(url: str, form: dict[str, str] | None = None) -> tuple[str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with opener.open(url, data=data, timeout=step_timeout) as response:
            return response.geturl(), response.read().decode("utf-8", "replace")

    await asyncio.to_thread(fetch, f"{app}/_stcore/health")  # the XSRF cookie a page gets first
    async with ProtocolPage(app, step_timeout, app_cookies()) as page:
        await page.rerun()
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        await page.rerun(WidgetState(id=page.find("button", "Sign in").id, trigger_value=True))
        if page.redirect is None:
            raise AssertionError("the Sign in button did not send the page to the sign-in")
    at, form = await asyncio.to_thread(fetch, urllib.parse.urljoin(app, page.redirect))
    action = LOGIN_FORM.search(form)
    if action is None:
        raise AssertionError(f"no login form at {at}")
    back, _ = await asyncio.to_thread(
        fetch, urllib.parse.urljoin(at, action.group(1)), {"login": name, "password": PASSWORD}
    )
    if not back.startswith(app) or "_streamlit_user" not in app_cookies():
        raise AssertionError(f"the sign-in of {name} ended at {back} without the app's sign-in cookie")
    return app_cookies()


async def run_people(
    urls: list[str], sessions: list[Session], names: dict[int, str], answers: int, step_timeout: float
) -> dict[str, Any]:
    """Sign everyone in (each on the replica their number picks, as a sticky proxy would), then all at once: start
    a round, answer, end it. Returns sign-in timings."""
    replica = {session.number: urls[session.number % len(urls)] for session in sessions}
    started = time.perf_counter()
    cookies = await asyncio.gather(*(sign_in(replica[s.number], names[s.number], step_timeout) for s in sessions))
    signed_in = time.perf_counter() - started
    graded: set[str] = set()
    await asyncio.gather(
        *(
            protocol_session(replica[s.number], s, answers, step_timeout, graded, jar)
            for s, jar in zip(sessions, cookies, strict=True)
        )
    )
    return {"sign_in_seconds_all": round(signed_in, 1), "replicas": len(urls)}


def phase(
    label: str,
    urls: list[str],
    first: int,
    people: int,
    issuer: str,
    database: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One phase: `people` people numbered from `first` against `urls`; their figures and the store's problems."""
    sessions = [Session(number) for number in range(first, first + people)]
    names = {session.number: f"person{session.number:02d}" for session in sessions}
    began = time.perf_counter()
    try:
        run = asyncio.run(
            asyncio.wait_for(run_people(urls, sessions, names, args.answers, args.step_timeout), args.deadline)
        )
    except TimeoutError:
        run = {"replicas": len(urls)}
        for session in sessions:
            session.error = session.error or f"unfinished at the {args.deadline:.0f} s deadline"
    wall = time.perf_counter() - began

    def owner(session: Session) -> str:
        return owner_of({"iss": issuer, "sub": names[session.number]})

    problems = check_store(SqlStore(database), sessions, args.answers, owner)
    return figures_of(sessions, problems, {"phase": label, "sessions": people, "wall_seconds": round(wall, 1), **run})


def main() -> int:
    """Run both phases and print their figures; exit 1 when a session failed or a transcript was mixed or lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=40, help="people per phase (default 40, at most 44)")
    parser.add_argument("--answers", type=int, default=2, help="answers per person (default 2)")
    parser.add_argument("--deadline", type=float, default=900, help="stop a phase after this many seconds")
    parser.add_argument("--step-timeout", type=float, default=240, help="longest wait for one step, s")
    args = parser.parse_args()
    bin_dir = binaries()
    if bin_dir is None:
        print("PostgreSQL is missing: `make postgres` installs Debian's.", file=sys.stderr)
        return 1
    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="interviewer-load-team-") as scratch, postgres_server(bin_dir) as server:
        folder = Path(scratch)
        prepare_home(folder / "home")
        database = server.new_database(migrated=False)  # the replicas migrate it as they start, together
        ports = [free_port(), free_port()]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        callbacks = " ".join(f"{url}/oauth2callback" for url in urls)
        with oidc_provider(free_port(), callbacks, folder / "oidc.log") as provider:
            replicas = []
            for number, (port, url) in enumerate(zip(ports, urls, strict=True)):
                secrets = folder / f"secrets-{number}.toml"
                secrets.write_text(provider.secrets_toml(f"{url}/oauth2callback"))
                secrets.chmod(0o600)
                replicas.append(
                    start_server(
                        folder / "home",
                        port,
                        folder / f"replica-{number}.log",
                        "--secrets.files",
                        str(secrets),
                        INTERVIEWER_MODE="team",
                        INTERVIEWER_DATABASE_URL=database,
                        INTERVIEWER_SECRETS_FILE=str(secrets),
                    )
                )
            try:
                for url in urls:
                    wait_healthy(url, 180)
                warm = phase("warm-up, one person per replica", urls, 90, 2, provider.issuer, database, args)
                single = phase("one replica", urls[:1], 1, args.people, provider.issuer, database, args)
                both = phase("two replicas", urls, 1 + args.people, args.people, provider.issuer, database, args)
            finally:
                for replica in replicas:
                    stop(replica)
            for number in range(len(urls)):
                log = (folder / f"replica-{number}.log").read_text(errors="replace")
                if any(figures["failed_sessions"] or figures["transcript_problems"] for figures in (single, both)):
                    print(f"-- replica {number} log --\n{log[-2000:]}", file=sys.stderr)
    figures = {"warm_up": warm, "one_replica": single, "two_replicas": both}
    (ARTIFACTS / "load-team.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    report(figures)
    failed = any(f["failed_sessions"] or f["transcript_problems"] for f in figures.values())
    return 1 if failed else 0


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop a replica: asked first, killed if it has not gone within 30 s (a loaded machine can take that long)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def report(figures: dict[str, dict[str, Any]]) -> None:
    """The figures, for a person: the two phases side by side."""
    print(f"machine: {figures['one_replica']['machine']}")
    for key in ("one_replica", "two_replicas"):
        f = figures[key]
        lat = f["latency_seconds"]
        print(
            f"{f['phase']}: {f['sessions_completed']}/{f['sessions']} people completed, {f['answers_graded']} answers "
            f"graded in {f['wall_seconds']} s (sign-in of all: {f.get('sign_in_seconds_all')} s); "
            f"submit-to-grade p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s"
        )
        for problem in f["transcript_problems"]:
            print(f"  transcript problem: {problem}")
        for number, error in f["failed_sessions"].items():
            print(f"  person {number} failed: {error}")
    one, two = figures["one_replica"]["latency_seconds"], figures["two_replicas"]["latency_seconds"]
    if one["p50"] and two["p50"] and one["p95"] and two["p95"]:
        print(f"two replicas / one replica: p50 x{two['p50'] / one['p50']:.2f}, p95 x{two['p95'] / one['p95']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
