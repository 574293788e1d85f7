"""The embedded store: the graph in a FalkorDBLite database file (no server install, no Java).

``sgraph build`` writes it (:func:`write_store`, or :func:`stage_store` then
:func:`commit_store`) next to ``graph.json``; ``sgraph query`` reads it through
:class:`EmbeddedBackend`, which has the same ``run``/``close`` interface and returns the same
:class:`~graph_model.results.Rows` as :class:`graph_model.neo4j_store.Neo4jBackend`.

FalkorDBLite runs FalkorDB (a Redis module) as a child ``redis-server`` process that
listens on a private Unix socket only (mode 0700, no TCP port) and keeps the graph in one
RDB file. Why this engine and not LadybugDB is in ``docs/embedded-engine.md``.

* Writing: the store is built in a temporary folder next to its final place — node
  nodes then relationships sent by FalkorDB's bulk insert (``GRAPH.BULK``, values as
  typed binary data, never Cypher text), then the indexes (generated from
  :mod:`graph_model.schema`) — saved, and renamed over the old store only once complete.
  If anything fails the old store is left as it was.
* Reading: every :class:`EmbeddedBackend` starts its own server on a private folder whose
  RDB file is a symbolic link to the store, with saving switched off, and stops it without
  saving. A reader therefore never writes the store, never shares a server with another
  process, and a rebuild (which renames a new file into place) never changes what an open
  reader sees. Queries go through ``GRAPH.RO_QUERY``: a query that writes is refused.
* A warm server (:mod:`graph_model.warm`, ``sgraph query serve``) keeps one such reader
  loaded between commands; it runs queries through :func:`run_read_only` as this module does.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .collector import cyclic_gc_paused
from .envcheck import query_timeout
from .errors import DatabaseError, OutputError
from .results import PLAIN_TYPES, Rows
from .schema import NODE_TYPES, QUERY_INDEXES, REL_TYPES, cypher_name, relationship_kind

if TYPE_CHECKING:  # only annotations: 'sgraph query' reads the store without importing networkx
    import networkx as nx

GRAPH_NAME = "sgraph"
STORE_FILE_IN_TMP = "store.rdb"
# No periodic saves; the server listens on its Unix socket only.
SERVER_CONFIG = {"save": '""', "appendonly": "no"}


q = cypher_name


def index_statements() -> list[str]:
    """FalkorDB's CREATE INDEX statements, generated from the schema, made once the nodes
    are in: the key of every label whose nodes no review owns, and of reviews (agencies,
    themes, learning kinds, reviews), and the node properties the query library filters on
    (``QUERY_INDEXES``).

    A review's own nodes (learning points, missed opportunities, events, family members,
    cases) get no index on their key or ``review_id``: the queries reach them through the
    review, an agency or a theme, never by key alone, the bulk writer needs none (it sends
    relationships' ends as internal ids), and FalkorDB builds every index again each time
    it loads a store: at 2,000 reviews those indexes were 2.3 s of a 4.4 s load
    (BENCHMARKS.md, "Issue 20, third pass").

    No relationship gets an index here: FalkorDB 4 answers an undirected pattern that it
    reads through a relationship index with one direction only — silently half the rows
    (``docs/embedded-engine.md``; ``tests/test_queries_embedded.py`` keeps it checked).
    Neo4j's constraints and indexes are in ``cypher/schema.cypher``; the dialects differ.
    """
    stmts = [
        f"CREATE INDEX FOR (n:{q(nt.label)}) ON (n.{q(nt.key)})"
        for nt in NODE_TYPES.values()
        if not nt.owned_by_review or nt.label == "Review"
    ]
    for kind, name, prop in QUERY_INDEXES:
        if kind == "NODE":
            stmts.append(f"CREATE INDEX FOR (n:{q(name)}) ON (n.{q(prop)})")
    return stmts


@dataclass
class StoreSummary:
    path: Path
    nodes: int
    relationships: int
    seconds: float

    @property
    def elements_per_second(self) -> float:
        return (self.nodes + self.relationships) / self.seconds if self.seconds > 0 else float("inf")


# FalkorDB's bulk insert (the GRAPH.BULK command, as its bulk loader uses it): each command
# carries a count of nodes and of relationships and binary tokens, one per label or
# relationship type. A token is the name and the property names (each ending in a NUL, the
# count as a 4-byte integer between them), then each entity: for a relationship, the
# internal ids of its two ends (8 bytes each: nodes are numbered from 0 in the order they
# were sent), then one typed value per property, the type in one byte: 0 no value (the
# property is not set), 1 boolean, 2 double, 3 UTF-8 text ending in a NUL, 4 64-bit
# integer, 5 array (an 8-byte count, then typed values). Native byte order, unaligned.
_SET_NONE = b"\x00"
_PACK_BOOL = struct.Struct("=B?").pack
_PACK_DOUBLE = struct.Struct("=Bd").pack
_PACK_LONG = struct.Struct("=Bq").pack
_PACK_ARRAY = struct.Struct("=Bq").pack
_PACK_ENDS = struct.Struct("=QQ").pack
_PACK_COUNT = struct.Struct("=I").pack
CHUNK_BYTES = 4_000_000  # about this much per command (Redis takes up to 512 MB an argument)


def _bulk_value(value: Any) -> bytes:
    kind = type(value)
    if kind is str:
        data = value.encode("utf-8")
        if b"\x00" in data:
            raise DatabaseError("a value holds a NUL character, which the embedded store cannot keep.")
        return b"\x03" + data + b"\x00"
    if value is None:
        return _SET_NONE
    if kind is bool:
        return _PACK_BOOL(1, value)
    if kind is int:
        return _PACK_LONG(4, value)
    if kind is float:
        return _PACK_DOUBLE(2, value)
    if kind is list or kind is tuple:
        return _PACK_ARRAY(5, len(value)) + b"".join(_bulk_value(v) for v in value)
    # A numpy scalar (a score, say) as the plain value it stands for.
    item = getattr(value, "item", None)
    if callable(item) and type(plain := item()) in (bool, int, float, str):
        return _bulk_value(plain)
    raise DatabaseError(f"a value of type {kind.__name__} cannot be kept in the embedded store.")


def _bulk_header(name: str, props: list[str]) -> bytes:
    return name.encode("utf-8") + b"\x00" + _PACK_COUNT(len(props)) + b"".join(p.encode("utf-8") + b"\x00" for p in props)


def _send(client: Any, first: bool, nodes: int, rels: int, token: bytes) -> None:
    """One GRAPH.BULK command with one token (of nodes or of relationships)."""
    begin = ["BEGIN"] if first else []
    client.execute_command(
        "GRAPH.BULK", GRAPH_NAME, *begin, nodes, rels, 1 if nodes else 0, 1 if rels else 0, token
    )


class _Token:
    """The entities of one label or relationship type waiting to be sent, with its header."""

    def __init__(self, name: str, props: dict[str, str]):
        self.props = list(props)
        self.header = _bulk_header(name, self.props)
        self.entities: list[bytes] = []
        self.size = 0

    def add(self, prefix: bytes, data: dict) -> int:
        get = data.get
        entity = prefix + b"".join([_bulk_value(get(p)) for p in self.props])
        self.entities.append(entity)
        self.size += len(entity)
        return len(entity)


def _fill(client: Any, graph: nx.MultiDiGraph, chunk_bytes: int = CHUNK_BYTES) -> tuple[int, int]:
    """Every node, then every relationship, of ``graph`` into a new graph on the server, by
    bulk insert, a token of at most about ``chunk_bytes`` at a time. Values are binary data,
    never Cypher text."""
    first = True
    number: dict[str, int] = {}  # graph node id -> the store's internal id (the order sent)

    def flush(token: _Token, is_node: bool) -> int:
        """Send what ``token`` holds; the bytes it held."""
        nonlocal first
        held, n = token.size, len(token.entities)
        if n:
            _send(client, first, n if is_node else 0, 0 if is_node else n, token.header + b"".join(token.entities))
            first = False
            token.entities.clear()
            token.size = 0
        return held

    for _nid, data in graph.nodes(data=True):
        label = data.get("label")
        if label not in NODE_TYPES:
            raise DatabaseError(f"the graph holds a node labelled {label!r}, which the schema does not know.")
    for label, node_type in NODE_TYPES.items():  # a pass over the nodes per label: no list of them is made
        token = _Token(label, node_type.properties)
        for nid, data in graph.nodes(data=True):
            if data["label"] == label:
                number[nid] = len(number)
                token.add(b"", data)
                if token.size >= chunk_bytes:
                    flush(token, True)
        flush(token, True)

    # Relationships in one pass over the graph, each type's entities sent once they make a
    # chunk, or, when all the types' entities held make four chunks, the type holding most:
    # at most about four chunks are held at a time (the build's largest moment is here,
    # beside the whole graph).
    pending: dict[str, _Token] = {}
    graph_nodes = graph.nodes
    n_rels = held = 0
    for u, v, data in graph.edges(data=True):
        try:
            rtype = relationship_kind(graph_nodes, u, v, data)[0]
        except ValueError as exc:
            raise DatabaseError(str(exc)) from None
        token = pending.get(rtype)
        if token is None:
            token = pending[rtype] = _Token(rtype, REL_TYPES[rtype].properties)
        held += token.add(_PACK_ENDS(number[u], number[v]), data)
        n_rels += 1
        if token.size >= chunk_bytes or held >= 4 * chunk_bytes:
            held -= flush(token if token.size >= chunk_bytes else max(pending.values(), key=lambda t: t.size), False)
    for token in pending.values():
        flush(token, False)
    return len(number), n_rels


def write_store(graph: nx.MultiDiGraph, path: str | os.PathLike[str], chunk_bytes: int = CHUNK_BYTES) -> StoreSummary:
    """Write ``graph`` as a FalkorDB store at ``path`` (a single file), atomically.

    The store is built in a temporary folder beside ``path`` and renamed over the old store
    only when it is complete; if anything fails, the old store is left as it was.
    """
    started = time.perf_counter()
    staged = stage_store(graph, path, chunk_bytes)
    try:
        commit_store(staged)
    finally:
        discard_store(staged)
    return StoreSummary(Path(path), staged.nodes, staged.relationships, time.perf_counter() - started)


@dataclass
class StagedStore:
    """A complete store in a temporary folder, waiting to be renamed into place."""

    path: Path
    tmp: Path
    nodes: int
    relationships: int


def _start(folder: Path, socket_timeout: float | None = None) -> Any:
    """A FalkorDB server (a child process) on ``folder/store.rdb``.

    ``folder`` is a private temporary folder with a plain name: redislite writes the server's
    configuration, registry and log beside the RDB file, and its configuration cannot hold
    every path (a quote in a folder name breaks it).
    """
    from redislite.falkordb_client import FalkorDB

    # redislite makes its own folder (configuration, socket, pid file) with tempfile: inside
    # ``folder``, which the caller removes whatever happens (a failed start included).
    saved, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        db = FalkorDB(str(folder / STORE_FILE_IN_TMP), serverconfig=dict(SERVER_CONFIG), socket_timeout=socket_timeout)
    except Exception as exc:  # redislite raises RedisLiteException, OSError or redis errors
        for pidfile in folder.glob("*/redis.pid"):  # a server that started, then failed
            try:
                os.kill(int(pidfile.read_text().strip()), 9)
            except (OSError, ValueError):
                pass
        raise DatabaseError(f"the embedded engine (FalkorDBLite) could not start ({_first_line(exc)}).") from None
    finally:
        tempfile.tempdir = saved
    _guard(db)
    return db


_PLAIN_PATH_RE = re.compile(r"[A-Za-z0-9_./-]+")
_MAX_TMP_ROOT = 50  # + "/sgraph-embedded-XXXXXXXX/tmpXXXXXXXX/redis.socket" < 108


def _tmp_root() -> Path:
    """A temporary folder whose path the server's configuration file can hold.

    redislite writes paths into redis.conf unquoted: a space or a quote in ``$TMPDIR``
    breaks the server's start; and the server's socket, about 50 characters below it,
    must have a path of at most 107 bytes. A ``$TMPDIR`` that is not plain and short is
    passed over for /tmp, /var/tmp or /dev/shm.
    """
    default = tempfile.gettempdir()
    for candidate in (default, "/tmp", "/var/tmp", "/dev/shm"):
        if (
            _PLAIN_PATH_RE.fullmatch(candidate)
            and len(os.fsencode(candidate)) <= _MAX_TMP_ROOT
            and os.path.isdir(candidate)
            and os.access(candidate, os.W_OK | os.X_OK)
        ):
            return Path(candidate)
    raise DatabaseError(
        f"{default}: the embedded engine cannot use this temporary folder (its path is long or holds a space "
        "or a quote, and /tmp is not writable); set TMPDIR to a short plain path."
    )


def _mkdtemp() -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix="sgraph-embedded-", dir=_tmp_root()))
    except OSError as exc:
        raise DatabaseError(f"{_tmp_root()}: cannot create a temporary folder for the embedded engine ({exc.strerror}).") from None


def _server_pid(client: Any) -> int:
    try:
        return int(Path(client.pidfile).read_text().strip()) if client.pidfile else 0
    except (OSError, ValueError):
        return 0


def _guard(db: Any) -> None:
    """The server (a daemon: its parent is init) and its folder go with this process,
    however it ends (graph_model/reaper.py); :func:`_stop` lifts the guard."""
    from . import reaper

    client = db.client
    pid = _server_pid(client)
    if pid:
        reaper.watch(pid=pid, exe="redis-server")
    if client.redis_dir:
        reaper.watch(path=client.redis_dir)


def _stop(db: Any) -> None:
    """Stop the server without saving (the caller saved what it meant to) and remove its
    temporary folder and registry file.

    redislite's own clean-up waits up to 5 s for the process id to disappear; a stopped
    daemon can linger as a zombie until its parent reaps it, so here "stopped" means gone
    or a zombie.
    """
    import psutil

    from . import reaper

    client = getattr(db, "client", None)
    if client is None:
        return
    pid = _server_pid(client)
    try:
        # Sent on a raw connection: the client's shutdown() retries, with back-off, when the
        # server closes the connection as it stops (seconds lost for nothing).
        conn = client.connection_pool.get_connection()
        conn.send_command("SHUTDOWN", "NOSAVE", "NOW", "FORCE")
    except Exception:  # noqa: BLE001 - already gone: the wait below finds that out
        pass
    if pid:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.01)
        else:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
    try:
        client.connection_pool.disconnect()
    except Exception:  # noqa: BLE001 - already closed
        pass
    if pid:
        reaper.unwatch(pid=pid)
    if client.redis_dir:
        shutil.rmtree(client.redis_dir, ignore_errors=True)
        reaper.unwatch(path=client.redis_dir)
    registry = client.settingregistryfile
    if registry and client.cleanupregistry and os.path.exists(registry):
        os.remove(registry)
    # Nothing left for redislite's own clean-up (at exit or garbage collection) to do.
    client.pidfile = client.redis_dir = client.socket_file = None
    client.running = False


def stage_store(graph: nx.MultiDiGraph, path: str | os.PathLike[str], chunk_bytes: int = CHUNK_BYTES) -> StagedStore:
    """Build the store for ``path`` in a temporary folder beside it; nothing at ``path`` changes.

    :func:`commit_store` renames it into place; :func:`discard_store` removes what is left.
    """
    from . import reaper

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write the embedded store there ({exc.strerror}).") from None
    # Each temporary folder is handed to the reaper before it exists: a kill at any moment
    # leaves nothing (removed by discard_store, by the except below, or by the reaper).
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}_{secrets.token_hex(4)}"
    private = _tmp_root() / f"sgraph-embedded-{os.getpid()}_{secrets.token_hex(4)}"
    reaper.watch(path=tmp)
    reaper.watch(path=private)
    try:
        try:
            tmp.mkdir(mode=0o700)
        except OSError as exc:
            raise OutputError(f"{path.parent}: cannot write the embedded store there ({exc.strerror}).") from None
        try:
            private.mkdir(mode=0o700)
        except OSError as exc:
            raise DatabaseError(f"{private.parent}: cannot create a temporary folder for the embedded engine ({exc.strerror}).") from None
        db = _start(private)
        try:
            with cyclic_gc_paused():  # its entities are millions of new objects beside the graph's
                n_nodes, n_rels = _fill(db.client, graph, chunk_bytes)
            graph_db = db.select_graph(GRAPH_NAME)
            if n_nodes == 0:  # no bulk command made the graph: an empty one, for the indexes
                graph_db.query("RETURN 1")
            for stmt in index_statements():  # built once, over every node
                graph_db.query(stmt)
            db.client.save()
        except DatabaseError:
            raise
        except Exception as exc:  # redis errors from the server: disk full, out of memory ...
            raise DatabaseError(f"{path}: the embedded store could not be written ({_first_line(exc)}).") from None
        finally:
            _stop(db)
        saved = private / STORE_FILE_IN_TMP
        if not saved.is_file() or saved.stat().st_size == 0:
            raise DatabaseError(f"{path}: the embedded store was not saved; nothing was replaced.")
        try:
            shutil.move(saved, tmp / STORE_FILE_IN_TMP)  # a rename, or a copy from another file system
        except OSError as exc:
            raise OutputError(f"{path.parent}: cannot write the embedded store there ({exc.strerror}).") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(private, ignore_errors=True)
        reaper.unwatch(path=private)
    return StagedStore(path, tmp, n_nodes, n_rels)


def commit_store(staged: StagedStore) -> None:
    """Rename a staged store over the old one."""
    os.replace(staged.tmp / STORE_FILE_IN_TMP, staged.path)


def discard_store(staged: StagedStore) -> None:
    """Remove the temporary folder of a staged store (committed or not)."""
    from . import reaper

    shutil.rmtree(staged.tmp, ignore_errors=True)
    reaper.unwatch(path=staged.tmp)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _plain(value: Any) -> Any:
    """FalkorDB values as plain Python, as the Neo4j backend gives them: nodes and relationships
    as dicts (``_label``/``_type`` plus properties), paths as lists of nodes."""
    if type(value) in PLAIN_TYPES:  # most values: skip the imports and isinstance tests
        return value
    from falkordb import Edge, Node
    from falkordb import Path as FPath

    if isinstance(value, Node):
        labels = list(value.labels or [])
        return {"_label": labels[0] if len(labels) == 1 else sorted(labels), **value.properties}
    if isinstance(value, Edge):
        return {"_type": value.relation, **value.properties}
    if isinstance(value, FPath):
        return [_plain(n) for n in value.nodes()]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class EmbeddedBackend:
    """Read-only Cypher access to the embedded store at ``path`` (a private server per backend)."""

    name = "embedded"

    def __init__(self, path: str | os.PathLike[str], timeout: float | None = None):
        self.path = Path(path)
        self._db = None
        self.timeout = float(timeout) if timeout else query_timeout()
        if not self.path.is_file():
            raise DatabaseError(
                f"{self.path}: there is no embedded store here yet; run 'sgraph build DOCUMENTS' first."
            )
        from . import reaper

        self._dir = _mkdtemp()
        reaper.watch(path=self._dir)
        try:
            (self._dir / STORE_FILE_IN_TMP).symlink_to(self.path.resolve())
            # The server stops a query at the timeout; the socket waits a little longer for its answer.
            try:
                self._db = _start(self._dir, socket_timeout=self.timeout + 10)
            except DatabaseError as exc:
                raise DatabaseError(
                    f"{self.path}: the workspace is damaged (the embedded engine cannot open this store); "
                    "run 'sgraph build' again."
                ) from exc
            self._graph = self._db.select_graph(GRAPH_NAME)
            if GRAPH_NAME not in self._db.client.keys(GRAPH_NAME):
                raise DatabaseError(f"{self.path}: is not an embedded store written by sgraph; run 'sgraph build' again.")
        except BaseException:
            self.close()
            raise

    def run(self, cypher: str, params: dict | None = None, source: str | None = None) -> Rows:
        """Run ``cypher`` with ``params`` (read-only); rows as dicts in column order."""
        return run_read_only(self._graph, cypher, params, source, self.timeout)

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            _stop(db)
        folder = getattr(self, "_dir", None)
        if folder is not None:
            from . import reaper

            shutil.rmtree(folder, ignore_errors=True)
            reaper.unwatch(path=folder)
            self._dir = None

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except ImportError:  # at interpreter shutdown nothing can be imported; the server's
            pass  # own exit handler (redislite's) stops it then


def run_read_only(graph: Any, cypher: str, params: dict | None, source: str | None, timeout: float) -> Rows:
    """Run ``cypher`` with ``params`` through ``GRAPH.RO_QUERY`` on ``graph`` (a FalkorDB graph
    handle), stopped by the server after ``timeout`` seconds; rows as dicts in column order.
    Every problem is a :class:`DatabaseError` of one sentence. :class:`EmbeddedBackend` and the
    warm server (:mod:`graph_model.warm`) both run queries here."""
    from redis.exceptions import RedisError

    params = dict(params or {})
    for name, value in params.items():
        if _holds_nul(value):  # FalkorDB's parameter parser stops at a NUL
            raise DatabaseError(
                f"{source or 'the query'}: parameter '{name}' holds a NUL character, which the embedded engine cannot take."
            )
    try:
        result = graph.ro_query(cypher, params, timeout=max(1, int(timeout * 1000)))
    except RedisError as exc:
        if "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower():
            raise DatabaseError(
                f"{source or 'the query'}: the query ran longer than {timeout:g} s in the embedded store "
                "and was stopped; narrow it (e.g. a smaller limit) or raise SGRAPH_QUERY_TIMEOUT."
            ) from None
        raise _query_error(exc, source or "the query") from None
    except (TypeError, ValueError) as exc:  # a parameter value the client cannot send
        raise DatabaseError(f"{source or 'the query'}: a parameter cannot be sent to the embedded store ({exc}).") from None
    cols = [h[1] if isinstance(h, (list, tuple)) else h for h in (result.header or [])]
    return Rows((dict(zip(cols, (_plain(v) for v in row), strict=True)) for row in result.result_set), cols)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


def _query_error(exc: Exception, source: str) -> DatabaseError:
    msg = " ".join(str(exc).split())
    if msg.startswith("errMsg: "):
        msg = msg[len("errMsg: "):]
    low = msg.lower()
    if "read-only" in low or "ro_query" in low or "read only" in low:
        return DatabaseError(f"{source}: the embedded store is read-only; queries cannot change it.")
    if "missing parameters" in low or ("parameter" in low and "missing" in low):
        return DatabaseError(f"{source}: a parameter is missing ({msg}).")
    if "errctx" in low or "invalid input" in low or "syntax" in low:
        return DatabaseError(f"{source}: the embedded store cannot parse this Cypher ({msg.split(' errCtx:')[0]}).")
    return DatabaseError(f"{source}: the embedded store refused the query ({msg}).")
