"""The analysts' Cypher library: the ``.cypher`` files in the repository's ``cypher/`` folder.

Each file starts with a header of ``//`` comment lines::

    // name: agency-learning
    // description: Everything one agency must learn ...
    // params: agency="Health Visiting", limit=100
    // defaults: limit=100

``params`` lists every parameter with an example value; the example's type (text in
quotes, a whole number, a decimal, true/false) is the type values given on the command
line are converted to. ``defaults`` (optional) names the parameters that may be left out
and the value used then: list queries that can return tens of thousands of rows take a
``limit`` that way. The same file runs unchanged in Neo4j (Browser, cypher-shell, the
driver) and in the embedded FalkorDB store; there is never a second copy of a query.

The folder is found as the package ``graph_model.cypher_library`` (``pyproject.toml``
ships ``cypher/`` under that name), falling back to the repository's ``cypher/``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from .cypher_text import (  # library_dir and the schema and totals texts moved there, still importable from here
    SCHEMA_FILE,
    code_positions,
    library_dir,
    schema_cypher_text,  # noqa: F401
    split_statements,
    totals_cypher_text,  # noqa: F401
)
from .errors import InputError, UsageError
from .results import Rows


class Backend(Protocol):
    name: str

    def run(self, cypher: str, params: dict | None = None, source: str | None = None) -> Rows: ...

    def close(self) -> None: ...


class Param(NamedTuple):  # NamedTuple, not a dataclass: importing dataclasses costs the quick path's start-up
    name: str
    example: Any
    optional: bool = False  # may be left out: the value in the header's ``defaults`` is used
    default: Any = None

    @property
    def type_name(self) -> str:
        return _type_name(self.example)

    def example_text(self) -> str:
        """The example as it is written on the command line: ``agency="Health Visiting"``."""
        value = self.example
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = str(value)
        return f"{self.name}={text}"


class Query(NamedTuple):
    name: str
    description: str
    params: tuple[Param, ...]
    text: str
    path: str

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def example_params(self) -> dict[str, Any]:
        return {p.name: p.example for p in self.params}

    def default_params(self) -> dict[str, Any]:
        """The optional parameters and the values used when they are left out."""
        return {p.name: p.default for p in self.params if p.optional}


# --------------------------------------------------------------------------- parsing


_HEADER_KEY = re.compile(r"^//\s*([A-Za-z_]+)\s*:\s?(.*)$")
_PARAM_ITEM = re.compile(
    r"""\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,]*?)\s*(?:,|$)"""
)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    return "text"


def parse_literal(text: str) -> Any:
    """A header example value: "text", 'text', 12, 1.5, true, false, null."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return json.loads(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return json.loads('"' + text[1:-1].replace('"', '\\"').replace("\\'", "'") + '"')
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", text):
        return float(text)
    return text


def parse_params_spec(spec: str, where: str = "the header") -> tuple[Param, ...]:
    """``agency="Health Visiting", limit=10`` → (Param('agency', ...), Param('limit', 10))."""
    spec = spec.strip()
    if not spec:
        return ()
    params: list[Param] = []
    pos = 0
    while pos < len(spec):
        m = _PARAM_ITEM.match(spec, pos)
        if not m or m.end() == pos:
            raise InputError(f"{where}: cannot read the params line near {spec[pos:pos + 30]!r}; write name=\"example\", ...")
        try:
            params.append(Param(m.group(1), parse_literal(m.group(2))))
        except ValueError:
            raise InputError(f"{where}: the example value of '{m.group(1)}' is not a valid literal.") from None
        pos = m.end()
    return tuple(params)


def parse_header(text: str, where: str = "the query") -> dict[str, str]:
    """The ``// key: value`` lines at the top of a query file (until the first other line)."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("//"):
            break
        m = _HEADER_KEY.match(stripped)
        if m and m.group(1).lower() in ("name", "description", "params", "defaults") and m.group(1).lower() not in header:
            header[m.group(1).lower()] = m.group(2).strip()
    return header


def strip_statement(text: str) -> str:
    """The Cypher without trailing whitespace, comments-only lines at the end, or a final ``;``."""
    body = text.rstrip()
    lines = body.splitlines()
    while lines and (not lines[-1].strip() or lines[-1].strip().startswith("//")):
        lines.pop()
    body = "\n".join(lines).rstrip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    return body


def referenced_params(text: str) -> list[str]:
    """The ``$name`` parameters a Cypher text uses (outside strings, comments and backticks)."""
    found: list[str] = []
    for i in code_positions(text):
        if text[i] == "$":
            m = _PARAM_RE.match(text, i)
            if m and m.group(1) not in found:
                found.append(m.group(1))
    return found


_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def parse_query(text: str, path: str, name: str | None = None) -> Query:
    header = parse_header(text, path)
    qname = header.get("name") or name or Path(path).stem
    params = parse_params_spec(header.get("params", ""), path)
    defaults = parse_params_spec(header.get("defaults", ""), f"{path} (defaults)")
    declared = {p.name for p in params}
    for d in defaults:
        if d.name not in declared:
            raise InputError(f"{path}: the defaults line names '{d.name}', which the params line does not list.")
    given = {d.name: d.example for d in defaults}
    params = tuple(
        Param(p.name, p.example, True, given[p.name]) if p.name in given else p for p in params
    )
    return Query(qname, header.get("description", ""), params, text, path)


# --------------------------------------------------------------------------- the library


def _display_path(entry: Any) -> str:
    try:
        return os.path.relpath(str(entry))
    except ValueError:
        return str(entry)


_cache: dict[str, Query] | None = None


def _load_library() -> dict[str, Query]:
    global _cache
    if _cache is not None:
        return _cache
    folder = library_dir()
    out: dict[str, Query] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".cypher") or entry.name == SCHEMA_FILE:
            continue
        stem = entry.name[: -len(".cypher")]
        query = parse_query(entry.read_text(encoding="utf-8"), _display_path(entry), stem)
        out[query.name] = query
    _cache = out
    return out


def list_queries() -> list[Query]:
    """Every shipped query, by name."""
    return sorted(_load_library().values(), key=lambda q: q.name)


def query_list_rows() -> list[dict[str, str]]:
    """The rows ``sgraph query list`` prints: each shipped query's name, parameters (as
    ``--param`` examples) and description."""
    return [
        {"name": q.name, "params": ", ".join(p.example_text() for p in q.params), "description": q.description}
        for q in list_queries()
    ]


def get_query(name: str) -> Query:
    """The shipped query called ``name``; an unknown name is a UsageError naming the closest ones."""
    library = _load_library()
    if name in library:
        return library[name]
    import difflib

    close = difflib.get_close_matches(name, list(library), n=3, cutoff=0.6)
    if not close:
        close = [n for n in library if name.lower() in n.lower()][:3]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"There is no query called '{name}'.{hint} 'sgraph query list' shows them all.")


# --------------------------------------------------------------------------- parameters


def _coerce(query_name: str, param: Param, value: Any) -> Any:
    example = param.example
    hint = f"e.g. --param {param.example_text()}"
    if example is None:  # no type to go by
        return value
    if isinstance(value, str):
        text = value.strip()
        if isinstance(example, str):
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                return value[1:-1]
            return value
        if isinstance(example, bool):
            low = text.lower()
            if low in ("true", "yes", "1"):
                return True
            if low in ("false", "no", "0"):
                return False
        elif isinstance(example, int):
            if re.fullmatch(r"[+-]?\d+", text):
                return int(text)
        elif isinstance(example, float):
            try:
                return float(text)
            except ValueError:
                pass
        raise UsageError(
            f"Parameter '{param.name}' of query '{query_name}' must be {param.type_name}, not {value!r} ({hint})."
        )
    ok = (
        isinstance(value, bool)
        if isinstance(example, bool)
        else isinstance(value, int) and not isinstance(value, bool)
        if isinstance(example, int)
        else isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(example, float)
        else isinstance(value, str)
    )
    if not ok:
        raise UsageError(
            f"Parameter '{param.name}' of query '{query_name}' must be {param.type_name}, not {value!r} ({hint})."
        )
    return float(value) if isinstance(example, float) else value


def bind_params(query: Query, params: dict[str, Any] | None, resolve_names: bool = False) -> dict[str, Any]:
    """``params`` checked against the query: every parameter present, none unknown, types converted.

    With ``resolve_names`` (the command line), a parameter that names an agency or a theme
    takes any of its aliases and an unknown name is a usage error (:func:`_canonical`)."""
    params = dict(params or {})
    declared = {p.name for p in query.params}
    used = referenced_params(query.text)
    for extra in sorted(set(params) - declared - set(used)):
        takes = ", ".join(p.name for p in query.params) or "no parameters"
        raise UsageError(f"Query '{query.name}' has no parameter '{extra}'; it takes {takes}.")
    bound: dict[str, Any] = {}
    for p in query.params:
        if (p.name not in params or params[p.name] is None) and p.optional:
            bound[p.name] = p.default
            continue
        if p.name not in params or params[p.name] is None:
            raise UsageError(
                f"Query '{query.name}' needs parameter '{p.name}' ({p.type_name}), e.g. --param {p.example_text()}."
            )
        bound[p.name] = _coerce(query.name, p, params[p.name])
        if p.name == "limit" and isinstance(bound[p.name], int) and bound[p.name] < 1:
            raise UsageError(f"Parameter 'limit' of query '{query.name}' must be at least 1 (e.g. --param limit=100).")
    for name in used:
        if name not in bound:
            if name not in params:
                raise UsageError(f"Query '{query.name}' needs parameter '{name}', e.g. --param {name}=VALUE.")
            bound[name] = params[name]
    for name, value in bound.items():
        _check_int_range(query, name, value)
        if resolve_names:
            bound[name] = _canonical(name, value)
    return bound


_AGENCY_PARAM_RE = re.compile(r"agency(?:_\w+)?|\w+_agency")
_THEME_PARAM_RE = re.compile(r"theme(?:_\w+)?")


def _canonical(name: str, value: Any) -> Any:
    """A parameter that names an agency or a theme takes any of its aliases, as ``export
    agency`` does ("health visitor" is Health Visiting); an unknown one is a usage error
    with suggestions, never "(no rows)"."""
    if not isinstance(value, str) or not value.strip():
        return value
    if _AGENCY_PARAM_RE.fullmatch(name):
        from .taxonomy import load_taxonomy

        return load_taxonomy().resolve_agency(value)
    if _THEME_PARAM_RE.fullmatch(name):
        from .taxonomy import did_you_mean, load_taxonomy

        themes = {t.lower(): t for t in load_taxonomy().themes}
        found = themes.get(" ".join(value.split()).lower())
        if found is None:
            raise UsageError(f"Unknown theme '{value}'.{did_you_mean(value, themes)} Run 'sgraph taxonomy --kind theme' to list themes.")
        return found
    return value


# Both engines hold integers in 64 bits (the embedded one silently clamps a larger value);
# the embedded engine reads LIMIT and SKIP as 32-bit numbers (2^32 becomes 0): a value out
# of range is refused rather than answered with wrong rows.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
ROW_COUNT_MAX = 2**31 - 1


def _check_int_range(query: Query, name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        return
    counts = re.search(rf"(?i)\b(?:LIMIT|SKIP)\s+\${re.escape(name)}\b", query.text) is not None
    low, high = (0, ROW_COUNT_MAX) if counts else (INT_MIN, INT_MAX)
    if not low <= value <= high:
        what = "a number of rows (LIMIT/SKIP)" if counts else "an integer"
        raise UsageError(
            f"Parameter '{name}' of query '{query.name}' is {value}, out of range for {what}: "
            f"the query engines take {low:,} to {high:,}."
        )


def parse_param_args(items: list[str] | None) -> dict[str, str]:
    """``["agency=GP", "year=2019"]`` (the repeated --param option) → a dict of strings."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageError(f"--param {item!r} is not of the form name=value, e.g. --param agency=\"Health Visiting\".")
        out[key] = value
    return out


# --------------------------------------------------------------------------- running


def run_query(
    name: str,
    params: dict[str, Any] | None,
    backend: Backend | str,
    home: str | os.PathLike[str] | None = None,
    resolve_names: bool = False,
) -> Rows:
    """Run the shipped query ``name`` with ``params`` on ``backend``; rows as dicts.

    ``backend`` is an open backend, or "embedded" / "neo4j" to open (and close) one here.
    """
    query = get_query(name)
    bound = bind_params(query, params, resolve_names)
    if isinstance(backend, str):
        with _opened(backend, home) as be:
            return run_query(name, bound, be)
    return backend.run(strip_statement(query.text), bound, source=query.path)


@contextmanager
def _opened(kind: str, home: str | os.PathLike[str] | None) -> Iterator[Backend]:
    if kind not in ("embedded", "neo4j"):
        raise UsageError(f"Unknown backend '{kind}'; use embedded or neo4j.")
    be = open_backend(kind == "neo4j", home)
    try:
        yield be
    finally:
        be.close()


def run_file(
    path: str | os.PathLike[str], params: dict[str, Any] | None, backend: Backend, resolve_names: bool = False
) -> Rows:
    """Run the Cypher in the file at ``path`` (a header, if present, types the parameters)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such query file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as a text file ({exc.__class__.__name__}).") from None
    if not strip_statement(text).strip():
        raise InputError(f"{path}: holds no Cypher statement.")
    query = parse_query(text, str(path))
    bound = bind_params(query, params, resolve_names)
    rows = Rows()
    for statement in split_statements(text):  # a script of several statements: the last one's rows
        used = set(referenced_params(statement))
        rows = backend.run(strip_statement(statement), {k: v for k, v in bound.items() if k in used}, source=str(path))
    return rows


def neo4j_configured() -> bool:
    """Whether a Neo4j server is configured: ``NEO4J_URI`` is set in the environment."""
    return bool(os.environ.get("NEO4J_URI", "").strip())


def open_backend(
    neo4j: bool | None = False, home: str | os.PathLike[str] | None = None, warm: bool | None = None
) -> Backend:
    """Neo4j when ``neo4j`` is true, the embedded store of the workspace ``home`` when it is
    false; when it is None, Neo4j if one is configured (:func:`neo4j_configured`), else the
    embedded store.

    On the embedded store, the store's warm server (:mod:`graph_model.warm`) answers if one
    runs; ``warm`` true (or ``SGRAPH_WARM=1`` when it is None) starts one if none runs,
    ``warm`` false never uses one (a private server for this backend only)."""
    if neo4j is None:
        neo4j = neo4j_configured()
    if neo4j:
        if warm:
            raise UsageError("--warm is for the embedded store; add --embedded (Neo4j is a server already).")
        from .neo4j_store import Neo4jBackend

        return Neo4jBackend()
    from .warm import open_backend as open_warm
    from .workspace import EMBEDDED_DIR, home_dir

    store = home_dir(home) / EMBEDDED_DIR
    backend = open_warm(store, warm)
    if backend is not None:
        return backend
    from .embedded import EmbeddedBackend

    return EmbeddedBackend(store)
