"""The one result type of a Cypher query, whichever engine ran it."""

from __future__ import annotations

from collections.abc import Iterable


class Rows(list):
    """A query's rows, each a dict from column name to a plain Python value (str, int, float,
    bool, None, lists and dicts of those; a node or relationship as a dict with ``_label`` or
    ``_type``), in the order the engine returned them. ``columns`` names the columns in
    order, so an empty result still has them (a CSV of no rows keeps its header)."""

    def __init__(self, rows: Iterable[dict] = (), columns: Iterable[str] | None = None):
        super().__init__(rows)
        if columns is None:
            columns = list(self[0]) if self else []
        self.columns: list[str] = list(columns)


# Values both engines' drivers already give as plain Python. Each backend's result
# conversion checks these first: a query's rows are mostly such values, and the imports and
# isinstance tests after them cost ~3 µs a value (12,600 values took 45 ms at 2,000 reviews).
PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
