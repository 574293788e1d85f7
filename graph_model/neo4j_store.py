"""Neo4j: connection settings, a query backend, an idempotent loader, read-back and a health check.

Connection settings come from the environment (``NEO4J_URI``, ``NEO4J_USERNAME``,
``NEO4J_PASSWORD``, optional ``NEO4J_DATABASE``); whatever the environment leaves unset may
come from ``~/.config/sgraph/neo4j.env`` (``KEY=value`` lines), which is read only when no
one else can read it (mode 0600). Every failure reaches the user as one sentence that never
contains the password.

The loader (:func:`load`) is incremental and idempotent. A review is rewritten only when its
``sha256`` differs from the one on its ``Review`` node in Neo4j (or it is new): its own nodes
(labels with ``owned_by_review``) and its relationships between shared nodes are deleted,
then everything it holds is written again with batched ``UNWIND $rows AS row CREATE ...``
(shared agencies and themes are MERGEd), one transaction per batch of ``batch_size`` rows
of one label or of one relationship type and label pair. ``Review.sha256`` is set last,
in the final transaction, so a load interrupted part-way leaves the reviews it was writing
marked incomplete and the next load redoes them. Labels and relationship types placed into
Cypher strings come only from :mod:`graph_model.schema`; every value travels as a parameter.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import networkx as nx

from .collector import cyclic_gc_paused
from .cypher_text import schema_cypher_text, split_statements, totals_cypher_text
from .envcheck import check_neo4j_address, env_seconds
from .errors import DatabaseError, UsageError
from .results import PLAIN_TYPES, Rows
from .schema import (
    NODE_TYPES,
    QUERY_INDEXES,
    REL_TYPES,
    TOTALS_REL_TYPES,
    check_label,
    check_rel_type,
    cypher_name,
    node_id,
    relationship_row,
    stored_properties,
)

ENV_VARS = ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE")
SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
DEFAULT_TIMEOUT = 15.0

ProgressCallback = Callable[[int, int], None]
WaitCallback = Callable[[str], None]

# The one node that loads into a database claim in turn (see _LoadLock). Not a label of
# the graph's schema: dumps, counts and wipes never see it.
LOCK_LABEL = "SgraphLoadLock"

# The driver logs retries and routing failures as warnings; with no logging configured
# Python would print them to stderr. Errors reach the user as one sentence instead.
logging.getLogger("neo4j").addHandler(logging.NullHandler())


q = cypher_name


# --------------------------------------------------------------------------- configuration


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "sgraph" / "neo4j.env"


@dataclass(frozen=True)
class Neo4jConfig:
    uri: str
    username: str
    password: str = field(repr=False)
    database: str | None = None
    source: str = "environment"

    @property
    def safe_uri(self) -> str:
        """The address to show: no user info, and never the password (even pasted into it)."""
        shown = safe_uri(self.uri)
        if len(self.password) >= 4:
            shown = shown.replace(self.password, "***")
        return shown


def safe_uri(uri: str) -> str:
    """``uri`` without any user name or password written into it."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "the configured address"
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return uri


def _read_env_file(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except OSError:
        return {}
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DatabaseError(
            f"{path}: holds the Neo4j password but others can read it (mode {stat.S_IMODE(mode):04o}); "
            f"run 'chmod 600 {path}'."
        )
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatabaseError(f"{path}: cannot be read ({exc.__class__.__name__}).") from None
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_config(env: dict[str, str] | None = None) -> Neo4jConfig:
    """Connection settings: the environment first, then ``~/.config/sgraph/neo4j.env``."""
    env = dict(os.environ if env is None else env)
    values = {k: env[k] for k in ENV_VARS if env.get(k)}
    source = "environment"
    if not all(values.get(k) for k in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD")):
        path = config_file()
        from_file = _read_env_file(path)
        if from_file:
            source = str(path)
        for k in ENV_VARS:
            if not values.get(k) and from_file.get(k):
                values[k] = from_file[k]
    uri = values.get("NEO4J_URI")
    if not uri:
        raise DatabaseError(
            "Neo4j is not configured: set NEO4J_URI, NEO4J_USERNAME and NEO4J_PASSWORD "
            f"(or write them to {config_file()} with mode 0600)."
        )
    password = values.get("NEO4J_PASSWORD", "")
    shown = safe_uri(uri).replace(password, "***") if len(password) >= 4 else safe_uri(uri)
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in SCHEMES:
        raise DatabaseError(
            f"NEO4J_URI '{shown}' is not a Neo4j address; use e.g. neo4j://localhost:7687, "
            "bolt://localhost:7687 or neo4j+s://HOST."
        )
    try:
        userinfo = "@" in (urlsplit(uri).netloc or "")
    except ValueError:
        userinfo = False
    if userinfo:
        raise DatabaseError(
            f"NEO4J_URI '{shown}' must not hold a user name or password; "
            "set NEO4J_USERNAME and NEO4J_PASSWORD instead."
        )
    check_neo4j_address(uri, shown)
    return Neo4jConfig(
        uri=uri,
        username=values.get("NEO4J_USERNAME") or "neo4j",
        password=values.get("NEO4J_PASSWORD", ""),
        database=values.get("NEO4J_DATABASE") or None,
        source=source,
    )


# --------------------------------------------------------------------------- errors


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0].strip() if text else ""


class _ErrorTranslator:
    def __init__(self, config: Neo4jConfig, timeout: float):
        self.config = config
        self.timeout = timeout

    def scrub(self, text: str) -> str:
        pw = self.config.password
        if pw:
            text = text.replace(pw, "***")
        return text.replace(self.config.uri, self.config.safe_uri)

    def __call__(self, exc: BaseException, source: str | None) -> DatabaseError:
        from neo4j import exceptions as ne

        uri = self.config.safe_uri
        what = source or "the query"
        code = getattr(exc, "code", None) or ""
        message = self.scrub(_first_line(getattr(exc, "message", None) or str(exc)))
        db = self.config.database or "neo4j"
        if isinstance(exc, (ne.AuthError, ne.TokenExpired)) or code.startswith("Neo.ClientError.Security.Unauthorized"):
            return DatabaseError(
                f"Neo4j at {uri} refused the user name or password for user '{self.config.username}'; "
                "check NEO4J_USERNAME and NEO4J_PASSWORD."
            )
        if code == "Neo.ClientError.Database.DatabaseNotFound" or "database does not exist" in message.lower():
            return DatabaseError(f"Neo4j at {uri} has no database called '{db}'; check NEO4J_DATABASE.")
        if code.startswith("Neo.ClientError.Security."):
            return DatabaseError(f"Neo4j at {uri} does not allow user '{self.config.username}' to do this ({message}).")
        if code.startswith("Neo.ClientError.Transaction.TransactionTimedOut") or isinstance(
            exc, (ne.ConnectionAcquisitionTimeoutError, TimeoutError)
        ):
            return DatabaseError(f"Neo4j at {uri} did not answer {what} within {self.timeout:g} seconds.")
        if code == "Neo.ClientError.Statement.SyntaxError" or isinstance(exc, ne.CypherSyntaxError):
            return DatabaseError(f"{what}: Neo4j rejected the Cypher as invalid ({message}).")
        if code == "Neo.ClientError.Statement.ParameterMissing":
            return DatabaseError(f"{what}: a parameter the query uses was not given ({message}).")
        if code == "Neo.ClientError.Schema.ConstraintValidationFailed":
            return DatabaseError(f"{what}: Neo4j refused to break a uniqueness constraint ({message}).")
        if isinstance(exc, (ne.ServiceUnavailable, ne.SessionExpired, OSError)):
            full = str(exc).lower()
            if any(w in full for w in ("timed out", "timeout", "deadline")):
                return DatabaseError(f"Neo4j at {uri} did not answer within {self.timeout:g} seconds.")
            return DatabaseError(f"Cannot reach Neo4j at {uri}: is the server running and the address right?")
        if isinstance(exc, ne.ConfigurationError):
            return DatabaseError(f"The Neo4j settings for {uri} are not usable ({message}).")
        if isinstance(exc, ne.Neo4jError):
            return DatabaseError(f"{what}: Neo4j refused it ({code or 'error'}: {message}).")
        return DatabaseError(f"{what}: talking to Neo4j at {uri} failed ({type(exc).__name__}: {message}).")


# --------------------------------------------------------------------------- the backend


def _plain(value: Any) -> Any:
    """Driver values as plain Python: nodes and relationships as dicts, temporal values as text."""
    if type(value) in PLAIN_TYPES:
        return value
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, Node):
        labels = sorted(value.labels)
        return {"_label": labels[0] if len(labels) == 1 else labels, **dict(value)}
    if isinstance(value, Relationship):
        return {"_type": value.type, **dict(value)}
    if isinstance(value, Path):
        return [_plain(n) for n in value.nodes]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value


class Neo4jBackend:
    """Cypher access to a Neo4j server (``run``/``close``, like the embedded backend)."""

    name = "neo4j"

    def __init__(self, config: Neo4jConfig | None = None, timeout: float | None = None):
        from neo4j import GraphDatabase
        from neo4j import exceptions as ne

        self.config = config or load_config()
        self.timeout = float(timeout or env_seconds("SGRAPH_NEO4J_TIMEOUT", DEFAULT_TIMEOUT))
        self._translate = _ErrorTranslator(self.config, self.timeout)
        try:
            self.driver = GraphDatabase.driver(
                self.config.uri,
                auth=(self.config.username, self.config.password),
                connection_timeout=self.timeout,
                connection_acquisition_timeout=self.timeout,
                max_transaction_retry_time=self.timeout,
                user_agent="sgraph",
                notifications_min_severity="OFF",
            )
        except (ne.ConfigurationError, ValueError) as exc:
            raise DatabaseError(
                f"The Neo4j address '{self.config.safe_uri}' is not usable ({self._translate.scrub(_first_line(str(exc)))})."
            ) from None

    _checked = False

    def check_connection(self) -> None:
        """Fail fast (no retries) when the server is down or refuses the password."""
        if self._checked:
            return
        with self.errors("the connection check"):
            self.driver.verify_connectivity()
        self._checked = True

    @classmethod
    def from_env(cls, timeout: float | None = None) -> Neo4jBackend:
        return cls(load_config(), timeout)

    @property
    def database(self) -> str | None:
        return self.config.database

    @contextmanager
    def errors(self, source: str | None = None) -> Iterator[None]:
        """Turn driver exceptions into one-sentence DatabaseErrors."""
        from neo4j import exceptions as ne

        try:
            yield
        except (ne.Neo4jError, ne.DriverError, OSError) as exc:
            raise self._translate(exc, source) from None

    def run(self, cypher: str, params: dict | None = None, source: str | None = None) -> Rows:
        """Run one Cypher statement; rows as dicts in column order."""
        from neo4j import Query

        self.check_connection()
        with self.errors(source):
            records, _summary, keys = self.driver.execute_query(
                Query(cypher), parameters_=dict(params or {}), database_=self.database
            )
        return Rows((dict(zip(keys, (_plain(v) for v in record.values()), strict=True)) for record in records), keys)

    def write(
        self, statements: Iterable[tuple[str, dict]], source: str | None = None, *, fetch: bool = False
    ) -> list[Any]:
        """Run ``statements`` in one write transaction; each statement's summary counters, or
        with ``fetch`` each statement's rows (as lists of values)."""
        statements = list(statements)
        self.check_connection()

        def work(tx: Any) -> list[Any]:
            if fetch:
                return [[list(record.values()) for record in tx.run(cypher, params)] for cypher, params in statements]
            return [tx.run(cypher, params).consume().counters for cypher, params in statements]

        with self.errors(source), self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def server_info(self) -> Any:
        with self.errors("the connection check"):
            return self.driver.get_server_info()

    def close(self) -> None:
        driver = getattr(self, "driver", None)
        self.driver = None
        if driver is not None:
            driver.close()

    def __enter__(self) -> Neo4jBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _backend(backend: Neo4jBackend | None) -> Iterator[Neo4jBackend]:
    if backend is not None:
        yield backend
        return
    own = Neo4jBackend()
    try:
        yield own
    finally:
        own.close()


# --------------------------------------------------------------------------- schema.cypher


def required_constraints() -> list[tuple[str, str, str, str]]:
    """(name, kind NODE/RELATIONSHIP, label or type, property) for every uniqueness constraint."""
    out = [(f"sgraph_{nt.label.lower()}_{nt.key}", "NODE", nt.label, nt.key) for nt in NODE_TYPES.values()]
    out += [(f"sgraph_rel_{rt.type.lower()}_id", "RELATIONSHIP", rt.type, "id") for rt in REL_TYPES.values()]
    return out


def schema_cypher() -> str:
    """The text of ``cypher/schema.cypher``, generated from :mod:`graph_model.schema`."""
    lines = [
        "// name: schema",
        "// description: Constraints and indexes for the safeguarding graph (generated from graph_model/schema.py",
        "// by graph_model.neo4j_store.schema_cypher(); tests check this file against it). 'sgraph load' runs it",
        "// first; it is safe to run again (IF NOT EXISTS). Paste it into Neo4j Browser or run",
        "// cypher-shell -f cypher/schema.cypher.",
        "",
        "// One node per key: a uniqueness constraint (and its index) for every label's key.",
    ]
    for name, kind, label, prop in required_constraints():
        if kind == "NODE":
            lines.append(f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{q(label)}) REQUIRE n.{q(prop)} IS UNIQUE;")
    lines += ["", "// One relationship per id: the loader MERGEs relationships on their id."]
    for name, kind, label, prop in required_constraints():
        if kind == "RELATIONSHIP":
            lines.append(
                f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR ()-[r:{q(label)}]-() REQUIRE r.{q(prop)} IS UNIQUE;"
            )
    lines += ["", "// A review's own nodes and relationships are found by review_id when it is replaced."]
    for nt in NODE_TYPES.values():
        if nt.owned_by_review and "review_id" in nt.properties:
            lines.append(
                f"CREATE INDEX sgraph_{nt.label.lower()}_review_id IF NOT EXISTS FOR (n:{q(nt.label)}) ON (n.`review_id`);"
            )
    for rt in REL_TYPES.values():
        if "review_id" in rt.properties:
            lines.append(
                f"CREATE INDEX sgraph_rel_{rt.type.lower()}_review_id IF NOT EXISTS "
                f"FOR ()-[r:{q(rt.type)}]-() ON (r.`review_id`);"
            )
    lines += [
        "",
        "// Loads into one database take turns: each claims the one lock node first (graph_model/neo4j_store.py).",
        f"CREATE CONSTRAINT sgraph_load_lock_id IF NOT EXISTS FOR (n:{q(LOCK_LABEL)}) REQUIRE n.`id` IS UNIQUE;",
        "",
        "// Indexes the query library filters on.",
    ]
    for kind, name, prop in QUERY_INDEXES:
        if kind == "NODE":
            lines.append(
                f"CREATE INDEX sgraph_{name.lower()}_{prop} IF NOT EXISTS FOR (n:{q(name)}) ON (n.{q(prop)});"
            )
        else:
            lines.append(
                f"CREATE INDEX sgraph_rel_{name.lower()}_{prop} IF NOT EXISTS FOR ()-[r:{q(name)}]-() ON (r.{q(prop)});"
            )
    return "\n".join(lines) + "\n"


def check_schema_cypher(text: str) -> list[str]:
    """Constraints schema.py requires that the schema script does not create (by name)."""
    compact = re.sub(r"\s+", " ", text)
    missing = []
    for name, kind, label, prop in required_constraints():
        target = f"(n:{q(label)})" if kind == "NODE" else f"()-[r:{q(label)}]-()"
        var = "n" if kind == "NODE" else "r"
        wanted = f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR {target} REQUIRE {var}.{q(prop)} IS UNIQUE"
        if wanted not in compact:
            missing.append(name)
    return missing


def apply_schema(backend: Neo4jBackend) -> int:
    """Run ``cypher/schema.cypher`` (after checking it covers every key in schema.py)."""
    text = schema_cypher_text()
    missing = check_schema_cypher(text)
    if missing:
        raise DatabaseError(
            f"cypher/schema.cypher lacks the constraint(s) {', '.join(missing)} that graph_model/schema.py needs; "
            "regenerate it with graph_model.neo4j_store.schema_cypher()."
        )
    statements = split_statements(text)
    for stmt in statements:
        backend.run(stmt, {}, source="cypher/schema.cypher")
    backend.run("CALL db.awaitIndexes(300)", {}, source="cypher/schema.cypher")
    return len(statements)


# --------------------------------------------------------------------------- the load lock

# A lock unrenewed for this long is taken to belong to a load that died (killed, or its
# machine lost); the holder renews it every LOCK_RENEW_S, from a thread, whatever its own
# transactions are doing.
LOCK_TTL_S = 60.0
LOCK_RENEW_S = 10.0
LOCK_POLL_S = 0.5

_LOCK_CLAIM = (
    f"MERGE (l:{q(LOCK_LABEL)} {{`id`: 'load'}}) "
    "WITH l, timestamp() AS now "
    "WITH l, now, (l.owner IS NULL OR l.owner = $owner OR l.expires < now) AS free "
    "SET l.owner = CASE WHEN free THEN $owner ELSE l.owner END, "
    "l.expires = CASE WHEN free THEN now + $ttl_ms ELSE l.expires END "
    "RETURN l.owner = $owner AS mine, l.owner AS owner, (l.expires - now) / 1000.0 AS left_s"
)
_LOCK_RENEW = (
    f"MATCH (l:{q(LOCK_LABEL)} {{`id`: 'load'}}) WHERE l.owner = $owner "
    "SET l.expires = timestamp() + $ttl_ms RETURN count(l) AS held"
)
_LOCK_RELEASE = f"MATCH (l:{q(LOCK_LABEL)} {{`id`: 'load'}}) WHERE l.owner = $owner DELETE l"


class _LoadLock:
    """Loads into one database take turns, so that each finds the database as the one
    before it left it: a load rewrites the cross-review relationships (SIMILAR_TO) whole and
    recounts the totals over every review, which two loads at once would interleave.

    The lock is one node (``LOCK_LABEL``, unique ``id``), claimed in its own transaction,
    with its holder and an expiry in the server's clock. The holder renews it from a thread
    while it loads and deletes it when it is done, whatever the outcome; a load killed
    outright leaves it to expire after ``LOCK_TTL_S``. A load that finds it held waits,
    telling ``waiting`` who holds it, every ``LOCK_POLL_S`` (a callback may raise to give
    up, KeyboardInterrupt included).
    """

    def __init__(self, be: Neo4jBackend, waiting: WaitCallback | None = None):
        self.be = be
        self.waiting = waiting
        self.owner = f"{socket.gethostname()} pid {os.getpid()} ({uuid.uuid4().hex[:8]})"
        self.lost = False
        self.waited = 0.0  # seconds spent waiting for another load
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _params(self) -> dict:
        return {"owner": self.owner, "ttl_ms": int(LOCK_TTL_S * 1000)}

    def __enter__(self) -> _LoadLock:
        since = time.perf_counter()
        while True:
            row = self.be.run(_LOCK_CLAIM, self._params(), source="the load lock")[0]
            if row["mine"]:
                break
            if self.waiting:
                self.waiting(
                    f"Waiting for another load into this database to finish (held by {row['owner']}; "
                    f"taken over if not renewed within {max(0.0, row['left_s']):.0f} s)."
                )
            time.sleep(LOCK_POLL_S)
        self.waited = time.perf_counter() - since
        self._renewer = threading.Thread(target=self._renew, name="sgraph-load-lock", daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(LOCK_RENEW_S):
            try:
                held = self.be.run(_LOCK_RENEW, self._params(), source="the load lock")[0]["held"]
            except DatabaseError:
                continue  # the load's own next write reports the server's trouble
            if not held:
                self.lost = True
                return

    def check(self) -> None:
        """Raise when another load has taken the lock over (this one stalled past its expiry)."""
        if self.lost:
            raise DatabaseError(
                f"this load stalled for over {LOCK_TTL_S:.0f} s and another load took the database over; "
                "run 'sgraph load' again when it is done."
            )

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            self.be.write([(_LOCK_RELEASE, self._params())], source="the load lock")
        except DatabaseError:
            if exc_type is None:
                raise  # else the load's own error is the one to report; the lock expires


# --------------------------------------------------------------------------- load


@dataclass
class LoadSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    wiped: bool = False
    nodes_written: int = 0
    relationships_written: int = 0
    batches: int = 0
    recounted: bool = False  # the totals were counted again over the whole database (step 4b)
    seconds: float = 0.0
    node_counts: dict[str, int] = field(default_factory=dict)  # in Neo4j after the load
    relationship_counts: dict[str, int] = field(default_factory=dict)

    @property
    def elements_written(self) -> int:
        return self.nodes_written + self.relationships_written

    @property
    def elements_per_second(self) -> float:
        return self.elements_written / self.seconds if self.seconds > 0 else 0.0


def _relationship_row(nodes: Any, u: str, v: str, d: dict) -> tuple[tuple[str, str, str], dict]:
    try:
        return relationship_row(nodes, u, v, d)
    except ValueError as exc:
        raise DatabaseError(str(exc)) from None


def _review_of_node(data: dict) -> str | None:
    nt = NODE_TYPES[data["label"]]
    if not nt.owned_by_review:
        return None
    if nt.label == "Review":
        return data[nt.key]
    return data.get("review_id")


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _owned_delete_statements(review_ids: list[str]) -> list[tuple[str, dict]]:
    """Delete these reviews' own nodes and their relationships between shared nodes."""
    stmts: list[tuple[str, dict]] = []
    shared = {label for label, nt in NODE_TYPES.items() if not nt.owned_by_review}
    for rt in REL_TYPES.values():
        if "review_id" in rt.properties and any(a in shared or b in shared for a, b in rt.pairs):
            stmts.append(
                (
                    f"UNWIND $ids AS rid MATCH ()-[r:{q(check_rel_type(rt.type))}]->() WHERE r.`review_id` = rid DELETE r",
                    {"ids": review_ids},
                )
            )
    for nt in NODE_TYPES.values():
        if not nt.owned_by_review:
            continue
        prop = nt.key if nt.label == "Review" else "review_id"
        stmts.append(
            (
                f"UNWIND $ids AS rid MATCH (n:{q(check_label(nt.label))}) WHERE n.{q(prop)} = rid DETACH DELETE n",
                {"ids": review_ids},
            )
        )
    return stmts


def _node_merge(label: str) -> str:
    """MERGE a batch of shared nodes (rows: key, props); returns their keys and internal ids
    as two lists in one row (see :func:`_node_create`)."""
    nt = NODE_TYPES[check_label(label)]
    return (
        f"UNWIND $rows AS row MERGE (n:{q(nt.label)} {{{q(nt.key)}: row.key}}) SET n = row.props "
        "RETURN collect(row.key) AS k, collect(id(n)) AS i"
    )


def _node_create(label: str) -> str:
    """CREATE a batch of a changed review's own nodes (rows: property maps). Safe because
    step 1 of the load deleted whatever the review owned (a review with no Review node owns
    nothing in Neo4j), and the uniqueness constraints still refuse a duplicate. Returns the
    nodes' keys and internal ids as two lists in one row, collected from the same rows (a
    row per node cost the driver and the server more than the CREATE itself)."""
    nt = NODE_TYPES[check_label(label)]
    return (
        f"UNWIND $rows AS row CREATE (n:{q(nt.label)}) SET n = row "
        f"RETURN collect(row.{q(nt.key)}) AS k, collect(id(n)) AS i"
    )


def _node_ids(label: str) -> str:
    """The internal ids of the nodes of ``label`` with the keys in ``$keys``."""
    nt = NODE_TYPES[check_label(label)]
    return f"UNWIND $keys AS k MATCH (n:{q(nt.label)} {{{q(nt.key)}: k}}) RETURN k, id(n) AS i"


def _rel_create(rtype: str, a: str, b: str) -> str:
    """CREATE a batch of relationships. Rows are lists: the internal ids of both ends (found
    when this load wrote them, or looked up by key: :func:`_node_ids`), then the values of
    the type's properties in the schema's order (:func:`_relationship_rows`). Ends found by
    id, not by an index seek on their key, and rows as lists, not maps: the server does
    about a third less work per relationship. The properties are spelled out, not SET from
    a map, so that the plan streams (no Eager) and absent (null) values are simply not written."""
    rt = REL_TYPES[check_rel_type(rtype)]
    na, nb = NODE_TYPES[check_label(a)], NODE_TYPES[check_label(b)]
    props = ", ".join(f"{q(p)}: row[{i}]" for i, p in enumerate(rt.properties, start=2))
    return (
        f"UNWIND $rows AS row MATCH (a:{q(na.label)}) WHERE id(a) = row[0] "
        f"MATCH (b:{q(nb.label)}) WHERE id(b) = row[1] "
        f"CREATE (a)-[:{q(rt.type)} {{{props}}}]->(b)"
    )


# Relationships no review owns that the loader writes from the graph (SIMILAR_TO); the totals'
# relationships (LINKED_WITH) are counted in the database instead (recount_totals).
CROSS_REVIEW_TYPES = tuple(
    rt.type for rt in REL_TYPES.values() if "review_id" not in rt.properties and rt.type not in TOTALS_REL_TYPES
)


def _cross_review_statements(
    be: Neo4jBackend,
    wanted: dict[str, dict[tuple[str, str], list[list]]],
    batch_size: int,
    ends: Callable[[str, str, list[list]], list[list]],
) -> Iterator[tuple[str, dict, int]]:
    """(cypher, params, relationships written) that make Neo4j's relationships of the
    cross-review types (those without a review_id, e.g. SIMILAR_TO) exactly the graph's,
    ``wanted`` (type -> (from label, to label) -> rows, as :func:`_relationship_rows` makes
    them): nothing when they already are; else delete them all (in chunks), then create them
    all, each batch's rows with their ends' ids (``ends(from label, to label, rows)``).
    They are compared with the database's only when it holds some (after a wipe it holds none)."""
    for rtype, by_pair in wanted.items():
        rt = REL_TYPES[rtype]
        held = be.run(f"MATCH ()-[r:{q(rt.type)}]->() RETURN count(r) AS n", {}, source="the load")[0]["n"]
        if held:
            names = tuple(rt.properties)
            want = sorted(
                (r[2], repr(sorted((k, v) for k, v in zip(names, r[2:], strict=True) if v is not None)))
                for rows in by_pair.values()
                for r in rows
            )
            rows = be.run(f"MATCH ()-[r:{q(rt.type)}]->() RETURN properties(r) AS p", {}, source="the load")
            have = sorted(
                (r["p"].get("id"), repr(sorted((k, v) for k, v in r["p"].items() if k in rt.properties))) for r in rows
            )
            if want == have:
                continue
            delete = f"MATCH ()-[r:{q(rt.type)}]->() WITH r LIMIT $limit DELETE r"
            for _ in range(0, held, batch_size):
                yield delete, {"limit": batch_size}, 0
        for (a, b), pair_rows in sorted(by_pair.items()):
            pair_rows.sort(key=_by_id)
            for batch in _chunks(pair_rows, batch_size):
                yield _rel_create(rtype, a, b), {"rows": ends(a, b, batch)}, len(batch)


def _labels_of(rel_types: Iterable[str]) -> set[str]:
    """The labels at either end of relationships of ``rel_types``."""
    return {label for t in rel_types for pair in REL_TYPES[t].pairs for label in pair}


def _relationship_rows(
    graph: nx.MultiDiGraph, changed: set[str], cross_types: Iterable[str]
) -> tuple[dict[tuple[str, str, str], list[list]], dict[str, dict[tuple[str, str], list[list]]]]:
    """The rows :func:`_load` writes for the relationships of ``graph``: those of the
    ``changed`` reviews by (type, from label, to label), and every one of ``cross_types`` by
    type, then (from label, to label); each list in the order of the relationships' ids.
    A row is a list: the keys of both ends, then the values of the type's properties in the
    schema's order (None where absent; ``id`` first): :func:`graph_model.schema.relationship_row`'s
    row laid flat, made with each node's label and key looked up once rather than at every
    relationship."""
    keys: dict[str, tuple[str, Any]] = {}
    for n, d in graph.nodes(data=True):
        label = d.get("label")
        nt = NODE_TYPES.get(label)  # type: ignore[arg-type]
        keys[n] = (label, d.get(nt.key) if nt is not None else None)
    rel_rows: dict[tuple[str, str, str], list[list]] = {}
    cross_rows: dict[str, dict[tuple[str, str], list[list]]] = {check_rel_type(t): {} for t in cross_types}
    # type -> (its rows by (from label, to label): a dict of cross_rows or one made here,
    # its properties, whether it is cross-review); a pair the schema allows has its list.
    spec: dict[Any, tuple[dict, tuple[str, ...], bool]] = {}
    for t, rt in REL_TYPES.items():
        if t in cross_rows:
            by_pair = cross_rows[t]
            spec[t] = ({pair: by_pair.setdefault(pair, []) for pair in rt.pairs}, tuple(rt.properties), True)
        else:
            spec[t] = ({pair: rel_rows.setdefault((t, *pair), []) for pair in rt.pairs}, tuple(rt.properties), False)
    # The graph's own dicts (a MultiDiGraph's _succ: node -> node -> key -> data), not its
    # views: the views cost a third of the time over 2 million relationships.
    for u, nbrs in graph._succ.items():
        a, ka = keys[u]
        for v, by_key in nbrs.items():
            b, kb = keys[v]
            for d in by_key.values():
                get = d.get
                rtype = get("type")
                this = spec.get(rtype)
                if this is None or not (this[2] or get("review_id") in changed):
                    if this is None and get("review_id") in changed:
                        _relationship_row(graph.nodes, u, v, d)  # raises the schema's own error
                    continue
                rows = this[0].get((a, b))
                if rows is None:
                    _relationship_row(graph.nodes, u, v, d)  # raises the schema's own error
                rows.append([ka, kb, *map(get, this[1])])  # type: ignore[union-attr]
    for key in [k for k, rows in rel_rows.items() if not rows]:
        del rel_rows[key]
    for by_pair in cross_rows.values():
        for pair in [p for p, rows in by_pair.items() if not rows]:
            del by_pair[pair]
    for rows in rel_rows.values():
        rows.sort(key=_by_id)
    return rel_rows, cross_rows


# Every relationship type's first property is its id (rows of _relationship_rows: ends, then id).
assert all(next(iter(rt.properties)) == "id" for rt in REL_TYPES.values())
_by_id = itemgetter(2)


class _Stream:
    """``each(item)`` for every item of ``items()``, in a thread, for the time of a ``with``
    block. Leaving the block waits for the thread and raises its error; when the block
    itself fails (a KeyboardInterrupt included) the thread stops before its next item and
    the block's error wins, so that no write goes on after the load has returned."""

    def __init__(self, items: Callable[[], Iterable[Any]], each: Callable[[Any], object]):
        self.stopped = threading.Event()
        self.error: BaseException | None = None
        self._items, self._each = items, each
        self._thread = threading.Thread(target=self._run, name="sgraph-load-stream", daemon=True)

    def _run(self) -> None:
        try:
            for item in self._items():
                if self.stopped.is_set():
                    return
                self._each(item)
        except BaseException as exc:  # handed to the thread that waits for it
            self.error = exc

    def __enter__(self) -> _Stream:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.stopped.set()
        while self._thread.is_alive():
            self._thread.join(0.2)
        if exc_type is None and self.error is not None:
            raise self.error


def wipe_project(backend: Neo4jBackend, chunk: int = 10000) -> int:
    """Delete every node of this project's labels (and their relationships), in chunks.

    Relationships go first, ``chunk`` at a time: a chunk of nodes deleted with all their
    relationships at once (a review has hundreds) can exceed the server's transaction memory."""
    for rt in REL_TYPES.values():
        for a, b in rt.pairs:
            cypher = (
                f"MATCH (:{q(check_label(a))})-[r:{q(check_rel_type(rt.type))}]->(:{q(check_label(b))}) "
                "WITH r LIMIT $limit DELETE r RETURN count(*) AS deleted"
            )
            while True:
                rows = backend.run(cypher, {"limit": chunk}, source="the wipe")
                if not rows or rows[0]["deleted"] < chunk:
                    break
    deleted = 0
    for label in NODE_TYPES:
        cypher = f"MATCH (n:{q(check_label(label))}) WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS deleted"
        while True:
            rows = backend.run(cypher, {"limit": chunk}, source="the wipe")
            n = rows[0]["deleted"] if rows else 0
            deleted += n
            if n < chunk:
                break
    return deleted


def totals_statements() -> list[str]:
    """The statements of ``cypher/totals/recount.cypher``, which count every total again over
    the whole database (Neo4j only)."""
    return split_statements(totals_cypher_text())


def recount_totals(backend: Neo4jBackend) -> None:
    """Count every total again over the whole database, one statement per transaction (the
    last step of every load)."""
    for statement in totals_statements():
        backend.write([(statement, {})], source="cypher/totals/recount.cypher")


def stored_review_hashes(backend: Neo4jBackend) -> dict[str, str | None]:
    rows = backend.run("MATCH (r:`Review`) RETURN r.`id` AS id, r.`sha256` AS sha256", {}, source="the load")
    return {r["id"]: r["sha256"] for r in rows}


def counts(backend: Neo4jBackend) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per type of this project in Neo4j."""
    nodes = {
        label: backend.run(f"MATCH (n:{q(label)}) RETURN count(n) AS c", {}, source="the count")[0]["c"]
        for label in NODE_TYPES
    }
    rels = {
        t: backend.run(f"MATCH ()-[r:{q(t)}]->() RETURN count(r) AS c", {}, source="the count")[0]["c"]
        for t in REL_TYPES
    }
    return nodes, rels


# Rows per transaction. On the 2,000-review benchmark graph (1.5 million elements) 5,000
# loads about 15% faster than 1,000 (fewer round trips and commits) and stays well inside
# the server's default transaction memory (BENCHMARKS.md).
DEFAULT_BATCH_SIZE = 5000


def load(
    graph: nx.MultiDiGraph,
    batch_size: int = DEFAULT_BATCH_SIZE,
    wipe: bool = False,
    progress: ProgressCallback | None = None,
    *,
    prune: bool = False,
    backend: Neo4jBackend | None = None,
    waiting: WaitCallback | None = None,
) -> LoadSummary:
    """Load ``graph`` into Neo4j incrementally (see the module docstring); ``progress(done, total)``
    is called after every committed batch with counts of elements (nodes + relationships).

    Loads into one database take turns (:class:`_LoadLock`): while another holds it,
    ``waiting(message)`` is called every half second."""
    if batch_size < 1:
        raise UsageError("--batch-size must be at least 1.")
    with _backend(backend) as be:
        started = time.perf_counter()
        apply_schema(be)
        # Without the cyclic collector's full passes over the graph and the millions of rows
        # made beside it (making the 2,000-review graph's relationship rows: 9.2 s with them,
        # 3.9 s without); the rows hold no cycles and are freed as usual.
        with _LoadLock(be, waiting) as lock, cyclic_gc_paused():
            summary = _load(be, lock, graph, batch_size, wipe, prune, progress)
        summary.seconds = time.perf_counter() - started - lock.waited  # the time spent loading
        return summary


def _load(
    be: Neo4jBackend,
    lock: _LoadLock,
    graph: nx.MultiDiGraph,
    batch_size: int,
    do_wipe: bool,
    prune: bool,
    progress: ProgressCallback | None,
) -> LoadSummary:
    summary = LoadSummary(wiped=do_wipe)
    if do_wipe:
        wipe_project(be)

    # What the graph holds, review by review.
    hashes: dict[str, str | None] = {}
    for _n, d in graph.nodes(data=True):
        if d.get("label") == "Review":
            hashes[d["id"]] = d.get("sha256")
    stored = stored_review_hashes(be)
    changed = sorted(r for r, h in hashes.items() if h is None or stored.get(r) != h)
    summary.created = [r for r in changed if r not in stored]
    summary.updated = [r for r in changed if r in stored]
    summary.skipped = sorted(r for r in hashes if r not in set(changed))
    to_prune = sorted(r for r in stored if r not in hashes) if prune else []
    summary.pruned = to_prune
    changed_set = set(changed)
    # When every review the database will hold is written by this load (a first load, a
    # wipe, or every review changed), the graph's totals are the database's: they are
    # written with the nodes, LINKED_WITH with the other cross-review relationships, and
    # the recount over the whole database (step 4b) is not needed.
    whole = changed_set == set(hashes) and not (set(stored) - set(hashes) - set(to_prune))
    cross_types = CROSS_REVIEW_TYPES + (TOTALS_REL_TYPES if whole else ())

    shared_rows: dict[str, list[dict]] = {label: [] for label, nt in NODE_TYPES.items() if not nt.owned_by_review}
    owned_rows: dict[str, list[dict]] = {label: [] for label, nt in NODE_TYPES.items() if nt.owned_by_review}
    finals: list[dict] = []
    for _n, d in sorted(graph.nodes(data=True), key=lambda x: x[0]):
        label = d.get("label")
        if label not in NODE_TYPES:
            raise DatabaseError(f"the graph holds a node labelled {label!r}, which the schema does not know.")
        nt = NODE_TYPES[label]
        rid = _review_of_node(d)
        if rid is None:
            shared_rows[label].append({"key": d[nt.key], "props": stored_properties(d, nt.properties)})
        elif rid in changed_set:
            drop = ("sha256",) if label == "Review" else ()
            owned_rows[label].append(stored_properties(d, nt.properties, drop))
            if label == "Review" and d.get("sha256") is not None:
                finals.append({"id": d[nt.key], "sha256": d["sha256"]})
    # The relationships' rows. Made before the first write, not in a thread meanwhile: the
    # thread held the GIL the driver needs, and slowed the node writes by more than it saved.
    rel_rows, cross_rows = _relationship_rows(graph, changed_set, cross_types)
    total = (
        sum(len(rows) for by_pair in cross_rows.values() for rows in by_pair.values())
        * bool(changed_set or to_prune or do_wipe)
        + sum(len(r) for r in shared_rows.values())
        + sum(len(r) for r in owned_rows.values())
        + sum(len(r) for r in rel_rows.values())
    )
    done = 0
    tally = threading.Lock()  # step() runs in two threads during step 3 (see there)

    def step(statements: list[tuple[str, dict]], nodes: int = 0, rels: int = 0, fetch: bool = False) -> list:
        nonlocal done
        lock.check()
        result = be.write(statements, source="the load", fetch=fetch)
        with tally:
            summary.batches += 1
            summary.nodes_written += nodes
            summary.relationships_written += rels
            done += nodes + rels
            if progress:
                progress(done, max(total, done))  # cross-review relationships are known only as they are written
        return result

    # The internal id of every node this load writes, by label and key: relationships
    # find their ends by id. Ends this load does not write (the learning points of
    # unchanged reviews, for SIMILAR_TO) are looked up by key; loads take turns
    # (_LoadLock), so no one else deletes a node meanwhile.
    node_ids: dict[str, dict[Any, int]] = {label: {} for label in NODE_TYPES}

    def ends(a: str, b: str, batch: list[list]) -> list[list]:
        """``batch`` with its ends' keys replaced by their ids (rows whose end is in no
        node are left out: a MATCH on its key would have found nothing either)."""
        for label, end in ((a, 0), (b, 1)):
            known = node_ids[label]
            missing = sorted({r[end] for r in batch if r[end] not in known})
            if missing:
                for row in be.run(_node_ids(label), {"keys": missing}, source="the load"):
                    known[row["k"]] = row["i"]
        ia, ib = node_ids[a], node_ids[b]
        return [[ia[r[0]], ib[r[1]], *r[2:]] for r in batch if r[0] in ia and r[1] in ib]

    # 1. Take out the old version of every review that changed (and of pruned reviews).
    # A review with no Review node in Neo4j has nothing there to take out: its Review node
    # is always written before anything else it owns (step 3), and deleted in the same
    # transaction as everything else it owns.
    review_chunk = max(1, batch_size // 100)
    for ids in _chunks(sorted((changed_set & set(stored)) | set(to_prune)), review_chunk):
        step(_owned_delete_statements(ids))
    # 2. Shared nodes (agencies, themes): all of them, so that their properties follow the graph.
    for label, rows in shared_rows.items():
        for batch in _chunks(rows, batch_size):
            keys, nids = step([(_node_merge(label), {"rows": batch})], nodes=len(batch), fetch=True)[0][0]
            node_ids[label].update(zip(keys, nids, strict=True))
    # 3. The changed reviews' own nodes (Review nodes first), then their relationships.
    # They are CREATEd: step 1 took out everything these reviews owned.
    for label, rows in sorted(owned_rows.items(), key=lambda item: item[0] != "Review"):
        for batch in _chunks(rows, batch_size):
            keys, nids = step([(_node_create(label), {"rows": batch})], nodes=len(batch), fetch=True)[0][0]
            node_ids[label].update(zip(keys, nids, strict=True))

    def write_relationships(kinds: list[tuple[str, str, str]]) -> None:
        for rtype, a, b in kinds:
            for batch in _chunks(rel_rows[(rtype, a, b)], batch_size):
                step([(_rel_create(rtype, a, b), {"rows": ends(a, b, batch)})], rels=len(batch))

    # 3b. Cross-review relationships (SIMILAR_TO between learning points): they carry no
    # review_id, and a changed review changes the scores of others, so when the ones in
    # Neo4j differ in any way from the graph's (a changed review's were deleted with its
    # nodes in step 1) all of them are deleted and written again.
    # The server writes one transaction at a time per session; SIMILAR_TO (a third of a
    # whole load) is written in a second session, in a thread, while this one writes the
    # review relationships that touch none of the nodes it touches (learning points): two
    # transactions that lock no node in common cannot deadlock. The review relationships
    # that do touch learning points are written first; the cross-review types that touch
    # other labels (LINKED_WITH between agencies) after both. No other load runs meanwhile
    # (_LoadLock), so no one else rewrites SIMILAR_TO between the comparison and the writes.
    kinds = sorted(rel_rows)
    parallel = {t: by_pair for t, by_pair in cross_rows.items() if _labels_of([t]) == {"LearningPoint"}}
    parallel_labels = _labels_of(parallel)
    beside = [k for k in kinds if not set(k[1:]) & parallel_labels]
    write_relationships([k for k in kinds if k not in beside])
    with _Stream(
        lambda: _cross_review_statements(be, parallel, batch_size, ends),
        lambda item: step([(item[0], item[1])], rels=item[2]),
    ):
        write_relationships(beside)
    rest = {t: by_pair for t, by_pair in cross_rows.items() if t not in parallel}
    for cypher, params, rels in _cross_review_statements(be, rest, batch_size, ends):
        step([(cypher, params)], rels=rels)
    # 4. Shared nodes no relationship uses any more (and the graph does not hold) go.
    keep = {label: [r["key"] for r in rows] for label, rows in shared_rows.items()}
    orphan_stmts = [
        (
            f"MATCH (n:{q(label)}) WHERE NOT EXISTS {{ MATCH (n)--() }} AND NOT n.{q(NODE_TYPES[label].key)} IN $keep DELETE n",
            {"keep": keep[label]},
        )
        for label in shared_rows
    ]
    step(orphan_stmts)
    # 4b. The totals (docs/schema.md): the graph's were written with its nodes, but the
    # database may hold other reviews too (and unchanged reviews' learning points keep their
    # old best_rank), so then they are counted again over all of it. Before step 5, so that
    # a load killed here is taken up again by the next one. No other load can have added
    # reviews meanwhile: loads take turns (_LoadLock).
    if not whole:
        for statement in totals_statements():
            step([(statement, {})])
        summary.recounted = True
    # 5. Last: mark the reviews complete. Until this commits they count as changed.
    if finals:
        step(
            [("UNWIND $rows AS row MATCH (r:`Review` {`id`: row.id}) SET r.`sha256` = row.sha256", {"rows": finals})]
        )
    summary.node_counts, summary.relationship_counts = counts(be)
    return summary


# --------------------------------------------------------------------------- read back


def read_graph(backend: Neo4jBackend | None = None) -> nx.MultiDiGraph:
    """The project's whole graph in Neo4j, as the networkx MultiDiGraph :mod:`graph_model.build` makes."""
    with _backend(backend) as be:
        nodes: list[tuple[str, dict]] = []
        for label, nt in NODE_TYPES.items():
            for row in be.run(f"MATCH (n:{q(label)}) RETURN properties(n) AS p", {}, source="the read-back"):
                props = {k: v for k, v in row["p"].items() if k in nt.properties}
                nodes.append((node_id(label, props[nt.key]), {"label": label, **props}))
        edges: list[tuple[str, str, dict]] = []
        for rt in REL_TYPES.values():
            for a, b in rt.pairs:
                cypher = (
                    f"MATCH (a:{q(a)})-[r:{q(rt.type)}]->(b:{q(b)}) "
                    f"RETURN a.{q(NODE_TYPES[a].key)} AS s, b.{q(NODE_TYPES[b].key)} AS t, properties(r) AS p"
                )
                for row in be.run(cypher, {}, source="the read-back"):
                    props = {k: v for k, v in row["p"].items() if k in rt.properties}
                    edges.append((node_id(a, row["s"]), node_id(b, row["t"]), {"type": rt.type, **props}))
    g = nx.MultiDiGraph()
    for nid, data in sorted(nodes, key=lambda x: x[0]):
        g.add_node(nid, **data)
    for u, v, data in sorted(edges, key=lambda e: (e[2]["type"], e[2].get("id", ""))):
        g.add_edge(u, v, key=data.get("id"), **data)
    return g


# --------------------------------------------------------------------------- doctor


@dataclass
class DoctorReport:
    uri: str
    username: str
    database: str | None
    config_source: str
    reachable: bool = False
    auth_ok: bool = False
    database_ok: bool = False
    server_version: str | None = None
    edition: str | None = None
    server_address: str | None = None
    constraints_present: list[str] = field(default_factory=list)
    constraints_missing: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.reachable and self.auth_ok and self.database_ok


def doctor(backend: Neo4jBackend | None = None) -> DoctorReport:
    """Check the Neo4j connection: reachable, authenticated, database present, constraints in place."""
    from neo4j import exceptions as ne

    own = backend is None
    be = backend or Neo4jBackend()
    cfg = be.config
    report = DoctorReport(cfg.safe_uri, cfg.username, cfg.database, cfg.source)
    try:
        try:
            be.driver.verify_connectivity()
            report.reachable = report.auth_ok = True
        except (ne.AuthError, ne.TokenExpired) as exc:
            report.reachable = True
            report.problem = str(be._translate(exc, None))
            return report
        except (ne.Neo4jError, ne.DriverError, OSError) as exc:
            err = be._translate(exc, None)
            if "has no database" in str(err):
                report.reachable = report.auth_ok = True
            report.problem = str(err)
            if not report.reachable:
                return report
        try:
            info = be.driver.get_server_info()
            report.server_address = str(info.address)
            report.server_version = (info.agent or "").split("/", 1)[-1] or None
        except (ne.Neo4jError, ne.DriverError, OSError):
            pass
        try:
            rows = be.run(
                "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition",
                {},
                source="the check",
            )
            if rows:
                report.edition = rows[0]["edition"]
                report.server_version = (rows[0]["versions"] or [report.server_version])[0]
            report.database_ok = True
        except DatabaseError as exc:
            report.problem = report.problem or str(exc)
            return report
        try:
            rows = be.run(
                "SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties "
                "RETURN name, type, entityType, labelsOrTypes, properties",
                {},
                source="the check",
            )
        except DatabaseError as exc:
            report.problem = report.problem or str(exc)
            return report
        have = {
            (r["entityType"], (r["labelsOrTypes"] or [None])[0], tuple(r["properties"] or ()))
            for r in rows
            if "UNIQUENESS" in (r["type"] or "") or "KEY" in (r["type"] or "")
        }
        for name, kind, label, prop in required_constraints():
            (report.constraints_present if (kind, label, (prop,)) in have else report.constraints_missing).append(name)
        return report
    finally:
        if own:
            be.close()
