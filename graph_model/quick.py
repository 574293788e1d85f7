"""The quick path: ``sgraph query list`` and a ``sgraph query run`` that a warm server
answers, without importing the command-line framework.

Importing typer (and click under it) is most of a quick command's start-up: about 0.12 s
of the 0.2 s that ``sgraph --help`` takes on an idle machine, where the warm server answers
a query in milliseconds. So :func:`run` (called by the console script before anything else
is imported) handles exactly these two commands when their arguments are plain:

* ``query list [--format F]``;
* ``query run NAME [--param K=V]... [--format F] [--home DIR] [--embedded]`` when a warm
  server (:mod:`graph_model.warm`) holds the workspace's store as it is now.

Anything else — another option or spelling (``-pK=V``, ``--neo4j``, ``--cold``,
``--warm``, ``--help``), a usage error, no warm server, ``NEO4J_URI`` set without
``--embedded`` — returns None and the full command line handles it from the start, so every
message and exit code comes from one place. What this path does print is what the full
path prints (``tests/test_startup.py`` compares the two).
"""

from __future__ import annotations

import sys

_VALUED = {"--param": "param", "-p": "param", "--format": "format", "-f": "format", "--home": "home"}


def _parse_run(argv: list[str]) -> tuple[str, list[str], str, str | None, bool] | None:
    """NAME, params, format, home, --embedded of a plain 'query run' argument list, or None."""
    name: str | None = None
    params: list[str] = []
    fmt, home, embedded = "table", None, False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--embedded":
            embedded = True
            i += 1
            continue
        key, sep, value = arg.partition("=")
        if sep and key in ("--param", "--format", "--home"):
            i += 1
        elif arg in _VALUED and i + 1 < len(argv):
            key, value = arg, argv[i + 1]
            i += 2
        elif arg.startswith("-") or name is not None:
            return None
        else:
            name = arg
            i += 1
            continue
        what = _VALUED[key]
        if what == "param":
            params.append(value)
        elif what == "format":
            fmt = value
        else:
            if not value:
                return None
            home = value
    if name is None:
        return None
    return name, params, fmt, home, embedded


def _query_list(argv: list[str]) -> int | None:
    from . import queries
    from .query_output import FORMATS, emit_rows

    fmt = "table"
    if argv:
        if len(argv) == 2 and argv[0] in ("--format", "-f"):
            fmt = argv[1]
        elif len(argv) == 1 and argv[0].startswith("--format="):
            fmt = argv[0].partition("=")[2]
        else:
            return None
    if fmt not in FORMATS:
        return None
    emit_rows(queries.query_list_rows(), fmt)
    return 0


def _query_run(argv: list[str]) -> int | None:
    parsed = _parse_run(argv)
    if parsed is None:
        return None
    name, param_args, fmt, home, embedded = parsed
    from . import queries, warm
    from .errors import SgraphError
    from .query_output import FORMATS, emit_rows

    if fmt not in FORMATS or (not embedded and queries.neo4j_configured()):
        return None
    from .workspace import EMBEDDED_DIR, home_dir

    backend = warm.connect(home_dir(home) / EMBEDDED_DIR)  # at once None when no warm server runs
    if backend is None:
        return None
    try:
        params = queries.parse_param_args(param_args)
        queries.bind_params(queries.get_query(name), params, resolve_names=True)
    except SgraphError:  # the full command line says it
        backend.close()
        return None
    try:
        rows = queries.run_query(name, params, backend, resolve_names=True)
    finally:
        backend.close()
    emit_rows(rows, fmt)
    return 0


def run(argv: list[str]) -> int | None:
    """The exit code of ``sgraph ARGV`` when the quick path handled it, else None."""
    if argv[:2] == ["query", "list"]:
        handler = _query_list
    elif argv[:2] == ["query", "run"]:
        handler = _query_run
    else:
        return None
    from .errors import SgraphError
    from .reaper import sigterm_as_interrupt
    from .terminal import tolerant_streams

    tolerant_streams()
    try:
        with sigterm_as_interrupt():  # as the full command line: SIGTERM stops it as Ctrl-C does
            return handler(argv[2:])
    except SgraphError as exc:
        sys.stderr.write(f"Error: {exc.message}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted; nothing was written.\n")
        return 130
    except OSError as exc:  # e.g. the reader of a pipe went away
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"Error: {where}{exc.strerror or exc} (a system error; nothing was replaced).\n")
        return 1
