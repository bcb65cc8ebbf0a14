"""The store shared by processes, on SQLite and on PostgreSQL: what several app replicas rely on.

A writer killed with SIGKILL leaves every committed turn whole and nothing locked; processes that write the same
turn at once save it exactly once; processes that open a new database at once migrate it once; a connection the
server drops costs nothing but a reconnect, and a server that cannot be reached is a clear message that never
shows the password.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import text

from interviewer.errors import StoreError
from interviewer.models import LOCAL_OWNER, Turn
from interviewer.settings import PROJECT_ROOT
from interviewer.store import SqlStore
from interviewer.store.migrate import head

from .postgres import PostgresServer, free_port

WRITER = textwrap.dedent(
    """
    import sys
    from interviewer.models import Turn
    from interviewer.store import SqlStore

    url, round_id, name, positions = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = SqlStore(url)
    print("ready", flush=True)
    sys.stdin.readline()  # every writer starts at once
    for position in range(positions):
        answer = f"{name} answers {position}: " + "padding " * 200
        turn = Turn(round_id, position, "question", "q", "T", "Q?", answer, False, None, "-")
        saved = store.add_turn(turn, owner="local")
        print(position, "saved" if saved else "taken", flush=True)
    """
)


def writer(url: str, round_id: str, name: str, positions: int) -> subprocess.Popen[str]:
    """A process that opens the store, waits for a line on stdin, then writes turns 0..positions-1 of a round."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, round_id, name, str(positions)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_killed_writer_leaves_every_committed_turn_whole_and_nothing_locked(store_url: str) -> None:
    store = SqlStore(store_url)
    round_id = store.create_round("practice", [], None, ["q"], owner=LOCAL_OWNER)
    process = writer(store_url, round_id, "killed", 100_000)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("go\n")
    process.stdin.flush()
    reported = [process.stdout.readline() for _ in range(20)]  # twenty turns committed, more in flight
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.stdin.close()
    process.stdout.close()

    turns = store.get_round(round_id, owner=LOCAL_OWNER).turns
    assert all(line.split()[1] == "saved" for line in reported)
    assert len(turns) >= 20  # every turn it said it saved is there
    assert [turn.position for turn in turns] == list(range(len(turns)))
    assert all(turn.answer == f"killed answers {turn.position}: " + "padding " * 200 for turn in turns)
    next_turn = Turn(round_id, len(turns), "question", "q", "T", "Q?", "after", False, None, "-")
    assert store.add_turn(next_turn, owner=LOCAL_OWNER)  # the dead process holds no lock


def test_processes_writing_the_same_turns_at_once_save_each_exactly_once(store_url: str) -> None:
    store = SqlStore(store_url)
    round_id = store.create_round("practice", [], None, ["q"], owner=LOCAL_OWNER)
    positions = 25
    processes = [writer(store_url, round_id, f"writer{n}", positions) for n in range(4)]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    saved_by: dict[int, list[str]] = {}
    for number, process in enumerate(processes):
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        for line in out.splitlines():
            position, outcome = line.split()
            if outcome == "saved":
                saved_by.setdefault(int(position), []).append(f"writer{number}")

    turns = store.get_round(round_id, owner=LOCAL_OWNER).turns
    assert [turn.position for turn in turns] == list(range(positions))
    assert all(len(writers) == 1 for writers in saved_by.values()) and len(saved_by) == positions
    for turn in turns:  # what is stored is what the one writer told "saved" wrote
        assert turn.answer is not None and turn.answer.startswith(f"{saved_by[turn.position][0]} answers ")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> str:
    """A database nothing has migrated yet."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'new.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database(migrated=False)


def test_replicas_opening_a_new_database_at_once_migrate_it_once(empty_database: str) -> None:
    opening = [
        subprocess.Popen(
            [sys.executable, "-c", "import sys; from interviewer.store import SqlStore; SqlStore(sys.argv[1])", url],
            cwd=PROJECT_ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url in [empty_database] * 4
    ]
    for process in opening:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    store = SqlStore(empty_database)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [(head(),)]
    assert store.list_rounds(owner=LOCAL_OWNER) == []


def test_a_dropped_connection_costs_a_reconnect_not_an_error(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    store = SqlStore(url)
    round_id = store.create_round("practice", [], None, ["q"], owner=LOCAL_OWNER)
    assert postgres.terminate_connections(url) >= 1  # the pool's idle connection is cut, as by a server restart
    assert store.get_round(round_id, owner=LOCAL_OWNER).id == round_id
    assert store.add_turn(Turn(round_id, 0, "question", "q", "T", "Q?", "A", False, None, "-"), owner=LOCAL_OWNER)
    postgres.drop_database(url)


def test_an_unreachable_server_is_a_clear_error_without_the_password(postgres: PostgresServer) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StoreError) as caught:
        SqlStore(f"postgresql://coach:hunter2secret@127.0.0.1:{port}/interviews")
    message = str(caught.value)
    assert "hunter2secret" not in message and "***" in message
    assert f"127.0.0.1:{port}/interviews" in message and "cannot be reached" in message

    wrong = postgres.url("postgres").replace(postgres.password, "not-the-password")
    with pytest.raises(StoreError, match="refused the user or password") as caught:
        SqlStore(wrong)
    assert "not-the-password" not in str(caught.value)
