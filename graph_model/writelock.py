"""One writer at a time per workspace, and no temporary file of a dead writer left in it.

:func:`workspace_write` wraps the part of a build that writes the workspace (staging the
store, records.json and graph.json beside their final names, then renaming them): two
builds into one home are serialised there, so the three files always come from the same
build. The lock is an ``flock`` on the workspace folder itself (no lock file to leave
behind); the kernel drops it when its holder exits in any way, ``kill -9`` included.

Holding it, nothing else writes the workspace, so any staging left beside the final names
(``.records.json.tmp-PID``, ``.graph.json.tmp-PID``, ``.embedded.falkordb.tmp-*/``) is a
dead build's and is removed.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

# A staged file or folder beside a workspace file: ".<name>.tmp-<pid or random>".
_LEFTOVER_RE = re.compile(r"^\.[^/]+\.tmp-[A-Za-z0-9_]+$")


def leftovers(home: Path) -> list[Path]:
    """The staged files and folders of earlier, dead builds in ``home``."""
    try:
        names = os.listdir(home)
    except OSError:
        return []
    return [home / n for n in sorted(names) if _LEFTOVER_RE.match(n)]


@contextmanager
def workspace_write(home: str | os.PathLike[str], waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the workspace ``home`` (an existing folder) for writing inside the block.

    If another build holds it, ``waiting`` is told once and the call waits (Ctrl-C stops
    the wait with nothing written).
    """
    home = Path(home)
    try:
        fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise OutputError(f"{home}: the workspace cannot be opened for writing ({exc.strerror or exc}).") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting(f"Waiting for another build into {home} to finish.")
            fcntl.flock(fd, fcntl.LOCK_EX)
        for path in leftovers(home):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    path.unlink()
                except OSError:
                    pass
        yield
    finally:
        os.close(fd)  # releases the lock
