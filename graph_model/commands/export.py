"""Export commands: everything one agency (or every agency) must learn, with citations.

Thin shims over :func:`graph_model.exports.export_agency` and
:func:`graph_model.exports.export_agencies`; the graph comes from the workspace, or from
Neo4j with ``--neo4j`` (the same export code runs on either).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ._app import HomeOption, app, err

if TYPE_CHECKING:
    import networkx as nx

export_app = typer.Typer(
    help="Export what an agency must learn from the reviews (Markdown, HTML, CSV, JSON or Word).\n\n"
    'Example: sgraph export agency "health visitor" --format docx --out hv.docx',
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")

FormatHelp = "md, html, csv, json or docx (default: from the --out suffix, else md)."
Neo4jOption = typer.Option(
    False, "--neo4j", help="Read the graph from Neo4j (NEO4J_URI etc.) instead of the workspace."
)
ForceOption = typer.Option(False, "--force", help="Overwrite existing files.")
FullOption = typer.Option(
    False, "--full", help="One file: the digest, then every item (for CSV: one row per item), instead of a digest and its appendix."
)
SinceOption = typer.Option(None, "--since", help="Only reviews of this year or later.", min=0)
BoardOption = typer.Option(None, "--board", help="Only reviews of this safeguarding board or partnership.")
ThemeOption = typer.Option(None, "--theme", help="Only items about this theme (see 'sgraph taxonomy --kind theme').")


def _graph(neo4j: bool, home: Path | None, agencies: list[str] | None) -> nx.MultiDiGraph:
    if neo4j:
        from .. import neo4j_store  # imported only when asked: it needs a server

        return neo4j_store.read_graph()
    from .. import exports  # imported here: start-up time (commands/__init__.py)

    return exports.export_graph(home, agencies)


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
        ..., metavar="AGENCY", help="The agency: its name or any alias (e.g. 'HV', 'health visitor', 'Police')."
    ),
    format: str = typer.Option(None, "--format", "-f", help=FormatHelp),
    out: Path = typer.Option(..., "--out", "-o", help="The digest to write; every item goes beside it in NAME.appendix.EXT."),
    full: bool = FullOption,
    since: int = SinceOption,
    board: str = BoardOption,
    theme: str = ThemeOption,
    force: bool = ForceOption,
    neo4j: bool = Neo4jOption,
    home: Path = HomeOption,
) -> None:
    """What one agency must learn from the reviews: a digest of a few pages (recurring lessons, broken links by partner agency, missed opportunities by theme, recommendations, lessons that came back, counts by year), and every item with its source in an appendix beside it.

    Example: sgraph export agency Police --out police.md   (writes police.md and police.appendix.md)

    Example: sgraph export agency HV --format docx --out health-visiting.docx --since 2018

    Example: sgraph export agency "health visitor" --out hv.md --full --theme "Information sharing"

    Example: sgraph export agency Police --format json --out police.json --force --neo4j
    """
    fmt = _format(format, out)
    from .. import exports

    for path in exports.output_paths(out, fmt, full):
        exports.check_target(path, force)  # before reading the graph: fail fast
    graph = _graph(neo4j, home, [name])
    learning = exports.agency_learning(graph, name, since=since, board=board, theme=theme)
    paths = exports.output_paths(out, fmt, full)
    exports.write_learning(learning, fmt, out, force, full)
    s = learning.summary
    also = f" and every item to {paths[1]}" if len(paths) > 1 else ""
    err.print(
        f"Wrote the digest of {s.items} item(s) for {learning.agency} from {s.reviews} review(s) to {paths[0]}{also}.",
        markup=False,
    )


@export_app.command("agencies")
def export_agencies(
    out: Path = typer.Option(..., "--out", "-o", help="The folder to write into (created if missing)."),
    format: str = typer.Option("md", "--format", "-f", help="md, html, csv, json or docx."),
    full: bool = FullOption,
    since: int = SinceOption,
    board: str = BoardOption,
    theme: str = ThemeOption,
    force: bool = ForceOption,
    neo4j: bool = Neo4jOption,
    home: Path = HomeOption,
) -> None:
    """A digest and its appendix per agency that has any item, plus an index file.

    Example: sgraph export agencies --out board-pack/

    Example: sgraph export agencies --out board-pack/ --format docx --since 2019 --force
    """
    from .. import exports

    fmt = exports.check_format(format)
    graph = _graph(neo4j, home, None)
    paths = exports.export_agencies(graph, out, fmt, force, full=full, since=since, board=board, theme=theme)
    err.print(
        f"Wrote {len(paths) - 1} agency digest(s) and the index {paths[-1].name} to {out}/.", markup=False
    )
