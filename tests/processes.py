"""Finding the processes a test started, as /proc shows them (shared by the tests that kill
commands and watch what they leave)."""

from __future__ import annotations

import os
from pathlib import Path


def live_processes(environ_holds: bytes, cmdline_holds: bytes | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of every live (not zombie) process whose environment holds
    ``environ_holds``, or whose command line holds ``cmdline_holds``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if environ_holds not in Path(f"/proc/{entry}/environ").read_bytes() and (
                cmdline_holds is None or cmdline_holds not in Path(f"/proc/{entry}/cmdline").read_bytes()
            ):
                continue
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            found.append((int(entry), cmd))
    return found
