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
from typing import TYPE_CHECKING, Any

import typer

from ..entry import tolerant_streams as _tolerant_streams
from ..errors import SgraphError
from ._plain_params import install as _plain_text_options

_plain_text_options()  # text options without importing pydantic (start-up time)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

app = typer.Typer(
    name="sgraph",
    help="Turn child safeguarding review documents into an evidence-backed graph.\n\n"
    "Example: sgraph build seeds/ && sgraph query run breakdown-agencies",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)



class _LazyConsole:
    """A rich Console made on first use (importing rich costs start-up time that
    ``--help`` and most quick commands never need)."""

    def __init__(self, **kwargs: Any):
        self._kwargs = kwargs
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._kwargs)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


err: Console = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)  # type: ignore[assignment]
out: Console = _LazyConsole(highlight=False, soft_wrap=True)  # type: ignore[assignment]

HomeOption = typer.Option(None, "--home", help="Workspace folder (default: $SGRAPH_HOME or ./.sgraph).")
TaxonomyOption = typer.Option(
    None, "--taxonomy", help="A YAML file extending the shipped taxonomy (default: $SGRAPH_TAXONOMY)."
)


def progress_bar(quiet: bool) -> Progress:
    """The progress bar every long command shows on stderr (none with --quiet)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.get(),  # type: ignore[attr-defined]
        disable=quiet or not err.is_terminal,  # piped: no bar, and no blank line where it was
        transient=True,
    )


def register_all() -> None:
    """Import every command module: each registers its commands on ``app``."""
    from . import core, curation, export, insights, load, query, report, synth  # noqa: F401


def fail(message: str, code: int = 1) -> None:
    err.print(f"Error: {message}", markup=False)
    raise SystemExit(code)


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
