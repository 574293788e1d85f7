"""Report commands: the board pack (``sgraph report``) and single maps (``sgraph map``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import DatabaseError, UsageError
from ._app import HomeOption, app, err

if TYPE_CHECKING:
    import networkx as nx

MAP_KINDS = ("agencies", "themes", "review")

Neo4jOption = typer.Option(
    False, "--neo4j", help="Read the graph from Neo4j (NEO4J_URI etc.) instead of the workspace."
)


def _graph(home: Path | None, neo4j: bool) -> nx.MultiDiGraph:
    if not neo4j:
        from .. import pipeline  # imported here: start-up time (commands/__init__.py)

        return pipeline.stored_graph(home)
    try:
        from ..neo4j_store import read_graph
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith("neo4j_store"):
            raise DatabaseError("Neo4j support is not part of this installation; drop --neo4j to use the workspace.") from None
        raise
    return read_graph()


@app.command()
def report(
    out: Path = typer.Option(Path("board-pack"), "--out", "-o", help="Folder to write the board pack into."),
    force: bool = typer.Option(False, "--force", help="Replace a board pack written there before."),
    jobs: int = typer.Option(None, "--jobs", "-j", min=0,
                             help="Worker processes writing the reviews' files (default: one per CPU from 40 reviews; 0: none)."),
    neo4j: bool = Neo4jOption,
    home: Path = HomeOption,
) -> None:
    """Write the board pack: an index, the maps and a page per review and agency, all static HTML that opens offline.

    Example: sgraph report --out board-pack --force
    """
    from ..maps import write_report

    graph = _graph(home, neo4j)
    path = write_report(graph, out, force=force, workers=jobs)
    reviews = sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "Review")
    err.print(
        f"Wrote the board pack of {reviews} review(s) to {path}/; open {path / 'index.html'} in a browser.",
        markup=False,
    )


@app.command("map")
def map_command(
    kind: str = typer.Argument(..., metavar="agencies|themes|review", help="agencies, themes or review."),
    review: str = typer.Option(None, "--review", "-r", help="The review id (for 'review')."),
    out: Path = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
    neo4j: bool = Neo4jOption,
    home: Path = HomeOption,
) -> None:
    """Write one interactive map as a single self-contained HTML file.

    Example: sgraph map review --review IN14 --out in14.html
    """
    from .. import maps

    if kind not in MAP_KINDS:
        raise UsageError(f"Unknown map '{kind}'; use agencies, themes or review.")
    if kind == "review" and not review:
        raise UsageError("The review map needs --review ID (see 'sgraph stats' or the board pack for ids).")
    if kind != "review" and review:
        raise UsageError(f"--review applies only to the review map, not to '{kind}'.")
    graph = _graph(home, neo4j)
    if kind == "agencies":
        text = maps.agency_map_html(graph)
    elif kind == "themes":
        text = maps.theme_map_html(graph)
    else:
        text = maps.review_map_html(graph, review)
    path = maps.write_map(text, out, force=force)
    err.print(f"Wrote the {kind} map ({len(text.encode('utf-8')):,} bytes) to {path}.", markup=False)
