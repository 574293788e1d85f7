"""Reading Cypher text: where the code is, outside strings, backticks and comments.

Shared by the query library (which parameters a query uses) and the Neo4j store (splitting
a script into statements), so both agree on what is code.
"""

from __future__ import annotations

from collections.abc import Iterator


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
