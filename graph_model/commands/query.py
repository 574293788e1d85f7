"""``sgraph query``: the analysts' Cypher library, on the embedded store (default) or Neo4j."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from .. import queries
from ..errors import UsageError
from ..query_output import check_format, emit_rows, render, say, screen_width
from ._app import HomeOption, app

query_app = typer.Typer(
    name="query",
    help="Run the Cypher query library on the embedded store (default) or on Neo4j (--neo4j).\n\n"
    "Example: sgraph query run agency-learning --param agency=\"Health Visiting\"",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(query_app, name="query")

ParamOption = typer.Option(
    None, "--param", "-p", metavar="NAME=VALUE", help='A query parameter as name=value; repeat for several (e.g. --param agency="GP").'
)
FormatOption = typer.Option("table", "--format", "-f", help="table, csv or json.")
Neo4jOption = typer.Option(
    None,
    "--neo4j/--embedded",
    help="The Neo4j server (NEO4J_URI etc.) or the embedded store; by default Neo4j when NEO4J_URI is set, else the embedded store.",
    show_default=False,
)
WarmOption = typer.Option(
    None,
    "--warm/--cold",
    help="--warm: answer from the store's warm server, starting one if none runs (it stays for the next "
    "commands; see 'sgraph query serve'); --cold: a private server for this command only. By default a running "
    "warm server is used, else a private one ($SGRAPH_WARM=1 acts as --warm).",
    show_default=False,
)


@query_app.command("list")
def list_(format: str = FormatOption) -> None:
    """List the shipped queries with their parameters.

    Example: sgraph query list
    """
    fmt = check_format(format)
    emit_rows(queries.query_list_rows(), fmt)


@query_app.command("run")
def run(
    name: str = typer.Argument(..., metavar="NAME", help="The query's name (see 'sgraph query list')."),
    param: list[str] = ParamOption,
    format: str = FormatOption,
    neo4j: bool | None = Neo4jOption,
    home: Path = HomeOption,
    warm: bool | None = WarmOption,
) -> None:
    """Run one of the shipped queries.

    Example: sgraph query run reviews-sharing-theme --param theme="Information sharing" --format csv
    """
    fmt = check_format(format)
    params = queries.parse_param_args(param)
    queries.bind_params(queries.get_query(name), params, resolve_names=True)  # a usage error before any connection
    backend = queries.open_backend(neo4j, home, warm)
    try:
        rows = queries.run_query(name, params, backend, resolve_names=True)
    finally:
        backend.close()
    emit_rows(rows, fmt)


@query_app.command("file")
def file(
    path: Path = typer.Argument(..., metavar="FILE.cypher", help="A .cypher file (a '// params:' header types its parameters)."),
    param: list[str] = ParamOption,
    format: str = FormatOption,
    neo4j: bool | None = Neo4jOption,
    home: Path = HomeOption,
    warm: bool | None = WarmOption,
) -> None:
    """Run the Cypher in a file of your own.

    Example: sgraph query file my-query.cypher --param agency=GP --format json
    """
    fmt = check_format(format)
    params = queries.parse_param_args(param)
    backend = queries.open_backend(neo4j, home, warm)
    try:
        rows = queries.run_file(path, params, backend, resolve_names=True)
    finally:
        backend.close()
    emit_rows(rows, fmt)


@query_app.command("shell")
def shell(
    neo4j: bool | None = Neo4jOption,
    home: Path = HomeOption,
    format: str = FormatOption,
) -> None:
    """An interactive session on the store: run many queries, each answered in the engine's
    time (the store is opened once). Tab completes query names and parameters; :help lists
    the commands (:params, :param name=value, :format, :timing, NAME ... > rows.csv).
    Commands can also be piped in, one a line.

    Example: sgraph query shell
    """
    from ..query_shell import shell as run_shell

    fmt = check_format(format)

    def emit(rows: list[dict], fmt: str, fh: Any = None) -> None:
        if fh is not None:  # a file: a table is written as CSV
            fh.write(render(rows, "csv" if fmt == "table" else fmt))
        elif fmt == "table" and not rows:
            say("(no rows)")
        else:
            sys.stdout.write(render(rows, fmt, screen_width()))
            sys.stdout.flush()

    backend = queries.open_backend(neo4j, home)
    try:
        session_lines = None if sys.stdin.isatty() else sys.stdin
        run_shell(backend, session_lines, emit, say, format=fmt)
    finally:
        backend.close()


IdleOption = typer.Option(
    None, "--idle", metavar="SECONDS", help="Stop after this many seconds without a query (default: $SGRAPH_WARM_IDLE or 300)."
)


@query_app.command("serve")
def serve(home: Path = HomeOption, idle: float | None = IdleOption) -> None:
    """Keep the workspace's embedded store loaded in a warm server, so that the next
    'sgraph query run' calls answer without loading the store each time.
    It is private to you (a Unix socket in a folder only you can read), answers only while
    the store is the one it loaded (a rebuild stops it), and stops by itself after --idle
    seconds without a query, or when the shell or script that ran this command ends;
    'sgraph query stop' stops it now.

    Example: sgraph query serve --idle 600 && sgraph query run breakdown-agencies
    """
    from .. import warm
    from ..workspace import EMBEDDED_DIR, home_dir

    if idle is not None and not 0 < idle <= 7 * 24 * 3600:
        raise UsageError(f"--idle must be a number of seconds above 0 and at most 604,800 (a week), not {idle:g}.")
    store = home_dir(home) / EMBEDDED_DIR
    backend, started = warm.serve(store, idle)
    info = backend.info
    backend.close()
    if started:
        say(
            f"A warm server now holds {store} (pid {info['pid']}): query commands answer from it until it has been "
            f"idle {info['idle']:g} s, until the process that started it (pid {info['owner']}) ends, or until "
            "'sgraph query stop'."
        )
    else:
        say(
            f"A warm server already holds {store} (pid {info['pid']}, {info['requests']} quer"
            f"{'y' if info['requests'] == 1 else 'ies'} answered, stops after {info['idle']:g} s idle)."
        )


@query_app.command("stop")
def stop(home: Path = HomeOption) -> None:
    """Stop the warm server of the workspace's embedded store (see 'sgraph query serve').

    Example: sgraph query stop
    """
    from .. import warm
    from ..workspace import EMBEDDED_DIR, home_dir

    store = home_dir(home) / EMBEDDED_DIR
    if warm.stop(store):
        say(f"Stopped the warm server of {store}.")
    else:
        say(f"No warm server holds {store}.")
