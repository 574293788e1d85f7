"""Reading Cypher text: where the code is, outside strings, backticks and comments; and
where the shipped ``.cypher`` files are.

Shared by the query library (which parameters a query uses) and the Neo4j store (splitting
a script into statements, its schema and totals scripts), so both agree on what is code,
and neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError

SCHEMA_FILE = "schema.cypher"
# Neo4j's recount of the totals (docs/schema.md): in a subfolder, so not an analyst's query.
TOTALS_FILE = ("totals", "recount.cypher")


def code_positions(text: str) -> Iterator[int]:
    """Indices of the characters of ``text`` that are Cypher code: not inside a string
    literal, a backtick-quoted name, or a ``//`` / ``/* */`` comment."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" and c != "`" else 1
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            yield i
            i += 1


def split_statements(text: str) -> list[str]:
    """The statements of a Cypher script (split on ``;`` outside strings and comments), comments kept."""
    out: list[str] = []
    start = 0
    for i in code_positions(text):
        if text[i] == ";":
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [s.strip() for s in out if _has_code(s)]


def _has_code(statement: str) -> bool:
    return any(line.strip() and not line.strip().startswith("//") for line in statement.splitlines())


def library_dir() -> Path | Any:
    """The folder holding the shipped ``.cypher`` files: beside the code (an installed wheel
    ships ``cypher/`` as ``graph_model/cypher_library``; a checkout has it one level up),
    else wherever the package ``graph_model.cypher_library`` is (importlib.resources,
    imported only then: it costs start-up)."""
    here = Path(__file__).resolve().parent
    for folder in (here / "cypher_library", here.parent / "cypher"):
        if (folder / SCHEMA_FILE).is_file():
            return folder
    try:
        from importlib.resources import files

        found = files("graph_model.cypher_library")
        if found.joinpath(SCHEMA_FILE).is_file():
            return found
    except (ModuleNotFoundError, TypeError, ValueError):
        pass
    raise InputError("the Cypher query library (cypher/) is missing from this installation.")


def totals_cypher_text() -> str:
    """The text of ``cypher/totals/recount.cypher``."""
    return library_dir().joinpath(*TOTALS_FILE).read_text(encoding="utf-8")


def schema_cypher_text() -> str:
    """The text of ``cypher/schema.cypher``."""
    return library_dir().joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
