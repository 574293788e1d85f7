"""The typer application shared by every command module.

Each command is a thin shim over a library function of the same name; errors derived
from :class:`graph_model.errors.SgraphError` reach the user as one sentence (no traceback)
with exit code 1 (2 for usage errors). Command modules register themselves on ``app``;
:func:`register_all` imports them all (``main`` does, and so does importing
:mod:`graph_model.cli`).

Start-up: ``sgraph --help`` and ``sgraph query list`` must start in a fifth of a second, so
this package and every command module import at their top only typer and light modules of
ours; the heavy ones (networkx, pydantic models, rich, the extraction, the stores) are
imported inside the commands that use them. ``tests/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import sys

import typer

from ..errors import SgraphError
from ..terminal import tolerant_streams as _tolerant_streams
from ._app import HomeOption, TaxonomyOption, app, err, fail, out, progress_bar

__all__ = ["HomeOption", "TaxonomyOption", "app", "err", "fail", "main", "out", "progress_bar", "register_all"]


def register_all() -> None:
    """Import every command module: each registers its commands on ``app``."""
    from . import core, curation, export, insights, load, query, report, synth  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning known errors into one clear sentence."""
    from ..reaper import sigterm_as_interrupt

    register_all()

    _tolerant_streams()
    try:
        with sigterm_as_interrupt():  # SIGTERM (kill, timeout) stops a command as Ctrl-C does
            rv = app(args=argv, standalone_mode=False)
        # typer >= 0.16 turns Ctrl-C (and a typer.Exit raised by a command) into a
        # *returned* exit code when standalone_mode is off: it must not become 0.
        if isinstance(rv, int) and not isinstance(rv, bool) and rv != 0:
            if rv == 130:
                err.print("Interrupted; nothing was written.", markup=False)
            return rv
    except SgraphError as exc:
        err.print(f"Error: {exc.message}", markup=False)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrupted; nothing was written.", markup=False)
        return 130
    except typer.TyperException as exc:  # usage errors: unknown command, bad option...
        show = getattr(exc, "show", None)
        if show:
            show(file=sys.stderr)
        else:
            err.print(f"Error: {exc}", markup=False)
        return getattr(exc, "exit_code", 2) or 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    # Safety nets: what no code path should let through still reaches the user as one
    # sentence (the catalogue in tests/test_reliability.py finds these paths and fixes them).
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"Error: {where}{exc.strerror or exc} (a system error; nothing was replaced).", markup=False)
        return 1
    except MemoryError:
        err.print("Error: out of memory; nothing was replaced (try fewer documents or --jobs 1).", markup=False)
        return 1
    except RecursionError:
        err.print("Error: an input is nested too deeply to process; nothing was replaced.", markup=False)
        return 1
    return 0
