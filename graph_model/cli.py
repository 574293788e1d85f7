"""The ``sgraph`` command line. Commands live in :mod:`graph_model.commands`."""

from __future__ import annotations

import sys

from .commands import (
    app,
    core,  # noqa: F401  (registers build, extract, stats, taxonomy)
)
from .commands import main as _main

for _module in ("query", "load", "report", "export", "synth"):
    try:
        __import__(f"graph_model.commands.{_module}")
    except ModuleNotFoundError as _exc:  # a feature not installed in this checkout
        if _exc.name != f"graph_model.commands.{_module}":
            raise


def main() -> None:
    sys.exit(_main(sys.argv[1:]))


__all__ = ["app", "main"]
