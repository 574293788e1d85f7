"""Which review this is: its id, title, board, type and year, from the opening lines and text."""

from __future__ import annotations

import datetime as _dt
import re

from ..models import Document
from .layer import item_spans

_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("CSPR", re.compile(r"\b(?:local\s+)?child\s+safeguarding\s+practice\s+review\b|\bL?CSPR\b", re.I)),
    ("rapid review", re.compile(r"\brapid\s+review\b", re.I)),
    ("SILR", re.compile(r"\bserious\s+incident\s+learning\s+review\b|\bSILR\b", re.I)),
    ("SCR", re.compile(r"\bserious\s+case\s+review\b|\bSCR\b", re.I)),
    ("special practice review", re.compile(r"\bspecial\s+practice\s+review\b", re.I)),
    ("domestic homicide review", re.compile(r"\bdomestic\s+homicide\s+review\b|\bDHR\b", re.I)),
    ("safeguarding adults review", re.compile(r"\bsafeguarding\s+adults?\s+review\b", re.I)),
    ("learning summary", re.compile(r"\blearning\s+summary\b", re.I)),
    ("practice review", re.compile(r"\bpractice\s+review\b", re.I)),
    ("learning review", re.compile(r"\blearning\s+review\b|\bcase\s+review\b", re.I)),
    ("learning bulletin", re.compile(r"\b(?:learning|briefing)\s+(?:and\s+improvement\s+)?(?:bulletin|briefing|note)\b|\b7\s*minute\s+briefing\b", re.I)),
]

_CODE = re.compile(r"\b((?:[A-Z]{2,6}\d{1,4}[a-z]?)|(?:Child|Baby|Family|Young\s+Person|Sibling|Adult)\s+[A-Z]{1,2}\d{0,2})\b(?![a-z'\u2019])")
_YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
_DATE_LINE = re.compile(r"(?:completed|published|date|dated|issued)\b[^\n]{0,80}?\b(19[89]\d|20\d\d)\b", re.I)
_BOARD_FULL = re.compile(
    r"\b((?:[A-Z][\w'&\u2019-]*[ \t]+){1,4}Safeguarding[ \t]+(?:Children(?:'s|\u2019s)?[ \t]+|Adults[ \t]+)?(?:Board|Partnership|Partners))\b"
)
_BOARD_ACRONYM = re.compile(r"\b([A-Z]{1,4}SC[BP])\b")


def _title_lines(doc: Document, limit: int = 8) -> list[tuple[int, int]]:
    lines = []
    head = doc.text[:3000]
    for s, e in item_spans(head):
        if len(lines) >= limit:
            break
        lines.append((s, e))
    return lines


def _review_type(title_text: str, text: str) -> str:
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(title_text):
            return name
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(text[:4000]):
            return name
    return "learning review"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "review"


def extract_metadata(doc: Document) -> dict:
    """Review id, title, board, type and year from the document's opening lines and text."""
    lines = _title_lines(doc)
    title_area = [doc.text[s:e] for s, e in lines[:6] if e - s <= 160]
    title_text = "\n".join(title_area)
    code = None
    for line in title_area:
        m = _CODE.search(line)
        if m:
            code = re.sub(r"\s+", " ", m.group(1))
            break
    title = None
    for line in title_area:
        if code and code in line or any(p.search(line) for _, p in _TYPE_PATTERNS):
            title = line
            if code and code in line:
                break
    if title is None:
        title = title_area[0] if title_area else doc.name
    title = re.sub(r"\s+", " ", title).strip(" :\u2013-")
    review_id = code or _slug(doc.name.rsplit(".", 1)[0])

    board = None
    m = _BOARD_FULL.search(doc.text)
    if m:
        board = re.sub(r"\s+", " ", m.group(1))
        board = re.sub(r"^(?:The|A|By|Of|From|For)\s+", "", board)
    else:
        m = _BOARD_ACRONYM.search(doc.text)
        if m:
            board = m.group(1)

    this_year = _dt.date.today().year
    year = None
    for line in title_area:
        m = _YEAR.search(line)
        if m and int(m.group(1)) <= this_year:
            year = int(m.group(1))
            break
    if year is None:
        m = _DATE_LINE.search(doc.text[:3000])
        if m:
            year = int(m.group(1))
    if year is None:
        years = [int(y) for y in _YEAR.findall(doc.text) if int(y) <= this_year]
        year = max(years) if years else None
    return {
        "id": review_id,
        "title": title,
        "board": board,
        "review_type": _review_type(title_text, doc.text),
        "year": year,
    }
