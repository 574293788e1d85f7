"""``sgraph load`` and ``sgraph doctor``: the workspace's graph into Neo4j, and a connection check."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from ._app import HomeOption, app, err, out, progress_bar

# neo4j_store.DEFAULT_BATCH_SIZE, written out so that --help need not import the loader
# (and networkx): start-up time, commands/__init__.py. tests/test_startup.py checks they agree.
DEFAULT_BATCH_SIZE = 5000


@contextmanager
def _ctrl_c_between_batches() -> Iterator[dict]:
    """Ctrl-C stops the load after the batch being written commits, not inside the driver.

    A KeyboardInterrupt raised while the Neo4j driver is reading from its socket can break
    the driver's own clean-up (a traceback instead of one sentence), so the first Ctrl-C only
    sets a flag that the progress callback turns into KeyboardInterrupt between batches; a
    second Ctrl-C interrupts at once.
    """
    state = {"interrupted": False}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def first(_sig: int, _frame: object) -> None:
        state["interrupted"] = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


@app.command()
def load(
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", help="Rows per transaction."),
    wipe: bool = typer.Option(False, "--wipe", help="First delete everything with this project's labels."),
    prune: bool = typer.Option(False, "--prune", help="Also delete reviews that are in Neo4j but not in the graph."),
    home: Path = HomeOption,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Load the workspace's graph into Neo4j (NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD).

    Only reviews that are new or changed since the last load are written; loading twice
    changes nothing. Loads into one database take turns: a second one waits.

    Example: sgraph load --batch-size 500
    """
    from .. import neo4j_store, pipeline

    graph = pipeline.stored_graph(home)
    said: dict[str, bool] = {}  # "waiting": told the user it waits; "gave_up": Ctrl-C while waiting
    with progress_bar(quiet) as bar:
        task = bar.add_task("Loading into Neo4j", total=None)
        try:
            with _ctrl_c_between_batches() as ctrl_c:

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)
                    if ctrl_c["interrupted"]:
                        raise KeyboardInterrupt

                def waiting(message: str) -> None:
                    if not said.get("waiting"):
                        bar.console.print(message, markup=False)
                    said["waiting"] = True
                    if ctrl_c["interrupted"]:
                        said["gave_up"] = True
                        raise KeyboardInterrupt

                summary = neo4j_store.load(
                    graph, batch_size=batch_size, wipe=wipe, prune=prune, progress=progress, waiting=waiting
                )
        except KeyboardInterrupt:
            bar.stop()
            err.print(
                "Interrupted while waiting for the other load; nothing was written."
                if said.get("gave_up")
                else "Interrupted; the reviews being written are marked incomplete and the next 'sgraph load' redoes them.",
                markup=False,
            )
            raise SystemExit(130) from None
    nodes = sum(summary.node_counts.values())
    rels = sum(summary.relationship_counts.values())
    parts = [
        f"{len(summary.created)} review(s) created",
        f"{len(summary.updated)} updated",
        f"{len(summary.skipped)} unchanged and skipped",
    ]
    if prune:
        parts.append(f"{len(summary.pruned)} pruned")
    err.print(
        ("Wiped this project's data, then loaded: " if wipe else "Loaded: ")
        + ", ".join(parts)
        + f". Wrote {summary.nodes_written} nodes and {summary.relationships_written} relationships in "
        f"{summary.batches} transaction(s), {summary.seconds:.1f} s. Neo4j now holds {nodes} nodes and {rels} relationships.",
        markup=False,
    )


@app.command()
def doctor() -> None:
    """Check the Neo4j connection: reachable, password, database, version and constraints.

    Example: sgraph doctor
    """
    from .. import neo4j_store

    report = neo4j_store.doctor()
    yes = {True: "yes", False: "no"}
    out.print(f"Neo4j address:   {report.uri} (settings from {report.config_source})", markup=False)
    out.print(f"Reachable:       {yes[report.reachable]}", markup=False)
    out.print(f"Authenticated:   {yes[report.auth_ok]} (user {report.username})", markup=False)
    out.print(f"Database:        {report.database or '(server default)'}: {'found' if report.database_ok else 'not usable'}", markup=False)
    if report.server_version:
        out.print(f"Server:          Neo4j {report.server_version} {report.edition or ''}".rstrip(), markup=False)
    if report.database_ok:
        total = len(report.constraints_present) + len(report.constraints_missing)
        out.print(f"Constraints:     {len(report.constraints_present)} of {total} present", markup=False)
        if report.constraints_missing:
            out.print(
                f"                 missing: {', '.join(report.constraints_missing)} ('sgraph load' creates them)",
                markup=False,
            )
    if not report.ok:
        err.print(f"Error: {report.problem or 'Neo4j is not usable.'}", markup=False)
        raise SystemExit(1)
