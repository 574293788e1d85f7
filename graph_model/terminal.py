"""The terminal the command writes to (light: the CLI's entry and the quick path import it)."""

from __future__ import annotations

import sys


def tolerant_streams() -> None:
    """A terminal that cannot show a character (``PYTHONIOENCODING=ascii``, a C locale)
    gets "?" for it instead of the command dying with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding not in ("utf8", "utf8sig") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):  # pragma: no cover - a stream that cannot change
                pass
