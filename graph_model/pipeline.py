"""The main job as library functions: read → extract → build → store.

``build`` is what the ``sgraph build`` command calls. The workspace ("home") is a folder
holding the stored graph (``graph.json``), the extraction records (``records.json``) and
the embedded store; later commands read it instead of rebuilding.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import networkx as nx

from .build import (
    GRAPH_FILE,
    SortedGraphBuilder,
    check_unique_ids,
    graph_from_sorted,
    graph_json_chunks,
    load_graph,
    stage_text,
    staging_path,
)
from .errors import OutputError, SgraphError
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


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Extracted(NamedTuple):
    """One extracted review as its JSON (compact to hold and cheap to pass between processes)."""

    id: str
    source: str
    json: str


def _extract_worker(args: tuple[str, str | None]) -> Extracted:
    record = extract_file(*args)
    return Extracted(record.id, record.source, record.model_dump_json())


def extract_files(
    paths: Sequence[str | os.PathLike[str]],
    taxonomy_file: str | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[ReviewRecord]:
    """Extract every document under ``paths`` (files or folders), using ``jobs`` processes."""
    return [
        ReviewRecord.model_validate_json(x.json) for x in extract_json(paths, taxonomy_file, jobs, progress)
    ]


def extract_json(
    paths: Sequence[str | os.PathLike[str]],
    taxonomy_file: str | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Extracted]:
    """Like :func:`extract_files`, each review kept as its JSON."""
    records = list(_iter_extracted(paths, taxonomy_file, jobs, progress))
    check_unique_ids(records)
    return records


def _iter_extracted(
    paths: Sequence[str | os.PathLike[str]],
    taxonomy_file: str | None,
    jobs: int | None,
    progress: Callable[[str], None] | None,
) -> Iterator[Extracted]:
    """Each document's review as its JSON, in document order, as soon as it is extracted."""
    files = iter_document_paths(paths)
    load_taxonomy(taxonomy_file)  # fail early on a bad taxonomy
    jobs = jobs or min(os.cpu_count() or 1, 8)
    if jobs > 1 and len(files) >= 8:
        # Workers ignore Ctrl-C: the terminal sends SIGINT to the whole process group, and a
        # worker dying of it would break the pool; the main process stops them instead.
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint)
        try:
            results = pool.map(_extract_worker, [(str(f), taxonomy_file) for f in files], chunksize=4)
            for path, record in zip(files, results, strict=True):
                yield record
                if progress:
                    progress(str(path))
        except BrokenProcessPool:
            raise SgraphError(
                "a worker process stopped unexpectedly (out of memory?); try again with --jobs 1."
            ) from None
        finally:
            # On Ctrl-C or an error, drop the documents not yet started instead of waiting.
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for f in files:
            yield _extract_worker((str(f), taxonomy_file))
            if progress:
                progress(str(f))


class _Spool:
    """Reviews' JSON kept in an anonymous temporary file, read back one at a time by id:
    the main process holds only offsets, not a national corpus's records."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.index: list[tuple[str, str, int, int]] = []  # id, source, offset, length

    def add(self, x: Extracted) -> None:
        data = x.json.encode("utf-8")
        self.index.append((x.id, x.source, self._file.seek(0, os.SEEK_END), len(data)))
        self._file.write(data)

    def json(self, entry: tuple[str, str, int, int]) -> str:
        self._file.seek(entry[2])
        return self._file.read(entry[3]).decode("utf-8")

    def close(self) -> None:
        self._file.close()


@dataclass
class BuildResult:
    home: Path
    graph: nx.MultiDiGraph
    review_count: int

    @property
    def records(self) -> list[ReviewRecord]:
        """The extraction records, read back from the workspace's records.json."""
        return stored_records(self.home)


def file_in_the_way(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` (or ``path`` itself) when it is not a folder."""
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            return None if p.is_dir() else p
    return None


def _check_writable(home: Path) -> None:
    blocker = file_in_the_way(home)
    if blocker is not None:
        raise OutputError(f"{home}: cannot create the workspace folder ({blocker} is a file, not a folder).")
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{home}: cannot create the workspace folder ({exc.strerror}).") from None
    if not os.access(home, os.W_OK):
        raise OutputError(f"{home}: the workspace folder is not writable.")


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C back for a few renames that must all happen (main thread only).

    A Ctrl-C that arrives meanwhile is dropped: once the renames are done the build is
    complete, and saying "nothing was written" would be false.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGINT, lambda _sig, _frame: None)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
    spool = _Spool()
    try:
        return _build(spool, paths, home, taxonomy_file, jobs, embedded, progress)
    finally:
        spool.close()


def _build(
    spool: _Spool,
    paths: Sequence[str | os.PathLike[str]],
    home: Path,
    taxonomy_file: str | None,
    jobs: int | None,
    embedded: bool,
    progress: Callable[[str], None] | None,
) -> BuildResult:
    # While the reviews arrive in increasing id order (documents named by their review's
    # code), each is added to the graph as it arrives, so the graph is built while the
    # workers are still extracting; the graph is the same as built afterwards in id order.
    early: SortedGraphBuilder | None = SortedGraphBuilder(load_taxonomy(taxonomy_file))
    for x in _iter_extracted(paths, taxonomy_file, jobs, progress):
        spool.add(x)
        if early is not None and not early.add(ReviewRecord.model_validate_json(x.json)):
            early = None  # out of order: built below from the sorted reviews instead
    ordered = sorted(spool.index)
    check_unique_ids([Extracted(rid, source, "") for rid, source, _o, _n in ordered])
    if early is not None:
        graph = early.graph
    else:
        # One review at a time is a pydantic object: read back, parsed, added to the graph, dropped.
        graph = graph_from_sorted(
            (ReviewRecord.model_validate_json(spool.json(e)) for e in ordered), load_taxonomy(taxonomy_file)
        )
    _check_writable(home)
    # Written piece by piece, never as one string.
    records_json = itertools.chain(
        ['{"reviews":['],
        (("\n" if i == 0 else ",\n") + spool.json(e) for i, e in enumerate(ordered)),
        ["\n]}\n"],
    )
    graph_json = graph_json_chunks(graph)
    # Everything is first written beside its final place (the store, the slowest and most
    # likely to fail, first); only when all of it is complete are the three renamed into
    # place, with Ctrl-C held back for those few renames. graph.json goes last, as the
    # marker of a finished build. A failure or Ctrl-C before then leaves the workspace as it was.
    staged_store = None
    staged = [staging_path(home / RECORDS_FILE), staging_path(home / GRAPH_FILE)]
    try:
        if embedded:
            from .embedded import stage_store

            staged_store = stage_store(graph, home / EMBEDDED_DIR)
        stage_text(home / RECORDS_FILE, records_json)
        stage_text(home / GRAPH_FILE, graph_json)
        with _interrupts_deferred():
            if staged_store is not None:
                from .embedded import commit_store

                commit_store(staged_store)
            os.replace(staged[0], home / RECORDS_FILE)
            os.replace(staged[1], home / GRAPH_FILE)
    except OSError as exc:
        raise OutputError(f"{home}: the workspace cannot be written ({exc.strerror or exc}); nothing was replaced.") from None
    finally:
        if staged_store is not None:
            from .embedded import discard_store

            discard_store(staged_store)
        for tmp in staged:
            if tmp.exists():
                tmp.unlink()
    return BuildResult(home, graph, len(ordered))


def stored_records(home: str | os.PathLike[str] | None = None) -> list[ReviewRecord]:
    """The extraction records the last ``build`` stored in the workspace."""
    path = home_dir(home) / RECORDS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SgraphError(f"{path}: the stored records cannot be read ({exc}); run 'sgraph build' again.") from None
    return [ReviewRecord.model_validate(r) for r in data["reviews"]]


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
