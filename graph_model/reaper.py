"""No process or temporary file of ours outlives its command, however the command ends.

Three mechanisms, each for what it fits:

* :func:`die_with_parent` -- a forked worker (the build's extraction workers) asks the
  kernel for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), so that a ``kill -9`` of
  the build does not leave workers blocked forever writing to a pipe nobody reads.
* :func:`watch` / :func:`unwatch` -- the embedded engine's ``redis-server`` daemonises (its
  parent is then init, and a parent-death signal does not survive that), and temporary
  folders are plain files: both are registered with a small *reaper* process started on
  first use. It holds the read end of a pipe whose write end only this process holds; when
  the pipe closes, because this process exited in any way (``kill -9`` included), the
  reaper kills the registered processes and removes the registered paths, then exits.
* The warm server (:mod:`graph_model.warm`) is the one process meant to outlive its
  command, so the command that starts it does not register it here. It has its own
  guards: its ``redis-server`` gets ``PR_SET_PDEATHSIG`` (:func:`die_with_parent`) from
  the keeper that started it, and the keeper registers its folder (and that server) with
  a reaper of its own, which acts if the keeper is killed.
* :func:`sigterm_as_interrupt` -- SIGTERM (``timeout``, ``kill``, a service manager) is
  handled exactly like Ctrl-C: the command stops, cleans up and says "Interrupted".
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1
_lock = threading.Lock()
_pipe: int | None = None  # the write end, held by this process only
_owner: int | None = None  # the process that started the reaper (a fork must not reuse it)
_proc: Any = None  # the reaper's subprocess.Popen


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """In a child process: be sent ``sig`` when the parent dies (Linux; elsewhere nothing)."""
    import ctypes  # here: importing it costs every command's start-up a few milliseconds

    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent died before the request: do as it would have
        os.kill(os.getpid(), sig)


def _send(message: list) -> None:
    global _pipe, _owner, _proc
    import subprocess  # here: most commands never start a reaper

    line = (json.dumps(message) + "\n").encode("utf-8", "surrogateescape")
    with _lock:
        if _pipe is None or _owner != os.getpid():
            read_end, write_end = os.pipe()  # both close-on-exec: no other program inherits them
            try:
                _proc = subprocess.Popen(
                    [sys.executable, "-I", "-S", str(Path(__file__).with_name("_reaper_main.py"))],
                    stdin=read_end,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                    start_new_session=True,  # a Ctrl-C or kill of our group does not reach it
                )
            finally:
                os.close(read_end)
            _pipe, _owner = write_end, os.getpid()
        os.write(_pipe, line)


def watch(pid: int | None = None, path: str | os.PathLike[str] | None = None, exe: str = "") -> None:
    """Kill process ``pid`` (if it still runs ``exe``) and remove ``path`` if this process
    dies before :func:`unwatch` says they are dealt with."""
    try:
        if pid is not None:
            _send(["+pid", int(pid), exe])
        if path is not None:
            _send(["+path", os.fsdecode(os.path.abspath(path))])
    except OSError:  # pragma: no cover - cannot start a process: carry on without a guard
        pass


def unwatch(pid: int | None = None, path: str | os.PathLike[str] | None = None) -> None:
    """The process ``pid`` was stopped / ``path`` was removed or kept on purpose."""
    if _pipe is None or _owner != os.getpid():
        return
    try:
        if pid is not None:
            _send(["-pid", int(pid)])
        if path is not None:
            _send(["-path", os.fsdecode(os.path.abspath(path))])
    except OSError:  # pragma: no cover
        pass


@contextmanager
def watched_path(path: str | os.PathLike[str]) -> Iterator[None]:
    """``path`` is removed by the reaper if this process dies inside the block."""
    watch(path=path)
    try:
        yield
    finally:
        unwatch(path=path)


def _as_interrupt(signum: int, frame: object) -> None:
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)  # whatever Ctrl-C does just now (deferred, noted ...)
        return
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block (main thread only) SIGTERM does what Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, _as_interrupt)
    except (ValueError, OSError):  # pragma: no cover
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
