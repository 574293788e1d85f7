"""The console script's entry point: imports the CLI lazily, so that Ctrl-C during the
second or so of imports ends with the same one sentence as Ctrl-C anywhere else.

``sgraph query list`` and a ``query run`` that a warm server answers take the quick path
(:mod:`graph_model.quick`), which does not import the command-line framework at all."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .quick import run as quick

        code = quick(sys.argv[1:])
        if code is None:
            from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted; nothing was written.\n")
        sys.exit(130)
    if code is not None:
        sys.exit(code)
    run()
