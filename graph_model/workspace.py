"""The workspace ("home"): where it is, what its files are called, and its kept counts.

A light module (standard library only), so that commands which only need to find the
workspace or read its counts (``sgraph stats``, ``sgraph query run``) do not import the
build's machinery (networkx, pydantic, the extraction). :mod:`graph_model.pipeline` writes
the workspace; the layout is described in ``docs/workspace.md``.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path
from typing import IO, Any

from .errors import SgraphError

HOME_ENV = "SGRAPH_HOME"
DEFAULT_HOME = ".sgraph"
GRAPH_FILE = "graph.json.gz"  # the graph, gzip-compressed JSON (docs/workspace.md)
RECORDS_FILE = "records.json.gz"  # the extraction records, likewise
OLD_GRAPH_FILE = "graph.json"  # the same, uncompressed, as builds before the compact workspace wrote them:
OLD_RECORDS_FILE = "records.json"  # still read; a build replaces them by the compressed files
COMPRESS_LEVEL = 3  # gzip level of graph.json.gz and records.json.gz: 11x and 8.5x smaller (1: 10x, 8x; 6: 13x, 11x at 2-3x the time)
GZIP_MAGIC = b"\x1f\x8b"
# What reading a damaged compressed file raises (a truncated one: EOFError; a corrupt one: zlib.error or BadGzipFile).
READ_ERRORS = (OSError, EOFError, zlib.error, ValueError)
EMBEDDED_DIR = "embedded.falkordb"  # the FalkorDB store (an RDB file), see graph_model/embedded.py
COUNTS_FILE = "counts.json"  # the graph's counts, written with it (sgraph stats reads them)
COUNTS_FORMAT = "sgraph-counts"


def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: ``home``, else ``$SGRAPH_HOME``, else ``./.sgraph``."""
    return Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME)


def graph_path(home: str | os.PathLike[str] | None = None) -> Path:
    """The workspace's stored graph: ``graph.json.gz``, else the ``graph.json`` of a
    workspace built before the compact format, else (nothing built yet) ``graph.json.gz``."""
    return _either(home_dir(home), GRAPH_FILE, OLD_GRAPH_FILE)


def records_path(home: str | os.PathLike[str] | None = None) -> Path:
    """The workspace's extraction records: ``records.json.gz``, else an older workspace's ``records.json``."""
    return _either(home_dir(home), RECORDS_FILE, OLD_RECORDS_FILE)


def _either(folder: Path, name: str, old: str) -> Path:
    path = folder / name
    if not path.is_file() and (folder / old).is_file():
        return folder / old
    return path


def read_json_bytes(path: Path) -> bytes:
    """The JSON text of a workspace file, decompressed if it is gzip (told by its first
    bytes, whatever its name). Raises one of :data:`READ_ERRORS`."""
    data = Path(path).read_bytes()
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)
    return data


def open_json_text(path: Path) -> IO[str]:
    """A workspace file's JSON text as a text stream, decompressed as it is read if it is gzip."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def counts_document(stats: dict[str, dict[str, int]], reviews: int, graph_bytes: int) -> dict[str, Any]:
    """What ``counts.json`` holds: the graph's counts (:func:`graph_model.stored.graph_stats`),
    its number of reviews, and the size of the graph.json they were counted from (a reader
    checks it, so counts never describe another graph than the one stored beside them)."""
    return {"format": COUNTS_FORMAT, "version": 1, "graph_bytes": graph_bytes, "reviews": reviews, **stats}


def kept_counts(home: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The counts the last build kept beside its graph, or None when there are none that
    match the stored graph (a workspace written before counts were kept, or a graph.json
    replaced by something else since)."""
    folder = home_dir(home)
    graph = graph_path(folder)
    if not graph.is_file():
        raise SgraphError(f"{graph}: no graph has been built here yet; run 'sgraph build DOCUMENTS' first.")
    try:
        data = json.loads((folder / COUNTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != COUNTS_FORMAT
        or data.get("graph_bytes") != graph.stat().st_size
        or not all(isinstance(data.get(k), dict) for k in ("nodes", "relationships", "links"))
    ):
        return None
    return data
