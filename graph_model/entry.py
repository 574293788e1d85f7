"""The console script's entry point: imports the CLI lazily, so that Ctrl-C during the
second or so of imports ends with the same one sentence as Ctrl-C anywhere else."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted; nothing was written.\n")
        sys.exit(130)
    run()
