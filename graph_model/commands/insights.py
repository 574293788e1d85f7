"""The insights command: which lessons keep coming back, and which themes recur year by year."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UsageError
from ._app import HomeOption, app, out


@app.command()
def insights(
    format: str = typer.Option("text", "--format", "-f", help="text, json or md."),
    limit: int = typer.Option(10, "--limit", "-n", help="How many recurring lessons to show (at least 1)."),
    min_reviews: int = typer.Option(2, "--min-reviews", help="Show lessons found in at least this many reviews."),
    home: Path = HomeOption,
) -> None:
    """Show the top recurring lessons (learning points that say the same thing in different reviews: their wording, the reviews, first and last year, themes) and theme recurrence by year.

    Example: sgraph insights --limit 5 --format md
    """
    from .. import pipeline
    from ..recurring import INSIGHT_FORMATS, insights_text
    from ..recurring import insights as build_insights

    if format not in INSIGHT_FORMATS:
        raise UsageError(f"Unknown format '{format}'; use text, json or md.")
    if limit < 1:
        raise UsageError("--limit must be at least 1.")
    if min_reviews < 2:
        raise UsageError("--min-reviews must be at least 2 (a lesson recurs when two reviews share it).")
    graph = pipeline.stored_graph(home)
    out.print(insights_text(build_insights(graph, limit=limit, min_reviews=min_reviews), format), end="", markup=False)
