"""Agency exports: everything one agency must learn, across all reviews, with citations.

``agency_learning(graph, agency)`` gathers, from a graph in the form built by
:mod:`graph_model.build` (embedded store or Neo4j, read back as a networkx ``MultiDiGraph``):

* the learning points addressed to the agency (those addressed to all agencies are marked
  ``addressed_to_all``), split by kind, recommendations separately;
* the missed opportunities attributed to it (``MISSED_BY``);
* its communication links, with the counterpart agency, direction and status;

each item citing its review (id, title, year, source file), section and verbatim quote,
grouped by theme ("General" for items without a theme). ``export_agency`` and
``export_agencies`` write it as Markdown, self-contained HTML, CSV, JSON (schema:
``graph_model/data/agency_export.schema.json``) or Word .docx. ``docs/export.md`` describes
the formats.

Placement rule: an item appears once, under the one of its themes that is most common among
this agency's items (ties: alphabetical); its other themes are listed with it.
Everything is sorted, so the same graph gives the same export whatever store it came from.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Literal

import networkx as nx
from pydantic import BaseModel, Field

from .build import short_name
from .errors import OutputError, UsageError
from .outpath import check_out_file, check_out_folder
from .taxonomy import Taxonomy, load_taxonomy
from .text import markdown_inline

FORMAT_NAME = "sgraph-agency-export"
INDEX_FORMAT_NAME = "sgraph-agency-export-index"
FORMAT_VERSION = 1
FORMATS: tuple[str, ...] = ("md", "html", "csv", "json", "docx")
SUFFIXES = {"md": ".md", "html": ".html", "csv": ".csv", "json": ".json", "docx": ".docx"}
GENERAL = "General"
TOP_THEMES = 10
SCHEMA_FILE = "agency_export.schema.json"

ItemKind = Literal[
    "recommendation",
    "key_learning",
    "finding",
    "good_practice",
    "learning_taken",
    "missed_opportunity",
    "communication",
]
KIND_ORDER: tuple[str, ...] = (
    "recommendation",
    "key_learning",
    "finding",
    "good_practice",
    "learning_taken",
    "missed_opportunity",
    "communication",
)
KIND_HEADINGS = {
    "recommendation": "Recommendations",
    "key_learning": "Key learning",
    "finding": "Findings",
    "good_practice": "Good practice",
    "learning_taken": "Learning already taken",
    "missed_opportunity": "Missed opportunities",
    "communication": "Communication links",
}
KIND_LABELS = {
    "recommendation": "Recommendation",
    "key_learning": "Key learning",
    "finding": "Finding",
    "good_practice": "Good practice",
    "learning_taken": "Learning already taken",
    "missed_opportunity": "Missed opportunity",
    "communication": "Communication link",
}

# CSV columns, in order (documented in docs/export.md).
CSV_COLUMNS: tuple[str, ...] = (
    "agency",
    "theme",
    "other_themes",
    "kind",
    "addressed_to_all",
    "text",
    "counterpart",
    "direction",
    "status",
    "review_id",
    "review_title",
    "year",
    "source",
    "section",
    "quote",
    "start",
    "end",
    "item_id",
)


# ---------------------------------------------------------------------------------------
# The model


class Citation(BaseModel):
    """Where an item comes from: the review, the section and the verbatim quote."""

    review_id: str
    review_title: str
    year: int | None
    source: str
    section: str
    quote: str
    start: int | None = None
    end: int | None = None


class ExportItem(BaseModel):
    """One learning point, missed opportunity or communication link."""

    id: str
    kind: ItemKind
    text: str
    addressed_to_all: bool = False
    themes: list[str] = Field(default_factory=list)  # the group's theme first, then the others
    counterpart: str | None = None  # communication links only
    direction: Literal["to", "from", "between"] | None = None  # from this agency's point of view
    status: Literal["broken", "effective"] | None = None
    citation: Citation


class KindGroup(BaseModel):
    kind: ItemKind
    heading: str
    items: list[ExportItem]


class ThemeGroup(BaseModel):
    theme: str
    description: str = ""
    items: int
    groups: list[KindGroup]


class NameCount(BaseModel):
    name: str
    count: int


class Years(BaseModel):
    first: int | None
    last: int | None


class Summary(BaseModel):
    reviews: int  # reviews that the items cite
    reviews_involving: int  # reviews that name the agency at all (INVOLVES)
    years: Years  # of the cited reviews
    items: int
    by_kind: dict[str, int]  # every kind, in KIND_ORDER, zero included
    addressed_to_all: int
    top_themes: list[NameCount]  # items per theme (an item counts once for each of its themes)
    broken_link_counterparts: list[NameCount]


class ReviewRef(BaseModel):
    id: str
    title: str
    year: int | None
    source: str


class AgencyLearning(BaseModel):
    """Everything one agency must learn, across all reviews, with citations."""

    format: Literal["sgraph-agency-export"] = FORMAT_NAME
    version: Literal[1] = FORMAT_VERSION
    agency: str
    sector: str
    summary: Summary
    reviews: list[ReviewRef]
    themes: list[ThemeGroup]

    def all_items(self) -> list[ExportItem]:
        """Every item once, in the export's order."""
        return [item for tg in self.themes for kg in tg.groups for item in kg.items]


def load_schema() -> dict:
    """The JSON Schema of the JSON export (``graph_model/data/agency_export.schema.json``)."""
    return json.loads(
        resources.files("graph_model").joinpath("data", SCHEMA_FILE).read_text(encoding="utf-8")
    )


# ---------------------------------------------------------------------------------------
# Gathering


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("\u2019", "'").strip()).lower()


def resolve_agency(graph: nx.MultiDiGraph, name: str, taxonomy: Taxonomy | None = None) -> str:
    """The canonical agency name for ``name``: an agency in the graph, or any taxonomy alias.

    Raises :class:`UsageError` suggesting the closest canonical names when unknown.
    """
    if not name or not name.strip():
        raise UsageError(
            "Give an agency name, e.g. 'Health Visiting' or 'HV'; run 'sgraph taxonomy' to list agencies."
        )
    wanted = _norm(name)
    for _n, d in graph.nodes(data=True):
        if d.get("label") == "Agency" and _norm(str(d.get("name", ""))) == wanted:
            return str(d["name"])
    return (taxonomy or load_taxonomy()).resolve_agency(name)


def _review(graph: nx.MultiDiGraph, review_id: str) -> ReviewRef:
    d = graph.nodes.get(f"Review:{review_id}", {})
    year = d.get("year")
    return ReviewRef(
        id=review_id,
        title=str(d.get("title") or ""),
        year=int(year) if year is not None else None,
        source=str(d.get("source") or ""),
    )


def _int_or_none(value: object) -> int | None:
    return int(value) if value is not None else None  # type: ignore[arg-type]


def _citation(review: ReviewRef, props: dict) -> Citation:
    return Citation(
        review_id=review.id,
        review_title=review.title,
        year=review.year,
        source=review.source,
        section=str(props.get("section") or ""),
        quote=str(props.get("quote") or ""),
        start=_int_or_none(props.get("start")),
        end=_int_or_none(props.get("end")),
    )


def _themes_of(graph: nx.MultiDiGraph, node: str) -> list[str]:
    names = set()
    for _u, v, d in graph.out_edges(node, data=True):
        if d.get("type") == "ABOUT_THEME":
            names.add(str(graph.nodes[v].get("name") or v.split(":", 1)[-1]))
    return sorted(names)


def _review_id_of(graph: nx.MultiDiGraph, node: str, via: str) -> str:
    rid = graph.nodes[node].get("review_id")
    if rid:
        return str(rid)
    for u, _v, d in graph.in_edges(node, data=True):
        if d.get("type") == via:
            return str(graph.nodes[u].get("id") or u.split(":", 1)[-1])
    return ""


def _collect(graph: nx.MultiDiGraph, agency: str) -> list[ExportItem]:
    """The agency's items, unsorted, each once, with themes in alphabetical order."""
    node = f"Agency:{agency}"
    if node not in graph:
        return []
    reviews: dict[str, ReviewRef] = {}

    def review(rid: str) -> ReviewRef:
        if rid not in reviews:
            reviews[rid] = _review(graph, rid)
        return reviews[rid]

    items: dict[str, ExportItem] = {}
    for u, _v, d in graph.in_edges(node, data=True):
        kind = d.get("type")
        props = graph.nodes[u]
        if kind == "ADDRESSED_TO":
            item_id = str(props.get("id") or u)
            lp_kind = props.get("kind")
            if lp_kind not in KIND_ORDER or item_id in items:
                continue
            rid = _review_id_of(graph, u, "HAS_LEARNING") or str(d.get("review_id") or "")
            items[item_id] = ExportItem(
                id=item_id,
                kind=lp_kind,
                text=str(props.get("text") or props.get("quote") or ""),
                addressed_to_all=bool(d.get("all_agencies", props.get("all_agencies", False))),
                themes=_themes_of(graph, u),
                citation=_citation(review(rid), props),
            )
        elif kind == "MISSED_BY":
            item_id = str(props.get("id") or u)
            if item_id in items:
                continue
            rid = _review_id_of(graph, u, "HAS_MISSED_OPPORTUNITY") or str(d.get("review_id") or "")
            items[item_id] = ExportItem(
                id=item_id,
                kind="missed_opportunity",
                text=str(props.get("text") or props.get("quote") or ""),
                themes=_themes_of(graph, u),
                citation=_citation(review(rid), props),
            )
    links = [
        (u, v, k, d)
        for u, v, k, d in graph.out_edges(node, keys=True, data=True)
        if d.get("type") == "COMMUNICATION"
    ]
    links += [
        (u, v, k, d)
        for u, v, k, d in graph.in_edges(node, keys=True, data=True)
        if d.get("type") == "COMMUNICATION" and u != node
    ]
    for u, v, key, d in links:
        item_id = str(d.get("id") or key)
        if item_id in items:
            continue
        outgoing = u == node
        other = v if outgoing else u
        counterpart = str(graph.nodes[other].get("name") or other.split(":", 1)[-1])
        directed = bool(d.get("directed", True))
        direction: Literal["to", "from", "between"] = (
            ("to" if outgoing else "from") if directed else "between"
        )
        status = "broken" if d.get("status") == "broken" else "effective"
        preposition = {"to": "to", "from": "from", "between": "with"}[direction]
        items[item_id] = ExportItem(
            id=item_id,
            kind="communication",
            text=f"{status.capitalize()} communication {preposition} {counterpart}",
            counterpart=counterpart,
            direction=direction,
            status=status,
            citation=_citation(review(str(d.get("review_id") or "")), d),
        )
    return list(items.values())


def _item_sort_key(item: ExportItem) -> tuple:
    c = item.citation
    return (c.year is None, c.year or 0, c.review_id, c.start if c.start is not None else -1, item.id)


def agency_learning(graph: nx.MultiDiGraph, agency: str, taxonomy: Taxonomy | None = None) -> AgencyLearning:
    """Everything ``agency`` (a canonical name or any alias) must learn, with citations."""
    name = resolve_agency(graph, agency, taxonomy)
    node = graph.nodes.get(f"Agency:{name}", {})
    sector = node.get("sector")
    if not sector:
        tax = taxonomy or load_taxonomy()
        sector = tax.sector(name) if name in tax.agencies else "other"
    items = _collect(graph, name)

    theme_counts = Counter(t for item in items for t in item.themes)

    def rank(theme: str) -> tuple[int, str]:
        return (-theme_counts[theme], theme)

    groups: dict[str, dict[str, list[ExportItem]]] = {}
    for item in items:
        item.themes = sorted(item.themes, key=rank)
        theme = item.themes[0] if item.themes else GENERAL
        groups.setdefault(theme, {}).setdefault(item.kind, []).append(item)

    def group_order(theme: str) -> tuple[int, int, str]:
        return (theme == GENERAL, -sum(len(v) for v in groups[theme].values()), theme)

    theme_groups = []
    for theme in sorted(groups, key=group_order):
        by_kind = groups[theme]
        theme_groups.append(
            ThemeGroup(
                theme=theme,
                description=str(graph.nodes.get(f"Theme:{theme}", {}).get("description") or "")
                if theme != GENERAL
                else "Items without a theme.",
                items=sum(len(v) for v in by_kind.values()),
                groups=[
                    KindGroup(kind=k, heading=KIND_HEADINGS[k], items=sorted(by_kind[k], key=_item_sort_key))
                    for k in KIND_ORDER
                    if k in by_kind
                ],
            )
        )

    cited: dict[str, ReviewRef] = {}
    for item in items:
        c = item.citation
        cited[c.review_id] = ReviewRef(id=c.review_id, title=c.review_title, year=c.year, source=c.source)
    review_list = sorted(cited.values(), key=lambda r: (r.year is None, r.year or 0, r.id))
    years = [r.year for r in review_list if r.year is not None]
    involving = (
        {u for u, _v, d in graph.in_edges(f"Agency:{name}", data=True) if d.get("type") == "INVOLVES"}
        if f"Agency:{name}" in graph
        else set()
    )
    broken = Counter(i.counterpart for i in items if i.kind == "communication" and i.status == "broken")
    kinds = Counter(i.kind for i in items)
    summary = Summary(
        reviews=len(review_list),
        reviews_involving=len(involving),
        years=Years(first=min(years) if years else None, last=max(years) if years else None),
        items=len(items),
        by_kind={k: kinds.get(k, 0) for k in KIND_ORDER},
        addressed_to_all=sum(1 for i in items if i.addressed_to_all),
        top_themes=[
            NameCount(name=t, count=n) for t, n in sorted(theme_counts.items(), key=lambda x: rank(x[0]))
        ][:TOP_THEMES],
        broken_link_counterparts=[
            NameCount(name=str(a), count=n)
            for a, n in sorted(broken.items(), key=lambda x: (-x[1], str(x[0])))
        ],
    )
    return AgencyLearning(
        agency=name, sector=str(sector), summary=summary, reviews=review_list, themes=theme_groups
    )


def agencies_with_items(graph: nx.MultiDiGraph) -> list[str]:
    """Canonical names of the agencies that have at least one item, sorted."""
    names = []
    for n, d in graph.nodes(data=True):
        if d.get("label") != "Agency":
            continue
        for _u, _v, e in graph.in_edges(n, data=True):
            if e.get("type") in ("ADDRESSED_TO", "MISSED_BY", "COMMUNICATION"):
                names.append(str(d["name"]))
                break
        else:
            if any(e.get("type") == "COMMUNICATION" for _u, _v, e in graph.out_edges(n, data=True)):
                names.append(str(d["name"]))
    return sorted(set(names))


# ---------------------------------------------------------------------------------------
# Rendering helpers


def _citation_line(c: Citation) -> str:
    year = f" ({c.year})" if c.year is not None else ""
    title = f" \u201c{c.review_title}\u201d" if c.review_title else ""
    section = f", section: {c.section}" if c.section else ""
    return f"Review {c.review_id}{title}{year}, file {c.source}{section}"


def _kind_label(item: ExportItem) -> str:
    if item.kind == "communication":
        return f"Communication link ({item.status})"
    label = KIND_LABELS[item.kind]
    return f"{label} (all agencies)" if item.addressed_to_all else label


def _years_text(s: Summary) -> str:
    if s.years.first is None:
        return "unknown"
    if s.years.first == s.years.last:
        return str(s.years.first)
    return f"{s.years.first}\u2013{s.years.last}"


# The sentence under the title, in every format.
_INTRO = (
    "Every lesson, recommendation, missed opportunity and communication link that involves this "
    "agency, across all reviews in the graph, each with its source."
)


def _summary_lines(learning: AgencyLearning) -> list[tuple[str, str]]:
    s = learning.summary
    kinds = ", ".join(f"{KIND_HEADINGS[k].lower()}: {n}" for k, n in s.by_kind.items() if n)
    return [
        ("Sector", learning.sector),
        ("Reviews cited", f"{s.reviews} (of {s.reviews_involving} naming the agency)"),
        ("Years covered", _years_text(s)),
        ("Items", f"{s.items}" + (f" ({kinds})" if kinds else "")),
        ("Addressed to all agencies", str(s.addressed_to_all)),
        ("Top themes", ", ".join(f"{t.name} ({t.count})" for t in s.top_themes) or "none"),
        (
            "Broken communication links with",
            ", ".join(f"{t.name} ({t.count})" for t in s.broken_link_counterparts) or "none",
        ),
    ]


_md = markdown_inline


class _Text:
    """Writes text to a binary file as UTF-8, piece by piece."""

    def __init__(self, fh: BinaryIO, encoding: str = "utf-8"):
        self.fh = fh
        self.encoding = encoding

    def write(self, text: str) -> int:
        self.fh.write(text.encode(self.encoding))
        return len(text)


def _item_marks(item: ExportItem, all_label: str | None = None) -> list[str]:
    """The short notes shown after an item's text in every format: addressed to all
    agencies (where the format shows it), a link's status and direction, its other themes."""
    marks = []
    if all_label and item.addressed_to_all:
        marks.append(all_label)
    if item.kind == "communication":
        marks.append(f"{item.status}, {item.direction} {item.counterpart}")
    if len(item.themes) > 1:
        marks.append("also: " + ", ".join(item.themes[1:]))
    return marks


def _write_md(learning: AgencyLearning, fh: BinaryIO) -> None:
    out = _Text(fh)
    out.write(f"# Learning for {_md(learning.agency)}\n\n")
    out.write(f"{_INTRO}\n\n")
    out.write("## Summary\n\n")
    for label, value in _summary_lines(learning):
        out.write(f"- **{label}:** {_md(value)}\n")
    out.write("\n")
    for tg in learning.themes:
        out.write(f"## {_md(tg.theme)} ({tg.items})\n\n")
        if tg.description and tg.theme != GENERAL:
            out.write(f"_{_md(tg.description)}_\n\n")
        for kg in tg.groups:
            out.write(f"### {kg.heading}\n\n")
            for item in kg.items:
                marks = _item_marks(item, all_label="addressed to all agencies")
                suffix = f" _({_md('; '.join(marks))})_" if marks else ""
                out.write(f"- {_md(item.text)}{suffix}\n")
                if item.citation.quote and item.citation.quote != item.text:
                    out.write(f"  > {_md(item.citation.quote)}\n")
                out.write(f"  \n  Source: {_md(_citation_line(item.citation))}\n")
            out.write("\n")
    if not learning.themes:
        out.write("No items involve this agency in the graph.\n\n")
    out.write("## Reviews cited\n\n| Review | Title | Year | File |\n|---|---|---|---|\n")
    for r in learning.reviews:
        out.write(
            f"| {_md(r.id)} | {_md(r.title)} | {r.year if r.year is not None else ''} | {_md(r.source)} |\n"
        )


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { border-bottom: 3px solid #2b5797; padding-bottom: .3rem; }
h2 { margin-top: 2rem; color: #2b5797; }
h3 { margin-bottom: .3rem; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
ul.items { list-style: none; padding-left: 0; }
ul.items li { border-left: 4px solid #c8d3e6; padding: .3rem .8rem; margin: .6rem 0; background: #f7f9fc; }
ul.items li.communication.broken { border-left-color: #c0392b; }
ul.items li.missed_opportunity { border-left-color: #d68910; }
.tag { font-size: .8em; background: #e3e8f1; border-radius: 3px; padding: 0 .3rem; margin-left: .3rem; }
blockquote { margin: .3rem 0; padding-left: .6rem; border-left: 2px solid #999; color: #444; }
.cite { font-size: .85em; color: #555; }
table { border-collapse: collapse; }
td, th { border: 1px solid #bbb; padding: .2rem .5rem; text-align: left; }
@media print { body { margin: 0; max-width: none; } }
"""


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def _write_html(learning: AgencyLearning, fh: BinaryIO) -> None:
    out = _Text(fh)
    out.write(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Learning for {_h(learning.agency)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
    )
    out.write(f"<h1>Learning for {_h(learning.agency)}</h1>\n")
    out.write(f"<p>{_h(_INTRO)}</p>\n")
    out.write('<h2>Summary</h2>\n<dl class="summary">\n')
    for label, value in _summary_lines(learning):
        out.write(f"<dt>{_h(label)}</dt><dd>{_h(value)}</dd>\n")
    out.write("</dl>\n")
    for tg in learning.themes:
        out.write(f'<h2>{_h(tg.theme)} <span class="tag">{tg.items}</span></h2>\n')
        if tg.description and tg.theme != GENERAL:
            out.write(f"<p><em>{_h(tg.description)}</em></p>\n")
        for kg in tg.groups:
            out.write(f'<h3>{_h(kg.heading)}</h3>\n<ul class="items">\n')
            for item in kg.items:
                classes = item.kind + (f" {item.status}" if item.status else "")
                out.write(f'<li class="{_h(classes)}">{_h(item.text)}')
                for mark in _item_marks(item, all_label="all agencies"):
                    out.write(f'<span class="tag">{_h(mark)}</span>')
                if item.citation.quote and item.citation.quote != item.text:
                    out.write(f"<blockquote>{_h(item.citation.quote)}</blockquote>")
                out.write(f'<div class="cite">{_h(_citation_line(item.citation))}</div></li>\n')
            out.write("</ul>\n")
    if not learning.themes:
        out.write("<p>No items involve this agency in the graph.</p>\n")
    out.write(
        "<h2>Reviews cited</h2>\n<table>\n<tr><th>Review</th><th>Title</th><th>Year</th><th>File</th></tr>\n"
    )
    for r in learning.reviews:
        year = r.year if r.year is not None else ""
        out.write(
            f"<tr><td>{_h(r.id)}</td><td>{_h(r.title)}</td><td>{_h(year)}</td><td>{_h(r.source)}</td></tr>\n"
        )
    out.write("</table>\n</body>\n</html>\n")


def _csv_cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_rows(learning: AgencyLearning) -> Iterator[dict[str, str]]:
    """One row per item (columns: :data:`CSV_COLUMNS`)."""
    for tg in learning.themes:
        for kg in tg.groups:
            for item in kg.items:
                c = item.citation
                row = {
                    "agency": learning.agency,
                    "theme": tg.theme,
                    "other_themes": "; ".join(item.themes[1:]),
                    "kind": item.kind,
                    "addressed_to_all": item.addressed_to_all,
                    "text": item.text,
                    "counterpart": item.counterpart,
                    "direction": item.direction,
                    "status": item.status,
                    "review_id": c.review_id,
                    "review_title": c.review_title,
                    "year": c.year,
                    "source": c.source,
                    "section": c.section,
                    "quote": c.quote,
                    "start": c.start,
                    "end": c.end,
                    "item_id": item.id,
                }
                yield {k: _csv_cell(row[k]) for k in CSV_COLUMNS}


def _write_csv(learning: AgencyLearning, fh: BinaryIO) -> None:
    out = _Text(fh)
    out.write("\ufeff")  # UTF-8 byte order mark: spreadsheets then read the accents right
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for row in csv_rows(learning):
        writer.writerow(row)


def _write_json(learning: AgencyLearning, fh: BinaryIO) -> None:
    fh.write(json.dumps(learning.model_dump(mode="json"), ensure_ascii=False, indent=2).encode("utf-8"))
    fh.write(b"\n")


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: object) -> str:
    """Text Word can hold (XML forbids most control characters)."""
    return _XML_ILLEGAL.sub("", str(text))


def _docx_table(doc, header: list[str], widths: list[float] | None = None):
    from docx.shared import Cm

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=False):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    if widths:
        for row in table.rows:
            for cell, w in zip(row.cells, widths, strict=False):
                cell.width = Cm(w)
    return table


def _save_docx(doc, fh: BinaryIO) -> None:
    # Built in memory first: a failed write then leaves no half-closed zip behind.
    buf = io.BytesIO()
    doc.save(buf)
    fh.write(buf.getvalue())


def _write_docx(learning: AgencyLearning, fh: BinaryIO) -> None:
    import docx
    from docx.shared import Cm, Pt

    doc = docx.Document()
    doc.core_properties.title = _x(f"Learning for {learning.agency}")
    doc.core_properties.subject = "Child safeguarding reviews: learning for one agency"
    doc.core_properties.author = "sgraph"
    doc.styles["Normal"].font.size = Pt(10)
    doc.add_heading(_x(f"Learning for {learning.agency}"), level=0)
    doc.add_paragraph(_INTRO)
    doc.add_heading("Summary", level=1)
    summary = doc.add_table(rows=0, cols=2)
    summary.style = "Table Grid"
    for label, value in _summary_lines(learning):
        cells = summary.add_row().cells
        cells[0].paragraphs[0].add_run(_x(label)).bold = True
        cells[1].text = _x(value)
        cells[0].width, cells[1].width = Cm(5.0), Cm(11.0)
    widths = [3.2, 8.3, 3.0, 1.2, 2.3]
    for tg in learning.themes:
        doc.add_heading(_x(tg.theme), level=1)
        if tg.description and tg.theme != GENERAL:
            doc.add_paragraph(_x(tg.description)).runs[0].italic = True
        table = _docx_table(doc, ["Kind", "Text / quote", "Review", "Year", "Section"], widths)
        for kg in tg.groups:
            for item in kg.items:
                c = item.citation
                cells = table.add_row().cells
                cells[0].text = _x(_kind_label(item))
                cells[1].text = _x(item.text)
                extra = _item_marks(item)
                if extra:
                    cells[1].paragraphs[0].add_run(_x(f" ({'; '.join(extra)})")).italic = True
                if c.quote and c.quote != item.text:
                    cells[1].add_paragraph().add_run(_x(f"\u201c{c.quote}\u201d")).italic = True
                cells[2].text = _x(f"{c.review_title} ({c.review_id})" if c.review_title else c.review_id)
                cells[2].add_paragraph().add_run(_x(f"File: {c.source}")).font.size = Pt(8)
                cells[3].text = "" if c.year is None else str(c.year)
                cells[4].text = _x(c.section)
                for cell, w in zip(cells, widths, strict=False):
                    cell.width = Cm(w)
    if not learning.themes:
        doc.add_paragraph("No items involve this agency in the graph.")
    doc.add_heading("Reviews cited", level=1)
    table = _docx_table(doc, ["Review", "Title", "Year", "File"], [3.0, 7.0, 1.5, 5.5])
    for r in learning.reviews:
        cells = table.add_row().cells
        for cell, text in zip(
            cells, [r.id, r.title, "" if r.year is None else str(r.year), r.source], strict=False
        ):
            cell.text = _x(text)
    _save_docx(doc, fh)


_WRITERS: dict[str, Callable[[AgencyLearning, BinaryIO], None]] = {
    "md": _write_md,
    "html": _write_html,
    "csv": _write_csv,
    "json": _write_json,
    "docx": _write_docx,
}


# ---------------------------------------------------------------------------------------
# Writing files


def check_format(fmt: str) -> str:
    fmt = (fmt or "").lower().lstrip(".")
    if fmt == "markdown":
        fmt = "md"
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format '{fmt}'; use one of {', '.join(FORMATS)}.")
    return fmt


def check_target(path: Path, force: bool) -> None:
    check_out_file(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name for the export.")
    if path.exists() and not force:
        raise OutputError(f"{path}: already exists; use --force to overwrite it.")


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Run ``write`` on a temporary file in ``path``'s folder, then rename it to ``path``.

    If ``write`` fails, the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    blocker = next((p for p in path.parents if p.exists() or p.is_symlink()), None)
    if blocker is not None and not blocker.is_dir():
        raise OutputError(f"{path}: cannot be written ({blocker} is a file, not a folder).")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{short_name(path.name)}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc}).") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        check_out_file(path)  # again: it may have become a link or a device meanwhile
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc}).") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def write_learning(
    learning: AgencyLearning, fmt: str, out: str | os.PathLike[str], force: bool = False
) -> Path:
    """Write an already computed export (``fmt``: md, html, csv, json or docx) to ``out``."""
    fmt = check_format(fmt)
    path = Path(out)
    check_target(path, force)
    atomic_write(path, lambda fh: _WRITERS[fmt](learning, fh))
    return path


def export_agency(
    graph: nx.MultiDiGraph,
    name: str,
    fmt: str,
    out: str | os.PathLike[str],
    force: bool = False,
    taxonomy: Taxonomy | None = None,
) -> Path:
    """Write everything agency ``name`` (any alias) must learn to ``out`` as ``fmt``.

    An existing ``out`` is only replaced with ``force``; the file is written whole or not at all.
    """
    fmt = check_format(fmt)
    check_target(Path(out), force)
    learning = agency_learning(graph, name, taxonomy)
    return write_learning(learning, fmt, out, force)


def agency_file_name(agency: str, fmt: str) -> str:
    """``Children's Social Care`` → ``childrens-social-care.md``."""
    slug = re.sub(r"[^a-z0-9]+", "-", agency.lower().replace("'", "").replace("\u2019", "")).strip("-")
    return f"{slug or 'agency'}{SUFFIXES[check_format(fmt)]}"


class IndexEntry(BaseModel):
    agency: str
    sector: str
    file: str
    items: int
    reviews: int
    broken_links: int


def _write_index(entries: list[IndexEntry], fmt: str, fh: BinaryIO) -> None:
    title = "Learning by agency"
    if fmt == "json":
        data = {
            "format": INDEX_FORMAT_NAME,
            "version": FORMAT_VERSION,
            "agencies": [e.model_dump(mode="json") for e in entries],
        }
        fh.write(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    elif fmt == "csv":
        out = _Text(fh)
        out.write("\ufeff")
        writer = csv.DictWriter(out, fieldnames=list(IndexEntry.model_fields), lineterminator="\r\n")
        writer.writeheader()
        for e in entries:
            writer.writerow({k: _csv_cell(v) for k, v in e.model_dump().items()})
    elif fmt == "md":
        out = _Text(fh)
        out.write(
            f"# {title}\n\n| Agency | Sector | Items | Reviews | Broken links |\n|---|---|---|---|---|\n"
        )
        for e in entries:
            out.write(
                f"| [{_md(e.agency)}]({e.file}) | {_md(e.sector)} | {e.items} | {e.reviews} | {e.broken_links} |\n"
            )
    elif fmt == "html":
        out = _Text(fh)
        out.write(
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f"<style>{_CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<table>\n"
            "<tr><th>Agency</th><th>Sector</th><th>Items</th><th>Reviews</th><th>Broken links</th></tr>\n"
        )
        for e in entries:
            out.write(
                f'<tr><td><a href="{_h(e.file)}">{_h(e.agency)}</a></td><td>{_h(e.sector)}</td>'
                f"<td>{e.items}</td><td>{e.reviews}</td><td>{e.broken_links}</td></tr>\n"
            )
        out.write("</table>\n</body>\n</html>\n")
    else:
        import docx

        doc = docx.Document()
        doc.core_properties.title = title
        doc.add_heading(title, level=0)
        table = _docx_table(doc, ["Agency", "Sector", "Items", "Reviews", "Broken links", "File"])
        for e in entries:
            cells = table.add_row().cells
            for cell, text in zip(
                cells, [e.agency, e.sector, e.items, e.reviews, e.broken_links, e.file], strict=False
            ):
                cell.text = _x(text)
        _save_docx(doc, fh)


def export_agencies(
    graph: nx.MultiDiGraph,
    out_dir: str | os.PathLike[str],
    fmt: str = "md",
    force: bool = False,
    taxonomy: Taxonomy | None = None,
) -> list[Path]:
    """One export per agency that has any item, plus ``index.<fmt>``, in ``out_dir``.

    Nothing is written if any of the files exists and ``force`` is not given. Returns the
    paths written, the index last.
    """
    fmt = check_format(fmt)
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: is a file; give a folder for the exports.")
    check_out_folder(folder)
    names = agencies_with_items(graph)
    files: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        file = agency_file_name(name, fmt)
        stem, n = file[: -len(SUFFIXES[fmt])], 2
        while file in used or file == f"index{SUFFIXES[fmt]}":
            file, n = f"{stem}-{n}{SUFFIXES[fmt]}", n + 1
        used.add(file)
        files[name] = file
    index = folder / f"index{SUFFIXES[fmt]}"
    for path in [*(folder / f for f in files.values()), index]:
        check_target(path, force)
    written: list[Path] = []
    entries: list[IndexEntry] = []
    for name in names:
        learning = agency_learning(graph, name, taxonomy)
        written.append(write_learning(learning, fmt, folder / files[name], force=True))
        entries.append(
            IndexEntry(
                agency=learning.agency,
                sector=learning.sector,
                file=files[name],
                items=learning.summary.items,
                reviews=learning.summary.reviews,
                broken_links=sum(c.count for c in learning.summary.broken_link_counterparts),
            )
        )
    atomic_write(index, lambda fh: _write_index(entries, fmt, fh))
    written.append(index)
    return written


def render(learning: AgencyLearning, fmt: str) -> bytes:
    """The export as bytes (for tests and for callers that write elsewhere)."""
    buf = io.BytesIO()
    _WRITERS[check_format(fmt)](learning, buf)
    return buf.getvalue()
