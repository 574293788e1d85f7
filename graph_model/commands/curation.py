"""Curation commands: the review queue of low-confidence facts (docs/curation.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UsageError
from ._app import HomeOption, app, out


@app.command("review-queue")
def review_queue_command(
    below: float = typer.Option(0.6, "--below", help="List the facts with a confidence below this (0-1)."),
    format: str = typer.Option("text", "--format", "-f", help="text, json or csv."),
    home: Path = HomeOption,
) -> None:
    """List the facts extraction is least sure of, lowest confidence first, for a person to check.

    Example: sgraph review-queue --below 0.6 --format csv
    """
    if format not in ("text", "json", "csv"):
        raise UsageError(f"Unknown format '{format}'; use text, json or csv.")
    from ..curation import queue_text, review_queue

    rows = review_queue(home, below)
    out.print(queue_text(rows, format), markup=False, soft_wrap=True, end="")
