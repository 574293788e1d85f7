"""The main job as library functions: read → extract → build → store.

``build`` is what the ``sgraph build`` command calls. The workspace ("home") is a folder
holding the stored graph (``graph.json``), the extraction records (``records.json``) and
the embedded store; later commands read it instead of rebuilding.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import tempfile
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx

from .build import (
    GRAPH_FILE,
    EncodedAhead,
    Fragment,
    SortedGraphBuilder,
    check_unique_ids,
    graph_from_sorted,
    graph_json_chunks,
    review_fragment,
    stage_text,
    staging_path,
)
from .collector import cyclic_gc_paused
from .curation import Annotation, CurationSummary, apply_annotation, load_annotations
from .errors import OutputError, SgraphError
from .extract import extract
from .extract.metadata import distinct_records
from .extract_cache import ExtractCache
from .models import ReviewRecord
from .read import iter_document_paths, read_document
from .stored import graph_stats, stored_graph, stored_records  # noqa: F401  (read back; importable from here)
from .taxonomy import Taxonomy, load_taxonomy
from .workspace import (  # the workspace's layout, in a light module; importable from here too
    COMPRESS_LEVEL,
    COUNTS_FILE,
    DEFAULT_HOME,  # noqa: F401
    EMBEDDED_DIR,
    HOME_ENV,  # noqa: F401
    OLD_GRAPH_FILE,
    OLD_RECORDS_FILE,
    RECORDS_FILE,
    counts_document,
    home_dir,
)
from .writelock import workspace_write


def extract_file(path: str | os.PathLike[str], taxonomy_file: str | None = None) -> ReviewRecord:
    """Read and extract one document."""
    return extract(read_document(path), load_taxonomy(taxonomy_file))


def _ignore_sigint() -> None:
    """A worker's initializer: ignore Ctrl-C, then let signals in again (they were blocked
    while the worker was forked, see :func:`_sigint_blocked`). The cyclic garbage collector
    runs in the worker even though the build pauses it in the main process, which the
    worker was forked from (:func:`~graph_model.collector.cyclic_gc_paused`)."""
    from .reaper import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like Ctrl-C: the main process stops them
    die_with_parent()  # a build killed outright (kill -9) takes its workers with it
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)
    gc.enable()


#: The signals that stop a command as Ctrl-C does (SIGTERM too: reaper.sigterm_as_interrupt).
INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the process pool forks its workers.

    A Ctrl-C that lands during a fork runs Python's handler inside a fork hook, where its
    KeyboardInterrupt is dropped ("Exception ignored in _releaseLock"): in the main process
    the build would carry on, and a worker could die before it ignores SIGINT. Blocked, the
    signal waits: the workers ignore it once started, and the main process gets it here.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)


class Extracted(NamedTuple):
    """One extracted review as its JSON, UTF-8 encoded (compact to hold and cheap to pass
    between processes, and written to records.json as it is),
    its learning points' similarity tokens (``recurring.known_tokens``, text -> tokens) and
    its part of the graph (``build.review_fragment``), ready to add."""

    id: str
    source: str
    json: bytes
    tokens: dict[str, str] | None = None
    fragment: Fragment | None = None


_settled = False  # in a worker: its long-lived objects are out of the cyclic collector's sight


def _extract_worker(args: tuple) -> Extracted:
    # The tokens of the learning points are found here, in parallel, rather than by the
    # main process once every review is in (where they were a fifth of linking them); so
    # is the review's part of the graph, which the main process only has to add (reading
    # the review back from its JSON and building it there took most of its time while
    # the workers extracted). A review the cache holds (args: path, taxonomy file, then
    # where its JSON is) is rebuilt from its JSON instead of being read and extracted.
    global _settled
    extracted = _extract_task(args, with_tokens=True)
    if not _settled:
        # After its first document, everything a worker keeps (the modules, the taxonomy
        # and its compiled patterns, pydantic's validators, what it inherited from the
        # main process) is frozen: the collector's full passes walked all of it again
        # every few documents, an eighth of a worker's time. Garbage is still collected.
        gc.freeze()
        _settled = True
    return extracted


def _extract_chunk(tasks: list[tuple]) -> list[Extracted]:
    return [_extract_worker(t) for t in tasks]


def _extract_task(args: tuple, with_tokens: bool) -> Extracted:
    """One task of :func:`_iter_extracted`: (document, taxonomy file) is extracted; with
    the hits file, offset and length of its JSON after them, rebuilt from the cache."""
    return _from_cache(args, with_tokens) if len(args) == 5 else _extract_here(args, with_tokens)


def _extract_here(args: tuple[str, str | None], with_tokens: bool = False) -> Extracted:
    """One document extracted in this process, with its part of the graph. The similarity
    tokens only pay when workers find them in parallel (linking finds them otherwise)."""
    record = extract_file(*args)
    return _extracted(record, _json_bytes(record), args[1], with_tokens)


def _extracted(record: ReviewRecord, data: bytes, taxonomy_file: str | None, with_tokens: bool) -> Extracted:
    tax = load_taxonomy(taxonomy_file)
    tokens = None
    if with_tokens:
        from .recurring import known_tokens

        tokens = known_tokens((lp.text for lp in record.learning_points), tax)
    return Extracted(record.id, record.source, data, tokens, review_fragment(record, tax))


def _from_cache(args: tuple[str, str | None, str, int, int], with_tokens: bool) -> Extracted:
    """A review the extraction cache holds (args: document, taxonomy file, and the file,
    offset and length of its JSON), rebuilt from its JSON as extracting it would have
    given it; the document is extracted after all if the JSON cannot be read back."""
    path, taxonomy_file, hits, offset, length = args
    try:
        with open(hits, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        record = ReviewRecord.model_validate_json(data)
    except (OSError, ValueError):
        return _extract_here((path, taxonomy_file), with_tokens)
    return _extracted(record, data, taxonomy_file, with_tokens)


def _json_bytes(record: ReviewRecord) -> bytes:
    """``record.model_dump_json()`` encoded in UTF-8, as pydantic makes it (without the
    decoding to a string and encoding back)."""
    return record.__pydantic_serializer__.to_json(record)


def extract_files(
    paths: Sequence[str | os.PathLike[str]],
    taxonomy_file: str | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[ReviewRecord]:
    """Extract every document under ``paths`` (files or folders), using ``jobs`` processes.
    Reviews sharing an id are told apart (``extract.metadata.told_apart``); ``warn`` gets a
    line for each id still shared after board and year."""
    return [
        ReviewRecord.model_validate_json(x.json) for x in extract_json(paths, taxonomy_file, jobs, progress, warn)
    ]


def extract_json(
    paths: Sequence[str | os.PathLike[str]],
    taxonomy_file: str | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[Extracted]:
    """Like :func:`extract_files`, each review kept as its JSON."""
    records = list(_iter_extracted(iter_document_paths(paths), taxonomy_file, jobs, progress))
    if len({x.id for x in records}) < len(records):
        parsed, warnings = distinct_records([ReviewRecord.model_validate_json(x.json) for x in records])
        records = [
            x if x.id == r.id else Extracted(r.id, r.source, _json_bytes(r))
            for x, r in zip(records, parsed, strict=True)
        ]
        for line in warnings:
            if warn:
                warn(line)
    check_unique_ids(records)
    return records


def _iter_extracted(
    files: list[Path],
    taxonomy_file: str | None,
    jobs: int | None,
    progress: Callable[[str], None] | None,
    keep: list[ProcessPoolExecutor] | None = None,
    cache: ExtractCache | None = None,
) -> Iterator[Extracted]:
    """Each document's review as its JSON, in the order of ``files`` (from
    :func:`~graph_model.read.iter_document_paths`), as soon as it is extracted.

    ``keep``: once every document is extracted, the worker processes (if any) are put
    there for the caller to use (linking) and shut down, instead of being shut down here.
    ``cache``: documents it holds are read from it instead of being extracted; the others
    are extracted and added to it (:mod:`graph_model.extract_cache`)."""
    load_taxonomy(taxonomy_file)  # fail early on a bad taxonomy
    # Never more workers than documents or cores (each worker is a process of ~150 MB).
    jobs = max(1, min(jobs or 8, len(files), os.cpu_count() or 1))
    keys = [cache.key_of(str(f)) for f in files] if cache is not None else [None] * len(files)
    if cache is not None:
        cache.preload(keys)
    if cache is not None:
        cache.hits = sum(1 for k in keys if cache.has(k))
        cache.misses = len(files) - cache.hits

    def task(i: int) -> tuple:
        k = keys[i]
        if cache is not None and cache.has(k):
            return (str(files[i]), taxonomy_file, *cache.where(k))  # type: ignore[arg-type]
        return (str(files[i]), taxonomy_file)

    def noted(i: int, x: Extracted) -> Extracted:
        if cache is not None:
            cache.note(keys[i], x.json)
        return x

    if jobs > 1 and len(files) >= 8:
        # Workers extract the documents the cache does not hold and rebuild those it holds
        # from their JSON. They stay for linking (``keep``), which borrows them for its
        # sparse products. What the workers need for the similarity tokens (scikit-learn's
        # stop words, the stemmer) is loaded here first: forked workers share it instead of
        # each taking a second and 90 MB to import it. The main process needs it later anyway.
        from .recurring import similarity_tokens

        similarity_tokens("safeguarding", load_taxonomy(taxonomy_file))
        # Workers ignore Ctrl-C: the terminal sends SIGINT to the whole process group, and a
        # worker dying of it would break the pool; the main process stops them instead.
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_sigint)
        # Four documents a task, and at most four tasks a worker handed out ahead: the
        # results wait in this process until their turn, and workers faster than the
        # graph is built would otherwise pile up the whole corpus's parts here.
        chunks = [range(i, min(i + 4, len(files))) for i in range(0, len(files), 4)]
        ahead: deque[Future[list[Extracted]]] = deque()

        def submit(c: int) -> None:
            ahead.append(pool.submit(_extract_chunk, [task(i) for i in chunks[c]]))

        done = False
        try:
            window = min(4 * jobs, len(chunks))
            with _sigint_blocked():  # the first tasks start every worker (a fork each)
                for c in range(window):
                    submit(c)
            for c, chunk in enumerate(chunks):
                results = ahead.popleft().result()
                if c + window < len(chunks):
                    submit(c + window)
                for i, x in zip(chunk, results, strict=True):
                    yield noted(i, x)
                    if progress:
                        progress(str(files[i]))
            done = True
        except BrokenProcessPool:
            raise SgraphError(
                "a worker process stopped unexpectedly (out of memory?); try again with --jobs 1."
            ) from None
        finally:
            if done and keep is not None:
                keep.append(pool)
            else:
                # On Ctrl-C or an error, drop the documents not yet started instead of waiting.
                pool.shutdown(wait=True, cancel_futures=True)
    else:
        for i, f in enumerate(files):
            yield noted(i, _extract_task(task(i), with_tokens=cache is not None))
            if progress:
                progress(str(f))


class _Spool:
    """Reviews' JSON kept in an anonymous temporary file, read back one at a time by id:
    the main process holds only offsets, not a national corpus's records.

    Each review's JSON is stored after the separator records.json puts before every review
    but the first (``SEPARATOR``), so that reviews stored in the order records.json lists
    them are copied to it as one run of bytes (:meth:`records_json`)."""

    SEPARATOR = b",\n"

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._end = 0
        self.index: list[tuple[str, str, int, int]] = []  # id, source, offset, length
        self.ahead: EncodedAhead | None = None  # graph.json lines encoded ahead, closed with the spool

    def add(self, x: Extracted) -> None:
        data = x.json
        self._file.seek(self._end)
        self._file.write(self.SEPARATOR)
        self._file.write(data)
        self.index.append((x.id, x.source, self._end + len(self.SEPARATOR), len(data)))
        self._end += len(self.SEPARATOR) + len(data)

    def data(self, entry: tuple[str, str, int, int]) -> bytes:
        self._file.seek(entry[2])
        return self._file.read(entry[3])

    def json(self, entry: tuple[str, str, int, int]) -> str:
        return self.data(entry).decode("utf-8")

    def records_json(self, ordered: Sequence[tuple[str, str, int, int]], piece: int = 1 << 20) -> Iterator[bytes]:
        """records.json of the reviews ``ordered``, in pieces: the reviews that follow one
        another in the spool as they do in ``ordered`` are read as one run (with their
        separators), at most ``piece`` bytes at a time."""
        yield b'{"reviews":['
        i = 0
        while i < len(ordered):
            # A run: entries stored one after the other (each after its separator).
            start = ordered[i][2] - len(self.SEPARATOR)
            end = ordered[i][2] + ordered[i][3]
            j = i + 1
            while j < len(ordered) and ordered[j][2] == end + len(self.SEPARATOR):
                end = ordered[j][2] + ordered[j][3]
                j += 1
            if i == 0:  # the first review has a line break before it, not the separator
                yield b"\n"
                start += len(self.SEPARATOR)
            pos = start
            while pos < end:
                self._file.seek(pos)
                data = self._file.read(min(piece, end - pos))
                pos += len(data)
                yield data
            i = j
        yield b"\n]}\n"

    def close(self) -> None:
        self._file.close()
        if self.ahead is not None:
            self.ahead.close()


@dataclass
class BuildResult:
    home: Path
    graph: nx.MultiDiGraph
    review_count: int
    curation: CurationSummary | None = None  # what the annotation files did, when given
    warnings: list[str] = field(default_factory=list)  # reviews whose shared id only their file tells apart
    counts: dict | None = None  # the graph's counts, as kept in the workspace (counts.json)
    extraction: str = ""  # what was extracted and what came from the cache, and why (one sentence)

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


_interrupted = threading.Event()


@contextmanager
def _sigint_handled(handler: Callable[[int, object], None]) -> Iterator[None]:
    """Ctrl-C goes to ``handler`` inside the block (main thread only; elsewhere, unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _interrupts_noted() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt as usual and is also noted, so that it is not lost.

    Python drops an exception raised while it runs a fork hook ("Exception ignored in
    _releaseLock"): a Ctrl-C that lands just as the process pool starts a worker would be
    swallowed and the build would carry on. :func:`_stop_if_interrupted` raises it again
    at the next check. Python would also print that dropped exception's traceback to the
    user; inside the block a dropped KeyboardInterrupt is not printed (it is raised again).
    """

    def note(_sig: int, _frame: object) -> None:
        _interrupted.set()
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    _interrupted.clear()
    sys.unraisablehook = quiet
    try:
        with _sigint_handled(note):
            yield
    finally:
        sys.unraisablehook = previous_hook
        _interrupted.clear()


def _stop_if_interrupted() -> None:
    if _interrupted.is_set():
        raise KeyboardInterrupt


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C back for a few renames that must all happen (main thread only).

    A Ctrl-C that arrives meanwhile is dropped: once the renames are done the build is
    complete, and saying "nothing was written" would be false.
    """
    with _sigint_handled(lambda _sig, _frame: None):
        yield


def build(
    paths: Sequence[str | os.PathLike[str]],
    home: str | os.PathLike[str] | None = None,
    taxonomy_file: str | None = None,
    jobs: int | None = None,
    embedded: bool = True,
    progress: Callable[[str], None] | None = None,
    annotations: str | os.PathLike[str] | None = None,
    waiting: Callable[[str], None] | None = None,
    full: bool = False,
    cache: bool = True,
) -> BuildResult:
    """Documents → graph, stored in the workspace (graph.json, records.json, embedded store).

    With ``annotations`` (a folder of annotation files, docs/curation.md), each review with
    a file gets the file's facts (:func:`graph_model.curation.apply_annotation`).
    Nothing in the workspace changes unless every document was read and extracted and
    every annotation file is valid.

    A document whose content, extractor version and taxonomy are the same as at an
    earlier build into this workspace is not extracted again: its extraction is read from
    the workspace's cache (:mod:`graph_model.extract_cache`). ``full``: extract every
    document (and renew the cache); ``cache=False``: neither read nor write the cache.
    """
    home = home_dir(home)
    spool = _Spool()
    workers: list[ProcessPoolExecutor] = []  # the extraction workers, lent to linking
    store = ExtractCache.open(home, taxonomy_file, read=not full) if cache else None
    try:
        with _interrupts_noted(), cyclic_gc_paused(), ExitStack() as locks:

            def hold(folder: Path) -> None:
                locks.enter_context(workspace_write(folder, waiting=waiting))

            result = _build(
                spool, paths, home, taxonomy_file, jobs, embedded, progress, annotations, workers, hold, store
            )
            if store is not None:
                store.finish()  # the workspace is replaced: the cache follows it (under the lock)
        return result
    finally:
        spool.close()  # and its graph.json lines encoded ahead, if any
        _shut_down(workers)
        if store is not None:
            store.discard()


def _shut_down(pools: list[ProcessPoolExecutor]) -> None:
    while pools:
        pools.pop().shutdown(wait=True, cancel_futures=True)


def _build(
    spool: _Spool,
    paths: Sequence[str | os.PathLike[str]],
    home: Path,
    taxonomy_file: str | None,
    jobs: int | None,
    embedded: bool,
    progress: Callable[[str], None] | None,
    annotations: str | os.PathLike[str] | None = None,
    workers: list[ProcessPoolExecutor] | None = None,
    hold: Callable[[Path], None] | None = None,
    cache: ExtractCache | None = None,
) -> BuildResult:
    # Annotation files are validated before any document is read: a bad one fails fast.
    found = load_annotations(annotations, load_taxonomy(taxonomy_file)) if annotations is not None else None
    files = iter_document_paths(paths)
    path_of: dict[tuple[str, str, int, int], Path] = {}  # spool entry -> its document
    # While the reviews arrive in increasing id order (documents named by their review's
    # code), each is added to the graph as it arrives, so the graph is built while the
    # workers are still extracting; the graph is the same as built afterwards in id order.
    # Not with annotation files: they change the reviews before any goes into the graph.
    early: SortedGraphBuilder | None = SortedGraphBuilder(load_taxonomy(taxonomy_file)) if found is None else None
    tokens: dict[str, str] = {}  # learning point text -> its similarity tokens, from the workers
    why = cache.status(len(files)) if cache is not None else ""
    extracted: list[tuple[str, str, int, int]] = []  # the spool's entries as extracted, one per document
    for path, x in zip(files, _iter_extracted(files, taxonomy_file, jobs, progress, workers, cache), strict=True):
        _stop_if_interrupted()
        spool.add(x)
        tokens.update(x.tokens or {})
        path_of[spool.index[-1]] = path
        extracted.append(spool.index[-1])
        if early is not None:
            added = (
                early.add(ReviewRecord.model_validate_json(x.json))
                if x.fragment is None
                else early.add_fragment(x.id, x.fragment)
            )
            if not added:
                early = None  # out of order: built below from the sorted reviews instead
    _stop_if_interrupted()
    ordered, id_warnings = _distinct_ids(spool, sorted(spool.index), path_of)
    if id_warnings is not None:
        early = None  # it holds reviews under the ids they shared: built below instead
    check_unique_ids([Extracted(rid, source, b"") for rid, source, _o, _n in ordered])
    curation = None
    if found is not None:
        curation = CurationSummary(Path(annotations))  # type: ignore[arg-type]
        ordered = _apply_annotations(spool, ordered, found, path_of, load_taxonomy(taxonomy_file), curation)
    if cache is not None:
        # A review changed after its extraction (annotated, or its shared id told apart) is
        # not in records.json as extracted: the cache keeps its extracted JSON itself.
        final = set(ordered)
        for entry in extracted:
            if entry not in final:
                cache.keep(spool.data(entry))
    ahead = None
    if early is not None:
        # Linking's sparse products run in the extraction's worker processes, idle by now
        # (forked while this process was small: nothing of the graph is shared with them).
        # Meanwhile a thread encodes the lines of graph.json that linking and the totals
        # leave as they are; it starts once the products are handed out, so as not to slow
        # the vectors they need (both want the interpreter lock).
        ahead = spool.ahead = EncodedAhead(early.graph)
        graph = early.finish(tokens, meanwhile=ahead.start, pool=workers[0] if workers else None)
    else:
        # One review at a time is a pydantic object: read back, parsed, added to the graph, dropped.
        graph = graph_from_sorted(
            (ReviewRecord.model_validate_json(spool.json(e)) for e in ordered), load_taxonomy(taxonomy_file), tokens
        )
    tokens.clear()
    if workers:
        _shut_down(workers)
    _check_writable(home)
    if hold is not None:
        hold(home)  # one build writes a workspace at a time, until build() returns (writelock.py)
    # Written piece by piece, never as one string.
    records_json = spool.records_json(ordered)
    graph_json = graph_json_chunks(graph, ahead=ahead)
    # Everything is first written beside its final place (the store, the slowest and most
    # likely to fail, first); only when all of it is complete are the three renamed into
    # place, with Ctrl-C held back for those few renames. graph.json goes last, as the
    # marker of a finished build. A failure or Ctrl-C before then leaves the workspace as it was.
    staged_store = None
    staged = [staging_path(home / RECORDS_FILE), staging_path(home / COUNTS_FILE), staging_path(home / GRAPH_FILE)]
    records_writer = None
    try:
        # records.json.gz is read from the spool and compressed in a thread while the store
        # is written (reading a file and zlib let go of the interpreter lock).
        records_writer = _Beside(lambda pieces: stage_text(home / RECORDS_FILE, pieces, COMPRESS_LEVEL), records_json)
        if embedded:
            from .embedded import stage_store

            staged_store = stage_store(graph, home / EMBEDDED_DIR)
        records_writer.result()
        graph_bytes = stage_text(home / GRAPH_FILE, graph_json, COMPRESS_LEVEL).stat().st_size
        # The counts 'sgraph stats' reads instead of the whole graph, tied to this graph.json.gz by its size.
        counts = counts_document(graph_stats(graph), len(ordered), graph_bytes)
        stage_text(home / COUNTS_FILE, json.dumps(counts, indent=1) + "\n")
        _stop_if_interrupted()
        with _interrupts_deferred():
            if staged_store is not None:
                from .embedded import commit_store

                commit_store(staged_store)
            os.replace(staged[0], home / RECORDS_FILE)
            os.replace(staged[1], home / COUNTS_FILE)
            os.replace(staged[2], home / GRAPH_FILE)
            # A workspace written before the compact format: its uncompressed files go
            # (after the new ones are in place; readers prefer the new ones meanwhile).
            for name in (OLD_GRAPH_FILE, OLD_RECORDS_FILE):
                (home / name).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"{home}: the workspace cannot be written ({exc.strerror or exc}); nothing was replaced.") from None
    finally:
        if records_writer is not None:
            records_writer.stop()
        if staged_store is not None:
            from .embedded import discard_store

            discard_store(staged_store)
        for tmp in staged:
            if tmp.exists():
                tmp.unlink()
    if cache is not None and not why and (cache.hits or cache.folder.is_dir()):
        why = (
            f"{cache.hits} of {len(files)} document(s) unchanged since the last build (not extracted again), "
            f"{cache.misses} extracted."
        )
    return BuildResult(home, graph, len(ordered), curation, id_warnings or [], counts, why)


class _Beside:
    """``write(pieces)`` run in a thread, beside the caller's own work; :meth:`result`
    waits for it (raising what it raised), :meth:`stop` makes it stop at its next piece
    and waits (after a failure or Ctrl-C in the caller)."""

    class Stopped(Exception):
        pass

    def __init__(self, write: Callable[[Iterator[bytes]], object], pieces: Iterable[bytes]):
        self._stopping = threading.Event()
        self._failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(write, pieces), name="records", daemon=True)
        self._thread.start()

    def _run(self, write: Callable[[Iterator[bytes]], object], pieces: Iterable[bytes]) -> None:
        def watched() -> Iterator[bytes]:
            for piece in pieces:
                if self._stopping.is_set():
                    raise self.Stopped
                yield piece

        try:
            write(watched())
        except BaseException as exc:  # handed to the caller by result()
            self._failed.append(exc)

    def result(self) -> None:
        self._thread.join()
        if self._failed and not isinstance(self._failed[0], self.Stopped):
            raise self._failed[0]

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


def _distinct_ids(
    spool: _Spool, ordered: list[tuple[str, str, int, int]], path_of: dict[tuple[str, str, int, int], Path]
) -> tuple[list[tuple[str, str, int, int]], list[str] | None]:
    """The spool entries (in id order) with the ids they share told apart, each renamed review
    stored again under its new id (``path_of`` follows); and the warnings, None when no id
    was shared. Only the reviews sharing an id are read back."""
    shared = {rid for rid, n in Counter(e[0] for e in ordered).items() if n > 1}
    if not shared:
        return ordered, None
    records = {e: ReviewRecord.model_validate_json(spool.json(e)) for e in ordered if e[0] in shared}
    renamed, warnings = distinct_records(list(records.values()))
    result = [e for e in ordered if e[0] not in shared]
    for entry, record in zip(records, renamed, strict=True):
        if record.id != entry[0]:
            spool.add(Extracted(record.id, record.source, _json_bytes(record)))
            path_of[spool.index[-1]] = path_of.pop(entry)
            entry = spool.index[-1]
        result.append(entry)
    return sorted(result), warnings


def _apply_annotations(
    spool: _Spool,
    ordered: list[tuple[str, str, int, int]],
    found: dict[str, Annotation],
    path_of: dict[tuple[str, str, int, int], Path],
    tax: Taxonomy,
    summary: CurationSummary,
) -> list[tuple[str, str, int, int]]:
    """The spool entries with each annotated review replaced by its curated record."""
    built = {e[0] for e in ordered}
    for rid, ann in sorted(found.items()):
        if rid not in built:
            summary.notes.append(f"{ann.path}: review '{rid}' is not among the documents built; the file was not applied.")
    result = []
    for entry in ordered:
        ann = found.get(entry[0])
        if ann is None:
            result.append(entry)
            continue
        record = ReviewRecord.model_validate_json(spool.json(entry))
        applied = apply_annotation(record, ann, read_document(path_of[entry]), tax)
        summary.add(applied)
        spool.add(Extracted(entry[0], entry[1], _json_bytes(applied.record)))
        result.append(spool.index[-1])
    return result
