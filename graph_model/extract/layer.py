"""The shared layer of extraction: a document's items, sentences and clauses, and the
taxonomy's mentions (agencies, family roles, themes) bucketed into sentences.

Every rule module (metadata, mentions, learning, missed, links) reads one :class:`Layer`;
none reads the document again. Every span is a span of ``Document.text``, so a fact's quote
is ``text[start:end]`` verbatim.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from ..models import Document, Evidence, Section
from ..taxonomy import Match, Taxonomy, case_plain
from .cues import Cues, cues_of

PARTNERSHIP = "partnership"
# Evidence sentences kept per agency, family member or theme of a review (all are counted).
MAX_EVIDENCE = 5

class Unit:
    """One sentence: its span, section, case, item, and the taxonomy matches inside it.

    A plain class with slots rather than a dataclass: a review has thousands of sentences,
    and a dataclass's generated ``__init__`` (with three list factories) was about a twentieth
    of extraction."""

    __slots__ = ("start", "end", "section", "case", "item", "agencies", "roles", "themes")

    def __init__(self, start: int, end: int, section: Section | None, case: str | None, item: int) -> None:
        self.start = start
        self.end = end
        self.section = section
        self.case = case
        self.item = item  # index of the item (line / cell / list entry) this sentence belongs to
        self.agencies: list[Match] = []
        self.roles: list[Match] = []
        self.themes: list[Match] = []

    def __repr__(self) -> str:
        return f"Unit(start={self.start}, end={self.end}, item={self.item})"

    def text(self, doc: Document) -> str:
        return doc.text[self.start : self.end]


_TERMINAL = re.compile(r"[.!?]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u2019\u201d)]*\s+(?=[\"'\u2018\u201c(]?[A-Z0-9])")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|Dr|Mr|Mrs|Ms|No|St|vs|approx|incl)\.|(?<![\w&])[A-Z]\.)$")
_BULLET = re.compile(r"(?:[-\u2013\u2014\u2022\u00b7*]\s*|\d{1,2}(?:\.\d{1,2})+\.?\s+|\(?\d{1,2}[.)]\s+|\(?[a-z][.)]\s+|[ivx]{1,4}[.)]\s+)")


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\r\n\u00a0-\u2013\u2014\u2022\u00b7*":
        start += 1
    m = _BULLET.match(text, start, end)
    if m:
        start = m.end()
    while start < end and text[start] in " \t\u00a0":
        start += 1
    while end > start and text[end - 1] in " \t\r\n\u00a0":
        end -= 1
    return start, end


# Every match of _INLINE_BULLET (below) is a bullet or dash followed by white space: a cell
# without such a pair has no inline list (a hyphen inside "multi-agency" is no mark).
_LIST_MARK_SPACE = re.compile("[\u2022\u25cf\u25aa\u00b7\u2013\u2014-]\\s")
_INLINE_BULLET = re.compile(r"(?:(?<=\s)|^)[\u2022\u25cf\u25aa\u00b7]\s+|(?:(?<=\s)|^)[\u2013\u2014-]\s+(?=[A-Z\u2018'\"(])")


def _split_inline_list(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A cell holding a flattened list ("• a • b", "– A – B") → one span per entry.

    Bullet dots always separate entries; dashes only when the cell starts with one or holds
    two or more (so a single "Review – Child X" stays whole).
    """
    if not _LIST_MARK_SPACE.search(text, start, end):  # no bullet or dash before a space
        return [(start, end)]
    marks = list(_INLINE_BULLET.finditer(text, start, end))
    if not marks:
        return [(start, end)]
    head = text[start : marks[0].start()].strip()
    dashes = [m for m in marks if m.group(0)[0] in "\u2013\u2014-"]
    if len(dashes) < 2 and head and not any(m.group(0)[0] not in "\u2013\u2014-" for m in marks):
        return [(start, end)]
    spans = []
    cur = start
    for m in marks:
        if m.group(0)[0] in "\u2013\u2014-" and len(dashes) < 2 and head:
            continue
        spans.append((cur, m.start()))
        cur = m.start()
    spans.append((cur, end))
    return spans


def item_spans(text: str) -> list[tuple[int, int]]:
    """Lines, tab-separated cells and inline list entries, stripped of bullets and numbering."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        cell_start = line_start
        for cell in line.split("\t"):
            for a, b in _split_inline_list(text, cell_start, cell_start + len(cell)):
                s, e = strip_span(text, a, b)
                if e > s:
                    spans.append((s, e))
            cell_start += len(cell) + 1
    return spans


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences inside ``text[start:end]``."""
    if not _TERMINAL.search(text, max(start - 1, 0), end):
        # No ".", "!" or "?" (the one before ``start`` included, which the sentence end's
        # lookbehind can see): one sentence, without running the sentence-end pattern.
        s, e = strip_span(text, start, end)
        return [(s, e)] if e > s else []
    spans = []
    cur = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if _ABBREV.search(text, max(cur, m.start() - 8), m.start()):
            continue
        s, e = strip_span(text, cur, m.start())
        if e > s:
            spans.append((s, e))
        cur = m.end()
    s, e = strip_span(text, cur, end)
    if e > s:
        spans.append((s, e))
    return spans


def _bucket(matches: list[Match], units: list[Unit], attr: str) -> None:
    starts = [u.start for u in units]
    for m in matches:
        i = bisect.bisect_right(starts, m.start) - 1
        if i >= 0 and units[i].start <= m.start and m.end <= units[i].end:
            getattr(units[i], attr).append(m)


_NO_BEFORE = re.compile(r"\bno\s+(?:\w+\s+)?$")


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class Layer:
    """One document cut into items and sentences, with the taxonomy's mentions in each."""

    def __init__(self, doc: Document, tax: Taxonomy):
        self.doc = doc
        self.tax = tax
        self.cues: Cues = cues_of(tax)
        self.text = doc.text
        low = self.text.lower()
        # The lower-cased text, where lower-casing keeps every offset (each character stays
        # one character), for substring tests on a span: ``low.find(w, s, e)`` then finds an
        # ASCII ``w`` exactly where ``text[s:e].lower()`` holds it.
        self.low: str | None = low if len(low) == len(self.text) else None
        # The same where the lower-case twins of the cue patterns may scan it.
        self.plain_low: str | None = self.low if self.low is not None and case_plain(self.text) else None
        self._section_starts = [s.start for s in doc.sections]
        self.heading_ends = {s.start: s.start + len(s.heading) for s in doc.sections if s.heading}
        self.cases = self._cases()
        self._case_starts = [start for _name, start, _end in self.cases]
        self.items = self._items()
        self.units = self._units()
        self.units_by_item: dict[int, list[Unit]] = {}
        for u in self.units:
            self.units_by_item.setdefault(u.item, []).append(u)
        self._unit_starts = [u.start for u in self.units]
        all_agency = tax.agency_matcher.find(self.text)
        all_roles = [m for m in tax.role_matcher.find(self.text) if not self._negated(m)]
        all_themes = tax.theme_matcher.find(self.text)
        _bucket(all_agency, self.units, "agencies")
        _bucket(all_roles, self.units, "roles")
        _bucket(all_themes, self.units, "themes")
        self._evidence: dict[tuple[int, int], Evidence] = {}
        self._agencies_in: dict[int, list[Match]] = {}
        # Sentences whose one-ended breakdown was told by the sentence before (links.py).
        self.consumed: set[int] = set()
        # Per sentence that is a breakdown: the agency that missed the opportunity (links.py).
        self.missed_by: dict[int, str] = {}
        # The sentences that report a finding against an agency (links.py), once asked for.
        self.blamed: list[int] | None = None

    # -- structure ------------------------------------------------------------------------
    def _cases(self) -> list[tuple[str, int, int]]:
        cases = [s for s in self.doc.sections if s.kind == "case"]
        if len(cases) < 2:
            return []
        result = []
        for i, s in enumerate(cases):
            end = cases[i + 1].start if i + 1 < len(cases) else len(self.text)
            result.append((s.heading.strip(" :"), s.start, end))
        return result

    def case_at(self, pos: int) -> str | None:
        i = bisect.bisect_right(self._case_starts, pos) - 1
        if i >= 0:
            name, start, end = self.cases[i]
            if start <= pos < end:
                return name
        return None

    def section_at(self, pos: int) -> Section | None:
        """The section containing ``pos`` (sections are contiguous and ordered)."""
        i = bisect.bisect_right(self._section_starts, pos) - 1
        while i >= 0:
            section = self.doc.sections[i]
            if section.start <= pos < section.end:
                return section
            i -= 1
            if i >= 0 and self.doc.sections[i].end <= pos:
                break
        return None

    def _is_heading(self, start: int, end: int) -> bool:
        """Whether the item is (inside) a section heading line."""
        i = bisect.bisect_right(self._section_starts, start) - 1
        if i < 0:
            return False
        hs = self.doc.sections[i].start
        he = self.heading_ends.get(hs)
        return he is not None and hs <= start and end <= he + 1

    def _items(self) -> list[tuple[int, int]]:
        return [(s, e) for s, e in item_spans(self.text) if not self._is_heading(s, e)]

    def _units(self) -> list[Unit]:
        units = []
        text, sections, starts = self.text, self.doc.sections, self._section_starts
        case_at = self.case_at if self.cases else None
        for index, (s, e) in enumerate(self.items):
            for ss, se in sentence_spans(text, s, e):
                # section_at's first test, inline (the section starting last at or before
                # ``ss`` nearly always holds it); section_at itself otherwise.
                i = bisect.bisect_right(starts, ss) - 1
                section = sections[i] if i >= 0 and sections[i].start <= ss < sections[i].end else self.section_at(ss)
                units.append(Unit(ss, se, section, case_at(ss) if case_at else None, index))
        return units

    def unit_index(self, unit: Unit) -> int:
        """The position of ``unit`` in :attr:`units`."""
        return bisect.bisect_left(self._unit_starts, unit.start)

    def _negated(self, m: Match) -> bool:
        before = self.text[max(0, m.start - 12) : m.start].lower()
        return bool(_NO_BEFORE.search(before))

    def agencies_in(self, u: Unit) -> list[Match]:
        """The agencies a sentence names, the partnership (the review's author) left out."""
        if not u.agencies:
            return u.agencies
        found = self._agencies_in.get(u.start)
        if found is None:
            sector = self.tax.sector
            found = self._agencies_in[u.start] = [m for m in u.agencies if sector(m.name) != PARTNERSHIP]
        return found

    def evidence(self, start: int, end: int) -> Evidence:
        # Evidence is frozen: the agencies, roles and themes of one sentence share one object
        # (and one copy of its quote) instead of one each.
        found = self._evidence.get((start, end))
        if found is not None:
            return found
        section = self.section_at(start)
        raw_start, raw_end = self.doc.raw_span(start, end)
        found = self._evidence[(start, end)] = Evidence(
            quote=self.text[start:end],
            start=start,
            end=end,
            section=section.kind if section else "other",
            raw_start=raw_start,
            raw_end=raw_end,
        )
        return found
