"""Several app replicas: two `streamlit run` processes on one PostgreSQL and one shared home.

A round started on one replica resumes on the other; when both show the same question and both send an answer at
once, exactly one is saved and the other page says why; and processes that find the knowledge index missing build
it once between them (a file lock) while the others wait and load it. The pages are driven over Streamlit's own
WebSocket protocol (`bench.load.ProtocolPage`), as the load test does, so the servers get the machine.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.load import ROUND_CAPTION, ProtocolPage
from interviewer.models import LOCAL_OWNER
from interviewer.settings import PROJECT_ROOT, Settings
from interviewer.store import SqlStore

from .postgres import PostgresServer
from .test_browser import serve_app

pytestmark = pytest.mark.slow
STEP_SECONDS = 180.0
ANSWER = (
    "Dynamic batching groups requests that arrive close together into one batch, so the accelerator runs one "
    "large kernel instead of many small ones; a maximum batch size and a queue delay bound the added latency."
)


@pytest.fixture
def replicas(indexed_settings: Settings, postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """Two app processes sharing one home (index, uploads) and one PostgreSQL database; their URLs and the DB's."""
    database = postgres.new_database()
    environment = {"INTERVIEWER_GRADER": "offline", "INTERVIEWER_DATABASE_URL": database}
    with ExitStack() as servers:
        urls = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            urls.append(servers.enter_context(serve_app(indexed_settings, tmp_path / name, **environment)))
        yield urls[0], urls[1], database
    postgres.drop_database(database)


def words(page: ProtocolPage) -> list[str]:
    """The text a person reads in the page's latest run: Markdown, plain text, notices."""
    found = []
    for kind, element in page.elements:
        if kind in ("markdown", "text", "alert"):
            found.append(getattr(element, kind).body)
    return found


def button(page: ProtocolPage, starts_with: str) -> Any:
    """The first button whose label starts so."""
    return next(e.button for kind, e in page.elements if kind == "button" and e.button.label.startswith(starts_with))


def scores(page: ProtocolPage) -> int:
    """How many grade cards the page shows."""
    return sum(1 for kind, element in page.elements if kind == "metric" and element.metric.label == "Score")


async def send(page: ProtocolPage, text: str) -> None:
    """Type an answer and press Enter; return when the page's runs are over."""
    message = WidgetState(id=page.find("chat_input").id)
    message.chat_input_value.data = text
    await page.rerun(message)


async def click(page: ProtocolPage, label_start: str) -> None:
    """Click a button; return when the page's runs are over."""
    await page.rerun(WidgetState(id=button(page, label_start).id, trigger_value=True))


async def a_round_across_replicas(first: str, second: str) -> tuple[str, list[list[str]]]:
    """Start a round on the first replica and answer once; resume it in a page on each replica; answer the same
    question from both at once. Returns the round id and what each of those two pages said afterwards."""
    async with ProtocolPage(first, STEP_SECONDS) as page:
        await page.rerun()
        await click(page, "Start the round")
        await send(page, f"replica one: {ANSWER}")
        assert scores(page) == 1, words(page)[-3:]
        round_id = next(m.group(1) for text in words(page) if (m := ROUND_CAPTION.search(text)))
    async with ProtocolPage(second, STEP_SECONDS) as on_second, ProtocolPage(first, STEP_SECONDS) as on_first:
        for page in (on_second, on_first):
            await page.rerun()
            await click(page, f"Resume round {round_id} (1 answered")
            assert scores(page) == 1 and any(f"Round {round_id}" in text for text in words(page))
        await asyncio.gather(
            send(on_first, f"both at once, first: {ANSWER}"), send(on_second, f"both at once, second: {ANSWER}")
        )
        return round_id, [words(on_first), words(on_second)]


def test_a_round_moves_between_replicas_and_each_turn_is_saved_once(replicas: tuple[str, str, str]) -> None:
    first, second, database = replicas
    round_id, said = asyncio.run(a_round_across_replicas(first, second))

    record = SqlStore(database).get_round(round_id, owner=LOCAL_OWNER)
    assert [turn.position for turn in record.turns] == [0, 1]
    assert record.turns[0].answer == f"replica one: {ANSWER}"
    saved = record.turns[1].answer
    assert saved in (f"both at once, first: {ANSWER}", f"both at once, second: {ANSWER}")
    refused = said[1] if saved.startswith("both at once, first") else said[0]
    assert any("answered in another tab or window" in text and "not saved" in text for text in refused), refused
    assert all(turn.grade is not None for turn in record.turns)


BUILDER = textwrap.dedent(
    """
    import hashlib, sys, time
    from pathlib import Path
    import numpy as np
    from interviewer.index import open_index

    class SlowFakeEmbedder:
        name = "fake-embedder"
        dimension = 8

        def encode(self, texts, progress=None):
            print("encoding", flush=True)
            time.sleep(1.0)  # what a real model's encoding costs, so the other processes arrive meanwhile
            rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], dtype=np.float32) for t in texts]
            vectors = np.nan_to_num(np.vstack(rows)).astype(np.float32)
            return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)

    print("ready", flush=True)
    sys.stdin.readline()  # every process opens the index at once
    print(open_index(Path(sys.argv[1]), Path(sys.argv[2]), SlowFakeEmbedder()).action, flush=True)
    """
)


def test_processes_that_find_no_index_build_it_once_and_the_others_load_it(settings: Settings) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER, str(settings.knowledge_dir), str(settings.index_dir)],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        outputs.append(out.split())
    assert sorted(output[-1] for output in outputs) == ["built", "loaded", "loaded"]
    assert sum(output.count("encoding") for output in outputs) == 1  # one process ran the model, once
