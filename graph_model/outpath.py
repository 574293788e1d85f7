"""What ``--out`` may replace: a regular file, or nothing.

Every command that writes a file named by ``--out`` (``export``, ``map``, ``extract --out``'s
annotation files, the board pack's folder) asks :func:`check_out_file` (or
:func:`check_out_folder`) first, and the atomic writers ask again just before their rename:
``--force`` replaces an earlier output, never a device node (``/dev/null``), a FIFO, a
socket, or a symbolic link (which would be replaced, not written through, leaving the file it
pointed at unchanged and the link gone).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import OutputError

_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _what(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_out_file(path: str | os.PathLike[str]) -> None:
    """Refuse ``path`` unless it is absent, a regular file or a folder (the callers say
    what they make of an existing file or folder: ``--force``, "give a file name").

    Raises :class:`~graph_model.errors.OutputError` naming the path: a symbolic link, a
    device, a FIFO or a socket is never replaced, whatever ``--force`` says.
    """
    p = Path(path)
    st = _lstat(p)
    if st is None:
        return
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"{p}: is a symbolic link; sgraph does not replace links, give the path of a regular file.")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise OutputError(f"{p}: is {_what(st.st_mode)}, not a regular file; sgraph writes only regular files.")


def _lstat(p: Path) -> os.stat_result | None:
    """What ``p`` itself is (a link is not followed), or None when nothing is there."""
    try:
        return p.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise OutputError(f"{p}: cannot be written ({exc.strerror or exc}).") from None


def check_out_folder(path: str | os.PathLike[str]) -> None:
    """Refuse a folder ``path`` that is a symbolic link or not a folder (absent is fine)."""
    p = Path(path)
    st = _lstat(p)
    if st is None:
        return
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"{p}: is a symbolic link; sgraph does not replace links, give the path of a real folder.")
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{p}: exists and is not a folder; choose another --out.")
