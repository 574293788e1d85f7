"""The embedded store: the graph in a LadybugDB database file (no server, no Java).

``sgraph build`` writes it (:func:`write_store`) next to ``graph.json``; ``sgraph query``
reads it through :class:`EmbeddedBackend`, which has the same ``run``/``close`` interface
as :class:`graph_model.neo4j_store.Neo4jBackend`.

The tables are generated from :mod:`graph_model.schema` (one node table per label with its
key as primary key, one relationship table per type with every FROM/TO pair), never written
out by hand. Loading uses one ``COPY ... FROM (UNWIND ...)`` per node table and per
relationship pair, with the values passed column by column as list parameters: LadybugDB
turns a list of plain values into a parameter far faster than a list of maps.

The store is written whole or not at all: it is built in a temporary folder next to its
final place and renamed over the old store only once it is complete and closed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import networkx as nx

from .errors import DatabaseError, OutputError
from .schema import NODE_TYPES, REL_TYPES

STORE_FILE_IN_TMP = "store.lbug"


def q(name: str) -> str:
    """A name in backticks: ``Case``, ``case`` and ``end`` are keywords in LadybugDB's Cypher."""
    return "`" + name.replace("`", "``") + "`"


def ddl_statements() -> list[str]:
    """CREATE statements for every node and relationship table, generated from the schema."""
    stmts = []
    for nt in NODE_TYPES.values():
        cols = ", ".join(f"{q(p)} {t}" for p, t in nt.properties.items())
        stmts.append(f"CREATE NODE TABLE {q(nt.label)}({cols}, PRIMARY KEY({q(nt.key)}))")
    for rt in REL_TYPES.values():
        pairs = ", ".join(f"FROM {q(a)} TO {q(b)}" for a, b in rt.pairs)
        cols = "".join(f", {q(p)} {t}" for p, t in rt.properties.items())
        stmts.append(f"CREATE REL TABLE {q(rt.type)}({pairs}{cols})")
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


def _columns(rows: list[dict], props: dict[str, str]) -> tuple[list[str], dict[str, list]]:
    """RETURN expressions and list parameters for a COPY ... FROM (UNWIND ...) of ``rows``."""
    exprs: list[str] = []
    params: dict[str, list] = {}
    for i, (prop, typ) in enumerate(props.items()):
        values = [r.get(prop) for r in rows]
        if all(v is None for v in values):
            # A list of nothing but nulls has no type LadybugDB can infer.
            exprs.append(f"CAST(NULL AS {typ})")
            continue
        name = f"c{i}"
        params[name] = values
        exprs.append(f"${name}[i]" if typ == "STRING" else f"CAST(${name}[i] AS {typ})")
    return exprs, params


def _copy_params(conn: Any, table: str, rows: list[dict], props: dict[str, str], lead: list[list], extra: str) -> None:
    """COPY from list parameters, column by column (used for tables with list-typed columns)."""
    exprs, params = _columns(rows, props)
    lead_exprs = []
    for j, values in enumerate(lead):
        params[f"k{j}"] = values
        lead_exprs.append(f"$k{j}[i]")
    first = next(iter(params))
    opts = f" ({extra})" if extra else ""
    cypher = f"COPY {q(table)} FROM (UNWIND range(1, size(${first})) AS i RETURN {', '.join(lead_exprs + exprs)}){opts}"
    conn.execute(cypher, params)


def _csv_field(value: Any) -> str:
    """One CSV field as LadybugDB reads it: an empty unquoted field is NULL, a quoted one a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace('"', '""') + '"'


CSV_OPTIONS = "HEADER=false, DELIM=',', QUOTE='\"', ESCAPE='\"'"


def _copy(conn: Any, table: str, rows: list[dict], props: dict[str, str], lead: list[list], extra: str, csv_path: Path) -> None:
    """One COPY of ``rows`` into ``table``; ``lead`` are leading columns (FROM/TO keys of a relationship).

    Plain columns go through a CSV file (quoted so that empty strings, quotes and newlines
    survive exactly); a table with a list-typed column goes through list parameters.
    """
    if any(t.endswith("[]") for t in props.values()):
        _copy_params(conn, table, rows, props, lead, extra)
        return
    names = list(props)
    multiline = False
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        write = fh.write
        for i, row in enumerate(rows):
            fields = [_csv_field(col[i]) for col in lead]
            fields.extend(_csv_field(row.get(n)) for n in names)
            line = ",".join(fields)
            if "\n" in line or "\r" in line:
                multiline = True
            write(line)
            write("\n")
    # The parallel CSV reader cannot split a file at a line break inside a quoted value.
    opts = ", ".join(x for x in (CSV_OPTIONS, f"PARALLEL={'false' if multiline else 'true'}", extra) if x)
    literal = csv_path.as_posix().replace("\\", "\\\\").replace("'", "\\'")
    conn.execute(f"COPY {q(table)} FROM '{literal}' ({opts})")
    csv_path.unlink()


def _node_rows(graph: nx.MultiDiGraph) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {label: [] for label in NODE_TYPES}
    for _nid, data in graph.nodes(data=True):
        label = data.get("label")
        if label not in NODE_TYPES:
            raise DatabaseError(f"the graph holds a node labelled {label!r}, which the schema does not know.")
        rows[label].append(data)
    return rows


def _rel_rows(graph: nx.MultiDiGraph) -> dict[tuple[str, str, str], tuple[list[str], list[str], list[dict]]]:
    """(type, from label, to label) -> (from keys, to keys, property rows)."""
    out: dict[tuple[str, str, str], tuple[list[str], list[str], list[dict]]] = {}
    nodes = graph.nodes
    for u, v, data in graph.edges(data=True):
        rtype = data.get("type")
        if rtype not in REL_TYPES:
            raise DatabaseError(f"the graph holds a relationship of type {rtype!r}, which the schema does not know.")
        a, b = nodes[u], nodes[v]
        pair = (a["label"], b["label"])
        if pair not in REL_TYPES[rtype].pairs:
            raise DatabaseError(f"the graph holds a {rtype} relationship from {pair[0]} to {pair[1]}, which the schema does not allow.")
        entry = out.setdefault((rtype, *pair), ([], [], []))
        entry[0].append(a[NODE_TYPES[pair[0]].key])
        entry[1].append(b[NODE_TYPES[pair[1]].key])
        entry[2].append(data)
    return out


def _fill(conn: Any, graph: nx.MultiDiGraph, tmp: Path) -> tuple[int, int]:
    for stmt in ddl_statements():
        conn.execute(stmt)
    n_nodes = n_rels = 0
    # One COPY per node table: LadybugDB copies into an empty table only.
    for label, rows in _node_rows(graph).items():
        if rows:
            _copy(conn, label, rows, NODE_TYPES[label].properties, [], "", tmp / f"{label}.csv")
            n_nodes += len(rows)
    for (rtype, a, b), (src, dst, rows) in sorted(_rel_rows(graph).items()):
        extra = f"from='{a}', to='{b}'" if len(REL_TYPES[rtype].pairs) > 1 else ""
        _copy(conn, rtype, rows, REL_TYPES[rtype].properties, [src, dst], extra, tmp / f"{rtype}-{a}-{b}.csv")
        n_rels += len(rows)
    return n_nodes, n_rels


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_store(graph: nx.MultiDiGraph, path: str | os.PathLike[str]) -> StoreSummary:
    """Write ``graph`` as a LadybugDB database at ``path`` (a single file), atomically.

    The database is built in a temporary folder beside ``path`` and renamed over the old
    store only when it is complete; if anything fails, the old store is left as it was.
    """
    started = time.perf_counter()
    staged = stage_store(graph, path)
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


def stage_store(graph: nx.MultiDiGraph, path: str | os.PathLike[str]) -> StagedStore:
    """Build the store for ``path`` in a temporary folder beside it; nothing at ``path`` changes.

    :func:`commit_store` renames it into place; :func:`discard_store` removes what is left.
    """
    import ladybug as lb

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write the embedded store there ({exc.strerror}).") from None
    try:
        work = tmp / "csv"
        work.mkdir()
        # No checkpoint after every COPY (that costs more than the COPY): one at the end.
        db = lb.Database(str(tmp / STORE_FILE_IN_TMP), auto_checkpoint=False)
        conn = lb.Connection(db)
        try:
            n_nodes, n_rels = _fill(conn, graph, work)
            conn.execute("CHECKPOINT")
        except RuntimeError as exc:
            raise DatabaseError(f"{path}: the embedded store could not be written ({_first_line(exc)}).") from None
        finally:
            conn.close()
            db.close()
        shutil.rmtree(work)
        leftovers = [p for p in tmp.iterdir() if p.name != STORE_FILE_IN_TMP and p.stat().st_size > 0]
        if leftovers:  # a write-ahead log that was not checkpointed: the file alone is not the store
            raise DatabaseError(f"{path}: the embedded store was not closed cleanly; nothing was replaced.")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return StagedStore(path, tmp, n_nodes, n_rels)


def commit_store(staged: StagedStore) -> None:
    """Rename a staged store over the old one (two renames when the old one is a folder)."""
    path, tmp = staged.path, staged.tmp
    if path.is_dir() and not path.is_symlink():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
        os.replace(tmp / STORE_FILE_IN_TMP, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp / STORE_FILE_IN_TMP, path)
    for stale in (path.with_name(path.name + ".wal"), path.with_name(path.name + ".lock")):
        if stale.exists():
            stale.unlink()


def discard_store(staged: StagedStore) -> None:
    """Remove the temporary folder of a staged store (committed or not)."""
    shutil.rmtree(staged.tmp, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _plain(value: Any) -> Any:
    """Nodes and relationships as plain dicts (``_label``/``_type`` plus non-null properties);
    whole-number decimals (what LadybugDB's sum() of integers returns) as int, like Neo4j."""
    if isinstance(value, dict) and "_LABEL" in value and "_ID" in value:
        props = {k: v for k, v in value.items() if not k.startswith("_") and v is not None}
        kind = "_type" if "_SRC" in value else "_label"
        return {kind: value["_LABEL"], **props}
    if isinstance(value, Decimal):  # sum() of INT64 comes back as a 128-bit integer
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class EmbeddedBackend:
    """Read-only Cypher access to the embedded store at ``path``."""

    name = "embedded"

    def __init__(self, path: str | os.PathLike[str], read_only: bool = True):
        import ladybug as lb

        self.path = Path(path)
        if not self.path.is_file():
            raise DatabaseError(
                f"{self.path}: there is no embedded store here yet; run 'sgraph build DOCUMENTS' first."
            )
        try:
            self._db = lb.Database(str(self.path), read_only=read_only)
            self._conn = lb.Connection(self._db)
        except RuntimeError as exc:
            raise DatabaseError(f"{self.path}: the embedded store cannot be opened ({_first_line(exc)}).") from None

    def run(self, cypher: str, params: dict | None = None, source: str | None = None) -> list[dict]:
        """Run ``cypher`` with ``params``; rows as dicts in column order."""
        try:
            result = self._conn.execute(cypher, dict(params or {}))
        except RuntimeError as exc:
            raise _query_error(exc, source or "the query") from None
        if isinstance(result, list):  # several statements: the last one's rows
            result = result[-1]
        cols = result.get_column_names()
        rows = []
        while result.has_next():
            rows.append(dict(zip(cols, (_plain(v) for v in result.get_next()), strict=True)))
        result.close()
        return rows

    def iter_rows(self, cypher: str, params: dict | None = None) -> Iterator[dict]:
        yield from self.run(cypher, params)

    def close(self) -> None:
        conn, db = getattr(self, "_conn", None), getattr(self, "_db", None)
        self._conn = self._db = None
        if conn is not None:
            conn.close()
        if db is not None:
            db.close()

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _query_error(exc: RuntimeError, source: str) -> DatabaseError:
    msg = _first_line(exc)
    low = msg.lower()
    if low.startswith("parser exception"):
        return DatabaseError(f"{source}: the embedded store cannot parse this Cypher ({msg}).")
    if "parameter" in low and ("not found" in low or "missing" in low):
        return DatabaseError(f"{source}: a parameter is missing ({msg}).")
    if "read-only" in low or "read only" in low:
        return DatabaseError(f"{source}: the embedded store is read-only; queries cannot change it.")
    return DatabaseError(f"{source}: the embedded store refused the query ({msg}).")
