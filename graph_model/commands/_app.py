"""What every command module shares: the typer ``app`` they register on, the consoles,
the common options, the progress bar and :func:`fail`.

Command modules import these from here, and the package (:mod:`graph_model.commands`)
imports the command modules, so no module imports the package that imports it. Only typer
and light modules at the top (start-up time; ``tests/test_startup.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

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


def fail(message: str, code: int = 1) -> None:
    err.print(f"Error: {message}", markup=False)
    raise SystemExit(code)
