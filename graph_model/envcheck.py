"""Settings read from the environment, checked before use: a value out of range is one
sentence naming the variable, never a traceback from deep inside a library."""

from __future__ import annotations

import math
import os
from urllib.parse import urlsplit

from .errors import DatabaseError

MAX_SECONDS = 7 * 24 * 3600  # a week: more is a typo, and some libraries overflow on it
DEFAULT_QUERY_TIMEOUT = 60.0  # seconds a query may run in the embedded store; SGRAPH_QUERY_TIMEOUT overrides it


def env_seconds(name: str, default: float, error: type[Exception] = DatabaseError) -> float:
    """``$name`` as a number of seconds above 0 and at most a week; ``default`` when unset."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise error(f"{name} must be a number of seconds above 0 and at most {MAX_SECONDS:,} (a week), not {text!r}.")
    return value


def query_timeout() -> float:
    """How long one query may run in the embedded store, cold or on a warm server
    (``SGRAPH_QUERY_TIMEOUT``, seconds)."""
    return env_seconds("SGRAPH_QUERY_TIMEOUT", DEFAULT_QUERY_TIMEOUT)


def check_neo4j_address(uri: str, shown: str) -> None:
    """A ``scheme://host[:port]`` the driver can use: a real port (1-65535), a host name of
    at most 253 characters, nothing after the port."""
    problem = ""
    try:
        parts = urlsplit(uri)
        port = parts.port  # raises ValueError for ":7687 extra", ":-1", ":99999"
        host = parts.hostname or ""
        if not host:
            problem = "it names no host"
        elif len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
            problem = "its host name is too long"
        elif any(c.isspace() for c in parts.netloc):
            problem = "it holds a space"
        elif port == 0:
            problem = "its port is 0"
    except ValueError as exc:
        problem = f"{str(exc).lower() or 'it cannot be parsed'}"
    if problem:
        raise DatabaseError(
            f"NEO4J_URI '{shown}' is not a usable Neo4j address ({problem}); use e.g. neo4j://localhost:7687."
        )
