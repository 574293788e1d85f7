"""Export commands: everything one agency (or every agency) must learn, with citations.

Thin shims over :func:`graph_model.exports.export_agency` and
:func:`graph_model.exports.export_agencies`; the graph comes from the workspace, or from
Neo4j with ``--neo4j`` (the same export code runs on either).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from . import HomeOption, app, err

if TYPE_CHECKING:
    import networkx as nx

export_app = typer.Typer(
    help="Export what an agency must learn from the reviews (Markdown, HTML, CSV, JSON or Word).",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")

FormatHelp = "md, html, csv, json or docx (default: from the --out suffix, else md)."
Neo4jOption = typer.Option(
    False, "--neo4j", help="Read the graph from Neo4j (NEO4J_URI etc.) instead of the workspace."
)
ForceOption = typer.Option(False, "--force", help="Overwrite existing files.")


def _graph(neo4j: bool, home: Path | None) -> nx.MultiDiGraph:
    if neo4j:
        from .. import neo4j_store  # imported only when asked: it needs a server

        return neo4j_store.read_graph()
    from .. import pipeline  # imported here, as exports below: start-up time (commands/__init__.py)

    return pipeline.stored_graph(home)


def _format(fmt: str | None, out: Path | None) -> str:
    from .. import exports

    if fmt:
        return exports.check_format(fmt)
    suffix = out.suffix.lower().lstrip(".") if out else ""
    if suffix in ("md", "markdown", "html", "htm", "csv", "json", "docx"):
        return exports.check_format({"htm": "html"}.get(suffix, suffix))
    return "md"


@export_app.command("agency")
def export_agency(
    name: str = typer.Argument(
        ..., help="The agency: its name or any alias (e.g. 'HV', 'health visitor', 'Police')."
    ),
    format: str = typer.Option(None, "--format", "-f", help=FormatHelp),
    out: Path = typer.Option(..., "--out", "-o", help="The file to write."),
    force: bool = ForceOption,
    neo4j: bool = Neo4jOption,
    home: Path = HomeOption,
) -> None:
    """Every lesson, recommendation, missed opportunity and communication link involving one agency, across all reviews, each with its source.

    Example: sgraph export agency HV --format docx --out health-visiting.docx

    Example: sgraph export agency "health visitor" --out hv.md

    Example: sgraph export agency Police --format json --out police.json --force --neo4j
    """
    fmt = _format(format, out)
    from .. import exports

    exports.check_target(out, force)  # before reading the graph: fail fast
    graph = _graph(neo4j, home)
    learning = exports.agency_learning(graph, name)
    path = exports.write_learning(learning, fmt, out, force)
    s = learning.summary
    err.print(
        f"Wrote {s.items} item(s) for {learning.agency} from {s.reviews} review(s) to {path}.",
        markup=False,
    )


@export_app.command("agencies")
def export_agencies(
    out: Path = typer.Option(..., "--out", "-o", help="The folder to write into (created if missing)."),
    format: str = typer.Option("md", "--format", "-f", help="md, html, csv, json or docx."),
    force: bool = ForceOption,
    neo4j: bool = Neo4jOption,
    home: Path = HomeOption,
) -> None:
    """One export per agency that has any item, plus an index file.

    Example: sgraph export agencies --out board-pack/

    Example: sgraph export agencies --out board-pack/ --format docx --force
    """
    from .. import exports

    fmt = exports.check_format(format)
    graph = _graph(neo4j, home)
    paths = exports.export_agencies(graph, out, fmt, force)
    err.print(
        f"Wrote {len(paths) - 1} agency export(s) and the index {paths[-1].name} to {out}/.", markup=False
    )
