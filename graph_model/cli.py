"""The ``sgraph`` command line. Commands live in :mod:`graph_model.commands`."""

from __future__ import annotations

import sys

from .commands import app, core, curation, export, insights, load, query, report, synth  # noqa: F401  (each registers its commands)
from .commands import main as _main


def main() -> None:
    sys.exit(_main(sys.argv[1:]))


__all__ = ["app", "main"]
