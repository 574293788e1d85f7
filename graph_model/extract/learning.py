"""Learning points: the items of learning sections and learning tables, with their addressees."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..models import LearningPoint, Section
from .cues import LEARNING_FOR_ALL, all_addressee, not_a_finding
from .layer import PARTNERSHIP, Layer, strip_span

LEARNING_KIND_BY_SECTION = {
    "key_learning": "key_learning",
    "lessons_learned": "key_learning",
    "recommendations": "recommendation",
    "good_practice": "good_practice",
    "learning_taken": "learning_taken",
    "findings": "finding",
}
# Column headers of learning tables ("Good Practice | Learning Points") → kind.
_COLUMN_KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"good\s+practice|what\s+went\s+well|strengths", re.I), "good_practice"),
    (re.compile(r"recommendation|action", re.I), "recommendation"),
    (re.compile(r"learning|lessons|messages", re.I), "key_learning"),
    (re.compile(r"finding|concern|issue", re.I), "finding"),
]
# "Recommendation 3:", "Action 2 –", "R1." before the text of a recommendation.
_REC_LABEL = re.compile(r"^(?:recommendation|action|finding|learning\s+point)\s*\d{0,3}[a-z]?\s*[:.\u2013\u2014-]\s*|^R\d{1,3}[:.]\s*", re.I)
_MODAL_SUBJECT = re.compile(
    r"^(?P<subj>[^.;:\n]{2,90}?)\s+(?:should|must|shall|will|needs?\s+to|is\s+asked\s+to|are\s+asked\s+to|"
    r"is\s+required\s+to|are\s+required\s+to|to\s+(?:review|ensure|develop|consider|provide|establish|audit))\b",
    re.I,
)
_ADDRESSEE_PREFIX = re.compile(r"^(?:recommendation\s+(?:to|for)\s+)?(?P<who>[^\n:\u2013\u2014]{2,70}?)\s*(?:\s[-\u2013\u2014]\s|:\s)")


def _item_kind(layer: Layer) -> dict[int, str]:
    """Learning kind for each item index, from its section or its table column."""
    kinds: dict[int, str] = {}
    columns: list[str | None] | None = None
    table_section: Section | None = None
    last_kind: str | None = None
    in_form, form_section = False, None
    pos_to_item = {s: i for i, (s, _e) in enumerate(layer.items)}
    line_start = 0
    for line in layer.text.split("\n"):
        start = line_start
        line_start += len(line) + 1
        section = layer.section_at(start if line else max(0, start - 1))
        if section is not table_section:
            columns, last_kind = None, None
        if section is not form_section:
            in_form = False
        cells = line.split("\t")
        # A form question ("How will you audit the impact?<tab>answer") ends the
        # learning under the current heading: the rest is the form's other fields.
        if len(cells) >= 2 and columns is None and cells[0].strip().endswith("?"):
            in_form, form_section = True, section
        if in_form:
            continue
        stripped = [c.strip() for c in cells]
        non_empty = [c for c in stripped if c]
        # A header row: every non-empty cell names a kind of learning.
        if len(cells) >= 2 and non_empty and all(
            len(c) <= 40 and any(p.search(c) for p, _ in _COLUMN_KINDS) for c in non_empty
        ):
            columns = []
            for c in stripped:
                kind = next((k for p, k in _COLUMN_KINDS if p.search(c)), None) if c else None
                columns.append(kind)
            table_section = section
            last_kind = None
            continue
        cell_start = start
        for ci, cell in enumerate(cells):
            s, _e = strip_span(layer.text, cell_start, cell_start + len(cell))
            cell_start += len(cell) + 1
            idx = pos_to_item.get(s)
            if idx is None:
                continue
            kind = None
            if columns is not None and section is table_section:
                if len(cells) > 1:
                    # A table row: cells line up with the header from the left. Lines
                    # after the row (a list flattened out of a cell) belong to the
                    # column after the row's last cell, or to the last column.
                    kind = columns[ci] if ci < len(columns) else None
                    nxt = len(cells) if cells[-1].strip() else len(cells) - 1
                    last_kind = columns[min(nxt, len(columns) - 1)]
                else:
                    kind = last_kind
            if kind is None and columns is None and section is not None:
                kind = LEARNING_KIND_BY_SECTION.get(section.kind)
            if kind:
                kinds[idx] = kind
    return kinds

def _addressees(
    layer: Layer, item_text: str, item: int, involved: Iterable[str], for_all: bool = False, item_low: str | None = None
) -> tuple[list[str], bool]:
    if for_all or all_addressee(item_text, item_low):
        return sorted(involved), True
    label = _REC_LABEL.match(item_text)
    body = item_text[label.end() :] if label else item_text
    m = _ADDRESSEE_PREFIX.match(body)
    if m:
        who = m.group("who")
        matches = layer.tax.agency_matcher.find(who)
        covered = sum(x.end - x.start for x in matches)
        if matches and covered >= 0.5 * len(who.strip()):
            return sorted({x.name for x in matches}), False
    # "Police and children's social care should review …": the subject of the modal verb.
    m = _MODAL_SUBJECT.match(body)
    if m:
        matches = layer.tax.agency_matcher.find(m.group("subj"))
        if matches:
            return sorted({x.name for x in matches}), False
    names = []
    for u in layer.units_by_item.get(item, ()):
        for x in u.agencies:
            if layer.tax.sector(x.name) != PARTNERSHIP and x.name not in names:
                names.append(x.name)
    return sorted(names), False

def _learning_for_all_from(layer: Layer) -> int | None:
    """Where a statement that the following learning is for all agencies ends, if any."""
    # Every match holds "all" (any case): a sentence without it is skipped.
    low = layer.plain_low
    for u in layer.units:
        if u.section is not None and u.section.kind in LEARNING_KIND_BY_SECTION:
            continue
        if low is not None and low.find("all", u.start, u.end) < 0:
            continue
        if LEARNING_FOR_ALL.search(layer.text, u.start, u.end):
            return u.end
    return None

def learning_points(layer: Layer, review_id: str, involved: list[str]) -> list[LearningPoint]:
    kinds = _item_kind(layer)
    for_all_from = _learning_for_all_from(layer)
    points = []
    for idx, (s, e) in enumerate(layer.items):
        kind = kinds.get(idx)
        if not kind:
            continue
        text = layer.text[s:e]
        low = layer.plain_low[s:e] if layer.plain_low is not None else None
        if len(text.split()) < 4 or not_a_finding(text, low):
            continue
        for_all = for_all_from is not None and s >= for_all_from and kind == "key_learning"
        agencies, to_all = _addressees(layer, text, idx, involved, for_all, low)
        themes = []
        for u in layer.units_by_item.get(idx, ()):
            for t in u.themes:
                if t.name not in themes:
                    themes.append(t.name)
        points.append(
            LearningPoint(
                id=f"{review_id}/lp{len(points) + 1:03d}",
                text=text,
                kind=kind,
                themes=themes,
                agencies=agencies,
                all_agencies=to_all,
                case=layer.case_at(s),
                quote=text,
                evidence=layer.evidence(s, e),
            )
        )
    return points
