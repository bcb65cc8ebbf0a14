"""The server as `make run` starts it: it listens on loopback only, asks no outside host for anything, and its
upload endpoint refuses files over the 2 MB limit itself (not only the page).

The server runs with `tests/outbound/sitecustomize.py` on its PYTHONPATH, which records every socket
destination the process asks for (connects, name lookups, datagrams, binds) while a question is answered.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.load import ProtocolPage, free_port, wait_healthy
from interviewer.settings import PROJECT_ROOT, Settings

RECORDER = Path(__file__).parent / "outbound"
ANSWER = (
    "Dynamic batching groups concurrent requests into one batch to raise throughput; a maximum batch size and a "
    "maximum queue delay bound how long a request waits."
)
LIMIT = 2 * 1024 * 1024


@dataclass
class Served:
    """A running `streamlit run app.py` and the record of its socket destinations."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    record: Path

    def events(self) -> list[dict[str, object]]:
        """Every socket event recorded so far, by the server and any process it started."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def served(indexed_settings: Settings, tmp_path: Path) -> Iterator[Served]:
    """The app started with `make run`'s command line (no address given: the project's config decides)."""
    port = free_port()
    record = tmp_path / "outbound.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(RECORDER), os.environ.get("PYTHONPATH")])),
        "OUTBOUND_LOG": str(record),
        "INTERVIEWER_HOME": str(indexed_settings.home),
        "INTERVIEWER_KNOWLEDGE_DIR": str(indexed_settings.knowledge_dir),
        "INTERVIEWER_GRADER": "offline",
    }
    log = tmp_path / "streamlit.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout=90)
        yield Served(f"http://127.0.0.1:{port}", port, process, record)
    finally:
        process.terminate()
        process.wait(timeout=30)
        print(log.read_text(errors="replace"))  # shown when a test fails


def is_local(target: object) -> bool:
    """Whether a recorded destination stays on this machine: loopback, a Unix socket, or nothing to look up."""
    if target is None:
        return True
    if isinstance(target, str):  # a host name to look up, or the path of a Unix socket
        host = target
        if host.startswith(("/", "\x00")):
            return True
    else:
        host = str(target[0])  # type: ignore[index]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listening_addresses(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses a TCP port is listening on, from the kernel's socket tables (Linux)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word is host order
            found.append(ipaddress.ip_address(words))
    return found


async def answer_one_question(url: str) -> float | None:
    """Load the page, start a round, answer its first question; seconds until the grade arrived."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    async with ProtocolPage(url, step_timeout=120) as page:
        await page.rerun()
        await page.rerun(WidgetState(id=page.find("button", "Start the round").id, trigger_value=True))
        message = WidgetState(id=page.find("chat_input").id)
        message.chat_input_value.data = ANSWER
        return await page.rerun(message, until_scores=1)


def test_the_recorder_sees_an_outside_destination(tmp_path: Path) -> None:
    record = tmp_path / "outbound.jsonl"
    script = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('192.0.2.1', 9))"
    env = {**os.environ, "PYTHONPATH": str(RECORDER), "OUTBOUND_LOG": str(record)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=30)  # a UDP connect sends nothing
    events = [json.loads(line) for line in record.read_text().splitlines()]
    assert [event["target"] for event in events if not is_local(event["target"])] == [["192.0.2.1", 9]]


def test_the_server_listens_on_loopback_only_and_asks_no_outside_host(served: Served) -> None:
    assert asyncio.run(answer_one_question(served.url)) is not None  # the answer was graded
    listening = listening_addresses(served.port)
    assert listening and all(address.is_loopback for address in listening), listening
    served.process.terminate()
    served.process.wait(timeout=30)
    events = served.events()
    assert {"event": "socket.bind", "target": ["127.0.0.1", served.port]} in [
        {key: event[key] for key in ("event", "target")} for event in events
    ]  # the recorder was running in the server
    outside = [event for event in events if not is_local(event["target"])]
    assert outside == []


def put_file(url: str, session_id: str, size: int) -> int | str:
    """PUT a file of `size` bytes to the upload endpoint as the page does; the HTTP status, or how it was refused."""
    with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as health:  # sets the XSRF cookie, as a page does
        cookie = health.headers["Set-Cookie"].split(";")[0]
    token = cookie.split("=", 1)[1]
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.md"\r\n'
            "Content-Type: text/markdown\r\n\r\n"
        ).encode()
        + b"Q: x?\n"
        + b"a" * (size - 6)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{url}/_stcore/upload_file/{session_id}/{uuid.uuid4().hex}",
        data=body,
        method="PUT",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": cookie, "X-Xsrftoken": token},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError) as error:  # the server answered and closed before the body ended
        return f"refused: {getattr(error, 'reason', error)}"


def resident_mib(pid: int) -> float:
    """Resident memory of a process."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def settled_mib(pid: int, timeout: float = 120.0) -> float:
    """The process's resident memory once it stops growing (within 2 MiB for three seconds in a row)."""
    deadline = time.monotonic() + timeout
    readings = [resident_mib(pid)]
    while time.monotonic() < deadline:
        time.sleep(1.0)
        readings.append(resident_mib(pid))
        if len(readings) >= 4 and max(readings[-4:]) - min(readings[-4:]) < 2:
            break
    return readings[-1]


def test_the_upload_endpoint_refuses_files_over_2_mb_without_reading_them(served: Served) -> None:
    async def uploads(sizes: list[int]) -> list[int | str]:
        async with ProtocolPage(served.url, step_timeout=60) as page:
            await page.rerun()  # a session exists only while its page is connected
            return [await asyncio.to_thread(put_file, served.url, page.session_id, size) for size in sizes]

    assert asyncio.run(uploads([LIMIT + 1, 100_000])) == [413, 204]  # the same request under the limit is taken
    before = settled_mib(served.process.pid)  # the page loads the model in the background: wait for it
    refused = asyncio.run(uploads([50 * 1024 * 1024] * 5))
    assert all(outcome == 413 or str(outcome).startswith("refused") for outcome in refused), refused
    assert resident_mib(served.process.pid) - before < 30  # five 50 MB files were not held in memory
