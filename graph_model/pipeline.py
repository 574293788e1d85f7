"""The main job as library functions: read → extract → build → store.

``build`` is what the ``sgraph build`` command calls. The workspace ("home") is a folder
holding the stored graph (``graph.json``), the extraction records (``records.json``) and
the embedded store; later commands read it instead of rebuilding.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from .build import GRAPH_FILE, atomic_write_text, build_graph, check_unique_ids, load_graph, save_graph
from .errors import OutputError
from .extract import extract
from .models import ReviewRecord
from .read import iter_document_paths, read_document
from .taxonomy import load_taxonomy

HOME_ENV = "SGRAPH_HOME"
DEFAULT_HOME = ".sgraph"
RECORDS_FILE = "records.json"
EMBEDDED_DIR = "embedded.lbug"


def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: ``home``, else ``$SGRAPH_HOME``, else ``./.sgraph``."""
    return Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME)


def extract_file(path: str | os.PathLike[str], taxonomy_file: str | None = None) -> ReviewRecord:
    """Read and extract one document."""
    return extract(read_document(path), load_taxonomy(taxonomy_file))


def _extract_worker(args: tuple[str, str | None]) -> ReviewRecord:
    return extract_file(*args)


def extract_files(
    paths: Sequence[str | os.PathLike[str]],
    taxonomy_file: str | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ReviewRecord]:
    """Extract every document under ``paths`` (files or folders), using ``jobs`` processes."""
    files = iter_document_paths(paths)
    load_taxonomy(taxonomy_file)  # fail early on a bad taxonomy
    jobs = jobs or min(os.cpu_count() or 1, 8)
    records: list[ReviewRecord] = []
    if jobs > 1 and len(files) >= 8:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for path, record in zip(files, pool.map(_extract_worker, [(str(f), taxonomy_file) for f in files], chunksize=4), strict=True):
                records.append(record)
                if progress:
                    progress(str(path))
    else:
        for f in files:
            records.append(extract_file(f, taxonomy_file))
            if progress:
                progress(str(f))
    check_unique_ids(records)
    return records


@dataclass
class BuildResult:
    home: Path
    graph: nx.MultiDiGraph
    records: list[ReviewRecord]


def _check_writable(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{home}: cannot create the workspace folder ({exc.strerror}).") from None
    if not os.access(home, os.W_OK):
        raise OutputError(f"{home}: the workspace folder is not writable.")


def build(
    paths: Sequence[str | os.PathLike[str]],
    home: str | os.PathLike[str] | None = None,
    taxonomy_file: str | None = None,
    jobs: int | None = None,
    embedded: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Documents → graph, stored in the workspace (graph.json, records.json, embedded store).

    Nothing in the workspace changes unless every document was read and extracted.
    """
    home = home_dir(home)
    records = extract_files(paths, taxonomy_file, jobs, progress)
    graph = build_graph(records, load_taxonomy(taxonomy_file))
    _check_writable(home)
    records_json = json.dumps(
        {"reviews": [r.model_dump(mode="json") for r in sorted(records, key=lambda r: r.id)]},
        ensure_ascii=False,
        indent=1,
    )
    if embedded:
        # The store first: it is the slowest and most likely to fail, and it replaces the
        # old store only once complete; graph.json is written last, as the marker of a
        # finished build.
        from .embedded import write_store

        write_store(graph, home / EMBEDDED_DIR)
    atomic_write_text(home / RECORDS_FILE, records_json)
    save_graph(graph, home / GRAPH_FILE)
    return BuildResult(home, graph, records)


def stored_graph(home: str | os.PathLike[str] | None = None) -> nx.MultiDiGraph:
    """The graph the last ``build`` stored in the workspace."""
    return load_graph(home_dir(home) / GRAPH_FILE)


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
