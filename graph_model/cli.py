"""The ``sgraph`` command line. Commands live in :mod:`graph_model.commands`; importing this
module registers them all on ``app``."""

from __future__ import annotations

import sys

from .commands import app, register_all
from .commands import main as _main

register_all()


def main() -> None:
    sys.exit(_main(sys.argv[1:]))


__all__ = ["app", "main"]
