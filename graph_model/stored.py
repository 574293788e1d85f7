"""What the last ``sgraph build`` stored in the workspace, read back: its records, its graph
and their counts. Every command that reads the workspace comes here (through
:mod:`graph_model.pipeline`, which re-exports these, or directly)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from .errors import SgraphError
from .workspace import READ_ERRORS, graph_path, kept_counts, read_json_bytes, records_path

if TYPE_CHECKING:  # heavy: imported by the functions that use them (``stats`` needs neither)
    import networkx as nx

    from .models import ReviewRecord


def stored_records(home: str | os.PathLike[str] | None = None) -> list[ReviewRecord]:
    """The extraction records the last ``build`` stored in the workspace (``records.json.gz``,
    or an older workspace's ``records.json``)."""
    from .models import ReviewRecord

    path = records_path(home)
    try:
        data = json.loads(read_json_bytes(path).decode("utf-8"))
    except READ_ERRORS as exc:
        raise SgraphError(
            f"{path}: the stored records cannot be read ({exc or type(exc).__name__}); run 'sgraph build' again."
        ) from None
    try:
        return [ReviewRecord.model_validate(r) for r in data["reviews"]]
    except (KeyError, TypeError, ValueError) as exc:  # ValidationError is a ValueError
        raise SgraphError(
            f"{path}: the workspace is damaged (the stored records are not sgraph's: {type(exc).__name__}); "
            "run 'sgraph build' again."
        ) from None


def stored_graph(home: str | os.PathLike[str] | None = None) -> nx.MultiDiGraph:
    """The graph the last ``build`` stored in the workspace (``graph.json.gz``, or an older
    workspace's ``graph.json``)."""
    from .build import load_graph

    return load_graph(graph_path(home))


def graph_stats(g: nx.MultiDiGraph) -> dict[str, dict[str, int]]:
    """Counts of nodes per label and relationships per type (and per link status)."""
    labels: dict[str, int] = {}
    for _n, d in g.nodes(data=True):
        labels[d["label"]] = labels.get(d["label"], 0) + 1
    rels: dict[str, int] = {}
    links: dict[str, int] = {}
    for _u, _v, d in g.edges(data=True):
        rels[d["type"]] = rels.get(d["type"], 0) + 1
        if d["type"] == "COMMUNICATION":
            links[d["status"]] = links.get(d["status"], 0) + 1
    return {"nodes": dict(sorted(labels.items())), "relationships": dict(sorted(rels.items())), "links": dict(sorted(links.items()))}


def stored_stats(home: str | os.PathLike[str] | None = None) -> dict[str, dict[str, int]]:
    """Counts of nodes per label and relationships per type (and per link status) of the
    stored graph: the kept ones, else counted from graph.json (slow for a large corpus)."""
    kept = kept_counts(home)
    if kept is not None:
        return {k: kept[k] for k in ("nodes", "relationships", "links")}
    return graph_stats(stored_graph(home))
