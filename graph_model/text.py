"""Small helpers for showing review text in reports: shortened to one line, or made inert
in Markdown. Shared by the maps, the exports, the insights and the review queue."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def shorten(text: object, limit: int) -> str:
    """``text`` on one line (runs of white space as one space), cut to at most ``limit``
    characters with an ellipsis; None is the empty string."""
    text = " ".join(("" if text is None else str(text)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def markdown_inline(text: str) -> str:
    """Document text made inert in Markdown: one line, special characters escaped (safe in a
    table cell too)."""
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", str(text)).strip())
