"""How query rows are shown: a text table, CSV or JSON (``sgraph query run``, ``query file``,
``query shell`` and the quick path of :mod:`graph_model.quick`). Standard library only, so
that showing rows costs no start-up."""

from __future__ import annotations

import sys
from typing import Any

from .errors import UsageError

FORMATS = ("table", "csv", "json")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format '{fmt}'; use table, csv or json.")
    return fmt


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "; ".join(cell(v) for v in value)
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def render(rows: list[dict], fmt: str, width: int | None = None) -> str:
    """Rows as a text table (at most ``width`` columns wide when given), CSV text or JSON text."""
    if fmt == "json":
        import json

        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    columns = getattr(rows, "columns", None) or (list(rows[0]) if rows else [])
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(row.get(c)) for c in columns])
        return buf.getvalue()
    from .plain_table import ASCII, HEAVY_HEAD
    from .plain_table import render as table

    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    box = ASCII if encoding and not encoding.startswith("utf") else HEAVY_HEAD  # a C locale, PYTHONIOENCODING=ascii ...
    return table(columns, [[cell(row.get(c)) for c in columns] for row in rows], width, box)


def screen_width() -> int | None:
    """The terminal's width when the rows go to one; None (no limit) when piped or captured."""
    if not sys.stdout.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns  # $COLUMNS, else the terminal's own


def say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def emit_rows(rows: list[dict], fmt: str) -> None:
    if fmt == "table" and not rows:
        say("(no rows)")
        return
    sys.stdout.write(render(rows, fmt, screen_width()))
    sys.stdout.flush()
    if fmt == "table":
        say(f"{len(rows)} row(s).")
