"""The reaper process (see graph_model/reaper.py): run as a script, standard library only.

It reads JSON lines on its standard input, the read end of a pipe whose only write end its
owner holds: ``["+pid", N]`` / ``["-pid", N]`` and ``["+path", P]`` / ``["-path", P]``.
When the pipe closes -- the owner exited, however it died, kill -9 included -- it kills the
processes still registered (SIGTERM, then SIGKILL after a second) and removes the paths
still registered, then exits. It ignores SIGINT and SIGTERM sent to its owner's group, so
that it outlives the owner just long enough to clean up after it.
"""

import json
import os
import shutil
import signal
import sys
import time


def _alive(pid: int, exe: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        if state == b"Z":
            return False
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return exe.encode() in fh.read()  # the same program, not a reused process id
    except OSError:
        return False


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    pids: dict[int, str] = {}
    paths: list[str] = []
    for line in sys.stdin.buffer:
        try:
            op, arg, *rest = json.loads(line)
        except ValueError:
            continue
        if op == "+pid":
            pids[int(arg)] = rest[0] if rest else ""
        elif op == "-pid":
            pids.pop(int(arg), None)
        elif op == "+path":
            paths.append(arg)
        elif op == "-path" and arg in paths:
            paths.remove(arg)
    # The owner is gone.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        live = [pid for pid, exe in pids.items() if _alive(pid, exe)]
        for pid in live:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        end = time.monotonic() + 1.0
        while live and time.monotonic() < end:
            time.sleep(0.02)
            live = [pid for pid in live if _alive(pid, pids[pid])]
        if not live:
            break
    for path in paths:
        p = os.fsencode(path)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)
        except OSError:
            pass


if __name__ == "__main__":
    main()
