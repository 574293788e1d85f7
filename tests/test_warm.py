"""The warm server of the embedded store (graph_model/warm.py), against real processes.

Each test runs with its own private runtime folder (XDG_RUNTIME_DIR) and marks every
process it starts through the environment (SGRAPH_TEST_MARK), so that the fixture can check
that nothing is left behind: no keeper, no redis-server, no reaper.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from graph_model import pipeline, queries, warm
from graph_model.embedded import EmbeddedBackend
from graph_model.errors import DatabaseError
from tests.processes import live_processes

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def _marked(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment holds ``mark``, and every
    redis-server with a socket in the test's runtime folder (a redis-server writes its title
    over its environment, so the mark cannot be seen there)."""
    runtime = os.fsencode(os.environ["XDG_RUNTIME_DIR"] + "/")
    return live_processes(f"SGRAPH_TEST_MARK={mark}".encode(), runtime)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gone(*pids: int, within: float = 15.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def seeds_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("warm-seeds")
    pipeline.build([str(SEEDS)], home=home, jobs=1)
    return home


@pytest.fixture(scope="module")
def one_review_store(tmp_path_factory) -> Path:
    """A store of one seed review: what a rebuild of another corpus puts in place."""
    home = tmp_path_factory.mktemp("warm-one")
    pipeline.build([str(SEEDS / "004_cd261efeb7acd646.txt")], home=home, jobs=1)
    return home / pipeline.EMBEDDED_DIR


@pytest.fixture
def mark(monkeypatch):
    """A private runtime folder, a mark on every process started, and the check that none is
    left at the end."""
    runtime = Path(tempfile.mkdtemp(prefix="sgw-", dir="/tmp"))  # short: socket paths are at most 107 bytes
    os.chmod(runtime, 0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    value = secrets.token_hex(6)
    monkeypatch.setenv("SGRAPH_TEST_MARK", value)
    monkeypatch.delenv("SGRAPH_WARM", raising=False)
    monkeypatch.delenv("SGRAPH_WARM_IDLE", raising=False)
    monkeypatch.delenv("SGRAPH_QUERY_TIMEOUT", raising=False)
    yield value
    for sock in (runtime / "sgraph-warm").glob("*.sock"):  # stop what a failed test left running
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(str(sock))
            s.sendall(b'{"op": "stop"}\n')
            s.recv(100)
            s.close()
        except OSError:
            pass
    end = time.monotonic() + 15
    while _marked(value) and time.monotonic() < end:
        time.sleep(0.1)
    left = _marked(value)
    for pid, _cmd in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(runtime, ignore_errors=True)
    assert left == [], "processes left behind"


def sgraph(*args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "graph_model", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _rows(backend, name: str) -> tuple[list, list]:
    q = queries.get_query(name)
    rows = queries.run_query(name, q.example_params(), backend)
    return rows.columns, list(rows)


def test_a_warm_server_answers_every_query_as_the_cold_path(seeds_home, mark):
    store = seeds_home / pipeline.EMBEDDED_DIR
    backend, started = warm.serve(store, idle=120, owner=os.getpid())
    assert started
    info = backend.info
    running = dict(_marked(mark))  # what the fixture checks at the end finds the server's processes
    assert "_warm_main.py" in running[info["pid"]] and "redis-server" in running[info["redis_pid"]]
    assert sum("_reaper_main.py" in cmd for cmd in running.values()) == 1  # the keeper's reaper
    cold = EmbeddedBackend(store)
    try:
        names = [q.name for q in queries.list_queries()]
        assert len(names) >= 12
        for name in names:
            assert _rows(backend, name) == _rows(cold, name), name
    finally:
        cold.close()
        backend.close()
    # The command line uses it: the same rows as a cold command, and the server counts them.
    cold_out = sgraph("query", "run", "breakdown-agencies", "--embedded", "--cold", "--home", str(seeds_home), "-f", "json").stdout
    for _ in range(2):
        out = sgraph("query", "run", "breakdown-agencies", "--embedded", "--home", str(seeds_home), "-f", "json").stdout
        assert out == cold_out and json.loads(out)
    again = warm.connect(store)
    assert again is not None
    assert again.info["pid"] == info["pid"] and again.info["requests"] == len(names) + 2  # --cold did not ask it
    again.close()
    # A second 'serve' finds it rather than starting another.
    done = sgraph("query", "serve", "--home", str(seeds_home))
    assert f"already holds {store} (pid {info['pid']}, {len(names) + 2} queries answered" in done.stderr
    done = sgraph("query", "stop", "--home", str(seeds_home))
    assert done.stderr == f"Stopped the warm server of {store}.\n"
    assert _gone(info["pid"], info["redis_pid"])
    assert warm.connect(store) is None
    assert sgraph("query", "stop", "--home", str(seeds_home)).stderr == f"No warm server holds {store}.\n"


def test_a_warm_server_refuses_writes_and_keeps_the_query_timeout(seeds_home, mark, monkeypatch):
    store = seeds_home / pipeline.EMBEDDED_DIR
    backend, _ = warm.serve(store, idle=120, owner=os.getpid())
    try:
        count = "MATCH (r:Review) RETURN count(r) AS n"
        before = backend.run(count)
        with pytest.raises(DatabaseError, match="read-only; queries cannot change it"):
            backend.run("CREATE (:Review {review_id: 'intruder'}) RETURN 1")
        with pytest.raises(DatabaseError, match="read-only"):
            backend.run("MATCH (r:Review) DETACH DELETE r")
        assert backend.run(count) == before == [{"n": 5}]
    finally:
        backend.close()
    monkeypatch.setenv("SGRAPH_QUERY_TIMEOUT", "1")
    slow = "UNWIND range(1, 30000) AS x UNWIND range(1, 30000) AS y WITH x, y WHERE (x * y) % 7 = 3 RETURN count(*) AS n"
    backend = warm.connect(store)
    assert backend is not None and backend.timeout == 1
    try:
        with pytest.raises(DatabaseError, match=r"ran longer than 1 s in the embedded store and was stopped"):
            backend.run(slow, source="slow.cypher")
        assert backend.run(count) == [{"n": 5}]  # it carries on
    finally:
        backend.close()
    assert warm.stop(store)


def test_a_warm_server_stops_after_its_idle_timeout(seeds_home, mark):
    store = seeds_home / pipeline.EMBEDDED_DIR
    backend, _ = warm.serve(store, idle=1.5, owner=os.getpid())
    info = backend.info
    assert _alive(info["pid"]) and _alive(info["redis_pid"])
    time.sleep(2.5)
    assert _alive(info["pid"])  # a connected command keeps it: no idle time while it is open
    assert backend.run("MATCH (r:Review) RETURN count(r) AS n") == [{"n": 5}]
    backend.close()
    assert _gone(info["pid"], info["redis_pid"], within=10)
    assert warm.connect(store) is None
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "sgraph-warm"
    assert sorted(p.name for p in folder.iterdir()) == [f"{warm.store_key(store)}.lock"]  # no socket, no engine folder


def test_a_warm_server_stops_when_its_owner_is_killed(seeds_home, mark):
    """The owner is the process that ran 'sgraph query serve' (here a shell that then waits)."""
    home = str(seeds_home)
    owner = subprocess.Popen(
        ["bash", "-c", f'"{sys.executable}" -m graph_model query serve --home "{home}" --idle 600 && exec sleep 600'],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    store = seeds_home / pipeline.EMBEDDED_DIR
    try:
        end = time.monotonic() + 120
        backend = None
        while backend is None and time.monotonic() < end and owner.poll() is None:
            time.sleep(0.1)
            backend = warm.connect(store)
        assert backend is not None, owner.stderr.read() if owner.poll() is not None else "not ready"
        info = backend.info
        backend.close()
        assert info["owner"] == owner.pid
        owner.kill()  # SIGKILL: the shell (now sleep) cannot do anything about it
        owner.wait()
        assert _gone(info["pid"], info["redis_pid"], within=10)
        assert warm.connect(store) is None
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        owner.stderr.close()


def test_killing_the_keeper_kills_its_engine_and_the_next_command_goes_cold(seeds_home, mark):
    store = seeds_home / pipeline.EMBEDDED_DIR
    backend, _ = warm.serve(store, idle=600, owner=os.getpid())
    info = backend.info
    backend.close()
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "sgraph-warm" / f"{warm.store_key(store)}-{info['pid']}"
    assert folder.is_dir()
    os.kill(info["pid"], signal.SIGKILL)
    assert _gone(info["pid"], info["redis_pid"], within=10)  # the kernel's parent-death signal
    end = time.monotonic() + 10
    while folder.exists() and time.monotonic() < end:  # the keeper's reaper removes its folder
        time.sleep(0.05)
    assert not folder.exists()
    assert warm.connect(store) is None  # its socket is left, but nothing answers on it
    out = sgraph("query", "run", "reviews-overview", "--embedded", "--home", str(seeds_home), "-f", "csv").stdout
    assert len(out.splitlines()) == 6  # a header and the five seeds, from a private server
    backend, started = warm.serve(store, idle=600, owner=os.getpid())  # and a new one can start
    assert started
    backend.close()
    assert warm.stop(store)


def test_a_rebuilt_workspace_is_not_answered_by_the_old_server(seeds_home, one_review_store, mark, tmp_path):
    home = tmp_path / "ws"
    shutil.copytree(seeds_home, home)
    store = home / pipeline.EMBEDDED_DIR
    backend, _ = warm.serve(store, idle=600, owner=os.getpid())
    old = backend.info
    backend.close()
    overview = ("query", "run", "reviews-overview", "--embedded", "--home", str(home), "-f", "csv")
    assert len(sgraph(*overview).stdout.splitlines()) == 6
    staged = home / ".new-store"
    shutil.copyfile(one_review_store, staged)
    os.replace(staged, store)  # as a build puts its new store in place
    # The very next command does not use the old server (whether or not it has noticed yet).
    assert len(sgraph(*overview).stdout.splitlines()) == 2  # one review
    assert _gone(old["pid"], old["redis_pid"], within=10)  # it exits when it sees the new file
    # --warm starts a server on the new store.
    assert len(sgraph(*overview, "--warm").stdout.splitlines()) == 2
    new = warm.connect(store)
    assert new is not None and new.info["pid"] != old["pid"] and new.info["requests"] == 1
    new.close()
    # The same for a change in place (same file, new size and time).
    with open(store, "ab") as fh:
        fh.write(b"\0")
    assert warm.connect(store) is None
    assert _gone(new.info["pid"], new.info["redis_pid"], within=10)


def test_sgraph_warm_starts_one_on_demand(seeds_home, mark):
    store = seeds_home / pipeline.EMBEDDED_DIR
    args = ("query", "run", "breakdown-agencies", "--embedded", "--home", str(seeds_home), "-f", "csv")
    first = sgraph(*args, SGRAPH_WARM="1", SGRAPH_WARM_IDLE="600")
    backend = warm.connect(store)
    assert backend is not None and backend.info["requests"] == 1 and backend.info["idle"] == 600
    backend.close()
    assert sgraph(*args).stdout == first.stdout
    assert warm.stop(store)


def test_the_warm_folder_must_be_private(seeds_home, mark):
    store = seeds_home / pipeline.EMBEDDED_DIR
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "sgraph-warm"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    with pytest.raises(DatabaseError, match=r"sgraph-warm: the warm server's folder must be a folder of yours .*mode 700"):
        warm.serve(store, idle=60, owner=os.getpid())
    assert warm.connect(store) is None  # not used either
    done = sgraph("query", "run", "breakdown-agencies", "--embedded", "--warm", "--home", str(seeds_home), check=False)
    assert done.returncode == 1 and done.stderr.startswith("Error: ") and "mode 700" in done.stderr


def test_warm_is_for_the_embedded_store():
    done = sgraph("query", "run", "breakdown-agencies", "--neo4j", "--warm", check=False)
    assert done.returncode == 2 and "--warm is for the embedded store" in done.stderr


def test_the_reaper_of_the_command_that_started_it_leaves_it_running(seeds_home, mark):
    """A command that used the reaper (a cold query) and then started a warm server: when it
    ends, its reaper cleans up after it and the warm server carries on."""
    store = seeds_home / pipeline.EMBEDDED_DIR
    code = (
        "import os, sys\n"
        "from graph_model import embedded, reaper, warm\n"
        f"cold = embedded.EmbeddedBackend({str(store)!r}); cold.close()\n"
        "assert reaper._proc is not None  # this process has a reaper\n"
        f"be, started = warm.serve({str(store)!r}, idle=60, owner={os.getpid()})\n"
        "print(be.info['pid'], be.info['redis_pid'], reaper._proc.pid)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    keeper, engine, its_reaper = map(int, done.stdout.split())
    assert _gone(its_reaper, within=10)  # the command's reaper did its work and left
    assert _alive(keeper) and _alive(engine)
    backend = warm.connect(store)
    assert backend is not None and backend.run("MATCH (r:Review) RETURN count(r) AS n") == [{"n": 5}]
    backend.close()
    assert warm.stop(store)


def test_a_damaged_store_is_one_sentence_and_leaves_nothing(tmp_path, mark):
    store = tmp_path / "ws" / pipeline.EMBEDDED_DIR
    store.parent.mkdir()
    store.write_bytes(b"REDIS0011 not a store at all")
    done = sgraph("query", "run", "breakdown-agencies", "--embedded", "--warm", "--home", str(store.parent), check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {store}: the workspace is damaged (the embedded engine cannot open this store; ")
    assert done.stderr.endswith("); run 'sgraph build' again.\n") and done.stderr.count("\n") == 1
    folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "sgraph-warm"
    assert [p.name for p in folder.iterdir()] == [f"{warm.store_key(store)}.lock"]  # no engine folder, no socket
