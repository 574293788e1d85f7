"""Shared fixtures.

``neo4j_backend``: a :class:`graph_model.neo4j_store.Neo4jBackend` for the server named by
``NEO4J_URI`` / ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD`` / ``NEO4J_DATABASE`` (for example
``eval "$(scripts/neo4j-dev-server env)"``). Without ``NEO4J_URI`` the tests that use it are
skipped with a one-line reason, except in CI (``CI=true``), where they fail: CI must run
them against a real server. Tests using it delete and reload this project's labels (only
those, see graph_model/schema.py) in that database, so point it at a throwaway server.
"""

from __future__ import annotations

import os

import pytest


def _neo4j_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the Neo4j tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def neo4j_backend():
    """A connected Neo4jBackend (skips without NEO4J_URI; fails instead when CI=true)."""
    if not os.environ.get("NEO4J_URI"):
        _neo4j_missing("NEO4J_URI is not set; start a server with scripts/neo4j-dev-server start")
    from graph_model.errors import DatabaseError
    from graph_model.neo4j_store import Neo4jBackend

    try:
        backend = Neo4jBackend()
        backend.check_connection()
    except DatabaseError as exc:
        # NEO4J_URI is set, so a server was meant to be there: that is a failure, not a skip.
        pytest.fail(f"NEO4J_URI is set but Neo4j is not usable: {exc}", pytrace=False)
    yield backend
    backend.close()
