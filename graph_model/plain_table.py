"""Query rows as a text table, drawn without rich.

``sgraph query list`` and ``query run`` print tables; importing rich for them cost a
third of the command's start-up (about 0.09 s of 0.28 s), so the table is drawn here, in
the same box style rich used (a heavy header, light body)::

    ┏━━━━━━━━━━━━━┳━━━━━━━━┓
    ┃ agency      ┃ breaks ┃
    ┡━━━━━━━━━━━━━╇━━━━━━━━┩
    │ Health      │ 3      │
    └─────────────┴────────┘

Given a width (a terminal's), the widest columns are wrapped at spaces (a word longer than
its column is folded) until the table fits, as rich did; without one (output piped to a
file or a program), every row is one line. Values are untrusted text: control characters
are shown as ``?`` (no escape sequence reaches the terminal), a tab as a space, and a line
break starts a new line inside the cell.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

_MIN_COLUMN = 4  # narrower than this, a column is no longer readable: the table overflows instead


_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # can make text read as other text


def _safe(ch: str) -> str:
    if ch == "\n":
        return ch
    if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI:  # controls (ESC ...), lone surrogates
        return "?"
    return ch


def _clean(text: str) -> list[str]:
    """A cell's text as its lines, with control characters made harmless."""
    if text.isascii() and text.isprintable():
        return [text]
    text = text.replace("\r\n", "\n").replace("\t", " ")
    return "".join(_safe(ch) for ch in text).split("\n")


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """How many terminal columns ``text`` (one line) takes."""
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


def _fold(word: str, limit: int) -> list[str]:
    pieces, current, used = [], "", 0
    for ch in word:
        w = _char_width(ch) if not ch.isascii() else 1
        if used + w > limit and current:
            pieces.append(current)
            current, used = "", 0
        current += ch
        used += w
    pieces.append(current)
    return pieces


def wrap(line: str, limit: int) -> list[str]:
    """``line`` broken at spaces into lines of at most ``limit`` columns."""
    if width(line) <= limit:
        return [line]
    lines: list[str] = []
    current, used = "", 0
    for word in line.split(" "):
        w = width(word)
        if current and used + 1 + w <= limit:
            current += " " + word
            used += 1 + w
            continue
        if current or used:
            lines.append(current)
        if w > limit:
            *full, current = _fold(word, limit)
            lines.extend(full)
            used = width(current)
        else:
            current, used = word, w
    lines.append(current)
    return lines


def _fit(natural: list[int], available: int) -> list[int]:
    """Column widths that fit in ``available`` columns: the widest are narrowed first."""
    if sum(natural) <= available:
        return natural
    low, high = _MIN_COLUMN, max(natural)
    while low < high:  # the largest cap under which every column fits
        cap = (low + high + 1) // 2
        if sum(min(n, cap) for n in natural) <= available:
            low = cap
        else:
            high = cap - 1
    widths = [min(n, low) for n in natural]
    spare = available - sum(widths)
    for i, n in enumerate(natural):  # what is left goes to the columns that were cut
        if spare <= 0:
            break
        if n > widths[i]:
            extra = min(spare, n - widths[i])
            widths[i] += extra
            spare -= extra
    return widths


HEAVY_HEAD = ("┏━┳┓", "┃", "┡━╇┩", "│", "└─┴┘")
ASCII = ("+-++", "|", "+=++", "|", "+-++")  # for a terminal that cannot show the box characters


def render(
    columns: Sequence[str], rows: Sequence[Sequence[str]], max_width: int | None = None, box: tuple = HEAVY_HEAD
) -> str:
    """The table of ``rows`` (each a sequence of cell texts, in ``columns`` order), at most
    ``max_width`` columns wide when given, drawn with ``box`` (HEAVY_HEAD or ASCII)."""
    head = [_clean(c) for c in columns]
    body = [[_clean(cell) for cell in row] for row in rows]
    natural = [max(width(line) for line in cell) for cell in head]
    for row in body:
        for i, cell in enumerate(row):
            for line in cell:
                w = width(line)
                if w > natural[i]:
                    natural[i] = w
    natural = [max(1, n) for n in natural]
    widths = natural if max_width is None else _fit(natural, max_width - 3 * len(columns) - 1)

    def lines_of(cells: list[list[str]], bar: str) -> list[str]:
        wrapped = [[piece for line in cell for piece in wrap(line, widths[i])] for i, cell in enumerate(cells)]
        height = max(len(w) for w in wrapped)
        out = []
        for k in range(height):
            parts = []
            for i, cell in enumerate(wrapped):
                text = cell[k] if k < len(cell) else ""
                parts.append(text + " " * (widths[i] - width(text)))
            out.append(f"{bar} " + f" {bar} ".join(parts) + f" {bar}")
        return out

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    top, head_bar, under_head, bar, bottom = box
    out = [rule(*top), *lines_of(head, head_bar), rule(*under_head)]
    for row in body:
        out.extend(lines_of(row, bar))
    out.append(rule(*bottom))
    return "\n".join(out) + "\n"
