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
import secrets
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Literal
from xml.sax.saxutils import escape as xml_escape

import networkx as nx
from pydantic import BaseModel, Field

from .build import short_name
from .errors import OutputError, UsageError
from .outpath import check_out_file, check_out_folder
from .taxonomy import Taxonomy, load_taxonomy
from .text import markdown_inline, shorten

FORMAT_NAME = "sgraph-agency-export"
INDEX_FORMAT_NAME = "sgraph-agency-export-index"
FORMAT_VERSION = 2
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
    # the digest's groups (empty when the item is in none)
    "lesson",
    "lesson_text",
    "lesson_reviews",
    "partner_rank",
)


# ---------------------------------------------------------------------------------------
# The model


class Citation(BaseModel):
    """Where an item comes from: the review, the section and the verbatim quote."""

    review_id: str
    review_title: str
    year: int | None
    source: str
    board: str | None = None
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
    # The digest's groups: the recurring lesson the item belongs to (its representative
    # learning point's id, wording and number of reviews), and for a broken link the rank of
    # its partner agency in the digest's table (1 = most broken links).
    lesson: str | None = None
    lesson_text: str | None = None
    lesson_reviews: int | None = None
    partner_rank: int | None = None


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
    board: str | None = None


class Filters(BaseModel):
    """What the export was restricted to (None: not restricted)."""

    since: int | None = None  # reviews of this year or later (reviews without a year are left out)
    board: str | None = None  # reviews of this safeguarding board
    theme: str | None = None  # items about this theme


class LessonRow(BaseModel):
    """A lesson that recurs in this agency's learning points (a cluster of
    :func:`graph_model.recurring.recurring_lessons`), by its representative point."""

    lesson: str  # the representative learning point's id
    text: str
    citation: Citation
    reviews: int
    points: int
    first_year: int | None
    last_year: int | None
    themes: list[str]


class PartnerRow(BaseModel):
    """The broken communication links between this agency and one partner agency."""

    rank: int
    partner: str
    broken: int
    to_partner: int  # should have gone from this agency to the partner
    from_partner: int  # should have come from the partner to this agency
    between: int  # the review does not say who should have told whom
    effective: int
    reviews: int
    first_year: int | None
    last_year: int | None
    example: Citation  # one quote: the latest link


class Example(BaseModel):
    text: str
    citation: Citation


class MissedTheme(BaseModel):
    """This agency's missed opportunities grouped under one theme."""

    theme: str
    count: int
    reviews: int
    first_year: int | None
    last_year: int | None
    examples: list[Example]


class RecommendationRow(BaseModel):
    """One lesson among the recommendations made to this agency."""

    lesson: str | None  # the recurring lesson (representative id) it belongs to, if any
    text: str
    citation: Citation  # the first review that made it
    reviews: int  # how many reviews made it
    first_year: int | None
    last_year: int | None
    addressed_to_all: bool  # made to all agencies (in every review that made it)


class CameBackRow(BaseModel):
    """A recommendation made to this agency in one review, and the same lesson found again
    in later reviews: was the learning embedded?"""

    lesson: str
    text: str  # the recommendation, as first made
    recommended: Citation  # where it was first made
    later_reviews: list[str]  # review ids, by year then id
    later: int
    first_again: int | None  # the year it was first found again
    last_again: int | None


class YearRow(BaseModel):
    year: int | None
    reviews: int
    missed_opportunities: int
    broken_links: int


class Digest(BaseModel):
    """The few pages an agency lead reads first; every item is in the appendix."""

    recurring_lessons: list[LessonRow]
    recurring_lessons_total: int
    partners: list[PartnerRow]
    missed_by_theme: list[MissedTheme]
    missed_themes_total: int
    recommendations: list[RecommendationRow]
    recommendations_total: int
    came_back: list[CameBackRow]
    came_back_total: int
    by_year: list[YearRow]


class AgencyLearning(BaseModel):
    """Everything one agency must learn, across all reviews, with citations: the digest and
    every item (grouped by theme and kind)."""

    format: Literal["sgraph-agency-export"] = FORMAT_NAME
    version: Literal[2] = FORMAT_VERSION
    agency: str
    sector: str
    filters: Filters = Field(default_factory=Filters)
    summary: Summary
    digest: Digest
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
        board=str(d["board"]) if d.get("board") else None,
    )


def _int_or_none(value: object) -> int | None:
    return int(value) if value is not None else None  # type: ignore[arg-type]


def _citation(review: ReviewRef, props: dict) -> Citation:
    return Citation(
        review_id=review.id,
        review_title=review.title,
        year=review.year,
        source=review.source,
        board=review.board,
        section=str(props.get("section") or ""),
        quote=str(props.get("quote") or ""),
        start=_int_or_none(props.get("start")),
        end=_int_or_none(props.get("end")),
    )


def _themes_of(graph: nx.MultiDiGraph, node: str) -> list[str]:
    names = set()
    nodes = graph._node
    for v, keyed in graph._succ[node].items():
        for d in keyed.values():
            if d.get("type") == "ABOUT_THEME":
                names.add(str(nodes[v].get("name") or v.split(":", 1)[-1]))
    return sorted(names)


def _review_id_of(graph: nx.MultiDiGraph, node: str, via: str) -> str:
    rid = graph._node[node].get("review_id")
    if rid:
        return str(rid)
    for u, _v, d in graph.in_edges(node, data=True):
        if d.get("type") == via:
            return str(graph.nodes[u].get("id") or u.split(":", 1)[-1])
    return ""


def _collect(graph: nx.MultiDiGraph, agency: str) -> list[ExportItem]:
    """The agency's items, unsorted, each once, with themes in alphabetical order.

    The models are made with ``model_construct`` (no validation): every value is already of
    its field's type here, and a national export makes a hundred thousand of them."""
    node = f"Agency:{agency}"
    if node not in graph:
        return []
    nodes = graph._node
    reviews: dict[str, ReviewRef] = {}

    def cite(rid: str, props: dict) -> Citation:
        r = reviews.get(rid)
        if r is None:
            r = reviews[rid] = _review(graph, rid)
        return Citation.model_construct(
            review_id=r.id,
            review_title=r.title,
            year=r.year,
            source=r.source,
            board=r.board,
            section=str(props.get("section") or ""),
            quote=str(props.get("quote") or ""),
            start=_int_or_none(props.get("start")),
            end=_int_or_none(props.get("end")),
        )

    def item(**fields: object) -> ExportItem:
        base: dict[str, object] = {
            "addressed_to_all": False,
            "themes": [],
            "counterpart": None,
            "direction": None,
            "status": None,
            "lesson": None,
            "lesson_text": None,
            "lesson_reviews": None,
            "partner_rank": None,
        }
        base.update(fields)
        return ExportItem.model_construct(**base)

    items: dict[str, ExportItem] = {}
    for u, keyed in graph._pred[node].items():
        props = nodes[u]
        for d in keyed.values():
            kind = d.get("type")
            if kind == "ADDRESSED_TO":
                item_id = str(props.get("id") or u)
                lp_kind = props.get("kind")
                if lp_kind not in KIND_ORDER or item_id in items:
                    continue
                rid = _review_id_of(graph, u, "HAS_LEARNING") or str(d.get("review_id") or "")
                items[item_id] = item(
                    id=item_id,
                    kind=lp_kind,
                    text=str(props.get("text") or props.get("quote") or ""),
                    addressed_to_all=bool(d.get("all_agencies", props.get("all_agencies", False))),
                    themes=_themes_of(graph, u),
                    citation=cite(rid, props),
                )
            elif kind == "MISSED_BY":
                item_id = str(props.get("id") or u)
                if item_id in items:
                    continue
                rid = _review_id_of(graph, u, "HAS_MISSED_OPPORTUNITY") or str(d.get("review_id") or "")
                items[item_id] = item(
                    id=item_id,
                    kind="missed_opportunity",
                    text=str(props.get("text") or props.get("quote") or ""),
                    themes=_themes_of(graph, u),
                    citation=cite(rid, props),
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
        counterpart = str(nodes[other].get("name") or other.split(":", 1)[-1])
        directed = bool(d.get("directed", True))
        direction: Literal["to", "from", "between"] = (
            ("to" if outgoing else "from") if directed else "between"
        )
        status = "broken" if d.get("status") == "broken" else "effective"
        preposition = {"to": "to", "from": "from", "between": "with"}[direction]
        inferred = {"source": " (the sender inferred from the text around the quote)",
                    "target": " (the recipient inferred from the text around the quote)"}.get(str(d.get("inferred_end")), "")
        items[item_id] = item(
            id=item_id,
            kind="communication",
            text=f"{status.capitalize()} communication {preposition} {counterpart}{inferred}",
            counterpart=counterpart,
            direction=direction,
            status=status,
            citation=cite(str(d.get("review_id") or ""), d),
        )
    return list(items.values())


def _item_sort_key(item: ExportItem) -> tuple:
    c = item.citation
    return (c.year is None, c.year or 0, c.review_id, c.start if c.start is not None else -1, item.id)


def agency_view(graph: nx.MultiDiGraph, agency: str) -> nx.MultiDiGraph:
    """The part of ``graph`` an export of ``agency`` (a canonical name) reads: every Agency,
    Review and Theme node; the learning points addressed to it and the missed opportunities
    attributed to it, with their ``ABOUT_THEME`` and the ``SIMILAR_TO`` between them; its
    ``INVOLVES`` and ``COMMUNICATION`` relationships. :func:`graph_model.graph_slice.agency_slice`
    reads the same subgraph straight from graph.json (and marks it: it is returned as is)."""
    if graph.graph.get("agency_view") == agency:
        return graph
    view = nx.MultiDiGraph()
    for n, d in graph.nodes(data=True):
        if d.get("label") in ("Agency", "Review", "Theme"):
            view.add_node(n, **d)
    node = f"Agency:{agency}"
    if node not in graph:
        return view
    items = set()
    keep: list[tuple] = []
    for u, v, k, d in graph.in_edges(node, keys=True, data=True):
        kind = d.get("type")
        if kind in ("ADDRESSED_TO", "MISSED_BY"):
            items.add(u)
        if kind in ("ADDRESSED_TO", "MISSED_BY", "COMMUNICATION", "INVOLVES"):
            keep.append((u, v, k, d))
    for u, v, k, d in graph.out_edges(node, keys=True, data=True):
        if d.get("type") == "COMMUNICATION" and v != node:
            keep.append((u, v, k, d))
    for item in items:
        view.add_node(item, **graph.nodes[item])
    for item in items:
        for u, v, k, d in graph.out_edges(item, keys=True, data=True):
            if d.get("type") == "ABOUT_THEME" or (d.get("type") == "SIMILAR_TO" and v in items):
                keep.append((u, v, k, d))
    for u, v, k, d in keep:
        view.add_edge(u, v, key=k, **d)
    return view


def _check_filters(graph: nx.MultiDiGraph, filters: Filters, taxonomy: Taxonomy | None) -> Filters:
    """``filters`` with the board and theme spelled as in the graph; an unknown board or
    theme is a usage error naming the closest ones."""
    from .taxonomy import did_you_mean

    board, theme = filters.board, filters.theme
    if board is not None:
        boards = {
            str(d["board"]) for _n, d in graph.nodes(data=True) if d.get("label") == "Review" and d.get("board")
        }
        match = [b for b in boards if _norm(b) == _norm(board)]
        if not match:
            choices = {b.lower(): b for b in boards}
            raise UsageError(f"No review is of the board '{board}'.{did_you_mean(board, choices)}")
        board = match[0]
    if theme is not None:
        names = {str(d["name"]) for _n, d in graph.nodes(data=True) if d.get("label") == "Theme"}
        names |= set((taxonomy or load_taxonomy()).themes)
        match = [t for t in names if _norm(t) == _norm(theme)]
        if not match:
            choices = {t.lower(): t for t in names}
            raise UsageError(
                f"Unknown theme '{theme}'.{did_you_mean(theme, choices)} Run 'sgraph taxonomy --kind theme' to list themes."
            )
        theme = match[0]
    return Filters(since=filters.since, board=board, theme=theme)


def _kept(item: ExportItem, filters: Filters) -> bool:
    c = item.citation
    if filters.since is not None and (c.year is None or c.year < filters.since):
        return False
    if filters.board is not None and c.board != filters.board:
        return False
    return filters.theme is None or filters.theme in item.themes


def agency_learning(
    graph: nx.MultiDiGraph,
    agency: str,
    taxonomy: Taxonomy | None = None,
    since: int | None = None,
    board: str | None = None,
    theme: str | None = None,
) -> AgencyLearning:
    """Everything ``agency`` (a canonical name or any alias) must learn, with citations: the
    digest and every item, restricted to reviews ``since`` a year, of one ``board``, and to
    items about one ``theme`` when given."""
    name = resolve_agency(graph, agency, taxonomy)
    filters = _check_filters(graph, Filters(since=since, board=board, theme=theme), taxonomy)
    view = agency_view(graph, name)
    node = view.nodes.get(f"Agency:{name}", {})
    sector = node.get("sector")
    if not sector:
        tax = taxonomy or load_taxonomy()
        sector = tax.sector(name) if name in tax.agencies else "other"
    items = [i for i in _collect(view, name) if _kept(i, filters)]

    theme_counts = Counter(t for item in items for t in item.themes)

    def rank(theme: str) -> tuple[int, str]:
        return (-theme_counts[theme], theme)

    groups: dict[str, dict[str, list[ExportItem]]] = {}
    for item in items:
        item.themes = sorted(item.themes, key=rank)
        group = item.themes[0] if item.themes else GENERAL
        groups.setdefault(group, {}).setdefault(item.kind, []).append(item)

    def group_order(theme: str) -> tuple[int, int, str]:
        return (theme == GENERAL, -sum(len(v) for v in groups[theme].values()), theme)

    theme_groups = []
    for group in sorted(groups, key=group_order):
        by_kind = groups[group]
        theme_groups.append(
            ThemeGroup(
                theme=group,
                description=str(view.nodes.get(f"Theme:{group}", {}).get("description") or "")
                if group != GENERAL
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
        cited[c.review_id] = ReviewRef(
            id=c.review_id, title=c.review_title, year=c.year, source=c.source, board=c.board
        )
    review_list = sorted(cited.values(), key=lambda r: (r.year is None, r.year or 0, r.id))
    years = [r.year for r in review_list if r.year is not None]
    involving = {
        u
        for u, _v, d in (view.in_edges(f"Agency:{name}", data=True) if f"Agency:{name}" in view else [])
        if d.get("type") == "INVOLVES" and _review_kept(view.nodes[u], filters)
    }
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
    digest = _digest(view, items, taxonomy)
    return AgencyLearning(
        agency=name,
        sector=str(sector),
        filters=filters,
        summary=summary,
        digest=digest,
        reviews=review_list,
        themes=theme_groups,
    )


def _review_kept(review: dict, filters: Filters) -> bool:
    year = review.get("year")
    if filters.since is not None and (year is None or int(year) < filters.since):
        return False
    return filters.board is None or review.get("board") == filters.board


# ---------------------------------------------------------------------------------------
# The digest

DIGEST_LESSONS = 12  # recurring lessons shown
DIGEST_PARTNERS = 15  # partner agencies shown
DIGEST_MISSED_THEMES = 10  # themes of missed opportunities shown
DIGEST_EXAMPLES = 3  # cited examples per theme
DIGEST_RECOMMENDATIONS = 12
DIGEST_CAME_BACK = 10
DIGEST_LATER_REVIEWS = 8  # later review ids listed per lesson that came back
DIGEST_QUOTE = 320  # characters of a quote shown in the digest (the appendix has it whole)


def _year_key(c: Citation) -> tuple:
    return (c.year is None, c.year or 0, c.review_id, c.start if c.start is not None else -1)


def _lessons(view: nx.MultiDiGraph, points: list[ExportItem], taxonomy: Taxonomy | None) -> list:
    """Every cluster (:func:`graph_model.recurring.recurring_lessons`, from one review up) of
    the learning points ``points``, over the build's SIMILAR_TO links between them."""
    from .recurring import recurring_lessons

    ids = {f"LearningPoint:{p.id}" for p in points}
    nodes = view._node
    in_view = [n for n, d in nodes.items() if d.get("label") == "LearningPoint"]
    if len(in_view) == len(ids) and all(n in ids for n in in_view):
        # The view holds these points and nothing recurring_lessons reads besides them
        # (it reads learning points, their SIMILAR_TO and ABOUT_THEME, and reviews).
        return recurring_lessons(view, min_reviews=1, taxonomy=taxonomy)
    g = nx.MultiDiGraph()
    for n, d in nodes.items():
        if d.get("label") in ("Review", "Theme") or n in ids:
            g.add_node(n, **d)
    linked = False
    for n in ids:
        if n not in view:
            continue
        for u, v, k, d in view.out_edges(n, keys=True, data=True):
            kind = d.get("type")
            if kind == "ABOUT_THEME" or (kind == "SIMILAR_TO" and v in ids):
                g.add_edge(u, v, key=k, **d)
                linked = linked or kind == "SIMILAR_TO"
    if not linked:
        return []
    return recurring_lessons(g, min_reviews=1, taxonomy=taxonomy)


def rank_broken_partners(items: list[ExportItem], limit: int | None = None) -> list[PartnerRow]:
    """This agency's broken communication links by partner agency, most first (then most
    reviews, then name): direction, counts, reviews, years and the latest link's quote.
    (The per-agency counterpart of the board pack's ranking of broken agency pairs.)"""
    links = [i for i in items if i.kind == "communication"]
    by_partner: dict[str, list[ExportItem]] = {}
    for i in links:
        by_partner.setdefault(str(i.counterpart), []).append(i)
    rows = []
    for partner, group in by_partner.items():
        broken = [i for i in group if i.status == "broken"]
        if not broken:
            continue
        years = [i.citation.year for i in broken if i.citation.year is not None]
        direction = Counter(i.direction for i in broken)
        rows.append(
            PartnerRow(
                rank=0,
                partner=partner,
                broken=len(broken),
                to_partner=direction.get("to", 0),
                from_partner=direction.get("from", 0),
                between=direction.get("between", 0),
                effective=len(group) - len(broken),
                reviews=len({i.citation.review_id for i in broken}),
                first_year=min(years) if years else None,
                last_year=max(years) if years else None,
                example=max(broken, key=lambda i: (_year_key(i.citation)[1:], i.id)).citation
                if years
                else min(broken, key=lambda i: (_year_key(i.citation), i.id)).citation,
            )
        )
    rows.sort(key=lambda r: (-r.broken, -r.reviews, r.partner))
    for n, r in enumerate(rows, 1):
        r.rank = n
    return rows[:limit] if limit is not None else rows


def _examples(items: list[ExportItem], n: int) -> list[Example]:
    """Up to ``n`` items of different reviews, the latest first."""
    out: list[Example] = []
    seen: set[str] = set()
    for i in sorted(items, key=lambda i: (-(i.citation.year or 0), i.citation.review_id, i.citation.start or 0, i.id)):
        if i.citation.review_id in seen:
            continue
        seen.add(i.citation.review_id)
        out.append(Example(text=i.text, citation=i.citation))
        if len(out) == n:
            break
    return out


def _span(cs: list[Citation]) -> tuple[int | None, int | None]:
    ys = [c.year for c in cs if c.year is not None]
    return (min(ys), max(ys)) if ys else (None, None)


def _digest(view: nx.MultiDiGraph, items: list[ExportItem], taxonomy: Taxonomy | None) -> Digest:
    """The digest of ``items`` (already filtered); sets each item's lesson and partner rank."""
    points = [i for i in items if i.kind not in ("missed_opportunity", "communication")]
    by_id = {i.id: i for i in points}
    clusters = _lessons(view, points, taxonomy)
    cluster_of: dict[str, object] = {}
    for le in clusters:
        for p in le.points:
            cluster_of[p] = le
    recurring = [le for le in clusters if len(le.reviews) >= 2]
    for le in recurring:
        for p in le.points:
            item = by_id[p]
            item.lesson, item.lesson_text, item.lesson_reviews = le.representative, le.text, len(le.reviews)
    lesson_rows = [
        LessonRow(
            lesson=le.representative,
            text=le.text,
            citation=by_id[le.representative].citation,
            reviews=len(le.reviews),
            points=len(le.points),
            first_year=le.first_year,
            last_year=le.last_year,
            themes=list(le.themes),
        )
        for le in recurring
    ]

    partners = rank_broken_partners(items)
    rank_of = {r.partner: r.rank for r in partners}
    for i in items:
        if i.kind == "communication" and i.status == "broken":
            i.partner_rank = rank_of.get(str(i.counterpart))

    missed: dict[str, list[ExportItem]] = {}
    for i in items:
        if i.kind == "missed_opportunity":
            missed.setdefault(i.themes[0] if i.themes else GENERAL, []).append(i)
    missed_rows = []
    for theme, group in missed.items():
        first, last = _span([i.citation for i in group])
        missed_rows.append(
            MissedTheme(
                theme=theme,
                count=len(group),
                reviews=len({i.citation.review_id for i in group}),
                first_year=first,
                last_year=last,
                examples=_examples(group, DIGEST_EXAMPLES),
            )
        )
    missed_rows.sort(key=lambda r: (r.theme == GENERAL, -r.count, r.theme))

    # Recommendations: one row per lesson (a cluster), or per recommendation in none.
    recs = [i for i in points if i.kind == "recommendation"]
    by_lesson: dict[str, list[ExportItem]] = {}
    for i in recs:
        le = cluster_of.get(i.id)
        by_lesson.setdefault(le.representative if le is not None else i.id, []).append(i)  # type: ignore[attr-defined]
    rec_rows = []
    came_back = []
    for key, group in by_lesson.items():
        le = cluster_of.get(group[0].id)
        first_made = min(group, key=lambda i: (_year_key(i.citation), i.id))
        reps = [i for i in group if le is not None and i.id == le.representative]  # type: ignore[attr-defined]
        shown = reps[0] if reps else first_made
        first, last = _span([i.citation for i in group])
        rec_rows.append(
            RecommendationRow(
                lesson=key if le is not None else None,
                text=shown.text,
                citation=first_made.citation,
                reviews=len({i.citation.review_id for i in group}),
                first_year=first,
                last_year=last,
                addressed_to_all=all(i.addressed_to_all for i in group),
            )
        )
        made = first_made.citation.year
        if le is None or made is None:
            continue
        later = sorted(
            {
                (by_id[p].citation.year, by_id[p].citation.review_id)
                for p in le.points  # type: ignore[attr-defined]
                if by_id[p].citation.year is not None and by_id[p].citation.year > made
            }
        )
        if later:
            came_back.append(
                CameBackRow(
                    lesson=key,
                    text=first_made.text,
                    recommended=first_made.citation,
                    later_reviews=[r for _y, r in later],
                    later=len(later),
                    first_again=later[0][0],
                    last_again=later[-1][0],
                )
            )
    rec_rows.sort(key=lambda r: (-r.reviews, _year_key(r.citation), r.lesson or "", r.text))
    came_back.sort(key=lambda r: (-r.later, _year_key(r.recommended), r.lesson))

    per_year: dict[int | None, list[int]] = {}
    for i in items:
        row = per_year.setdefault(i.citation.year, [0, 0])
        if i.kind == "missed_opportunity":
            row[0] += 1
        elif i.kind == "communication" and i.status == "broken":
            row[1] += 1
    reviews_by_year = Counter(y for y, _r in {(i.citation.year, i.citation.review_id) for i in items})
    by_year = [
        YearRow(year=y, reviews=reviews_by_year[y], missed_opportunities=m, broken_links=b)
        for y, (m, b) in sorted(per_year.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
    return Digest(
        recurring_lessons=lesson_rows[:DIGEST_LESSONS],
        recurring_lessons_total=len(lesson_rows),
        partners=partners[:DIGEST_PARTNERS],
        missed_by_theme=missed_rows[:DIGEST_MISSED_THEMES],
        missed_themes_total=len(missed_rows),
        recommendations=rec_rows[:DIGEST_RECOMMENDATIONS],
        recommendations_total=len(rec_rows),
        came_back=came_back[:DIGEST_CAME_BACK],
        came_back_total=len(came_back),
        by_year=by_year,
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


# --- digest text helpers (every format)

Part = Literal["digest", "appendix", "full"]

_DIGEST_INTRO = (
    "What this agency must learn from the reviews, in a few pages: the lessons that recur, the "
    "partner agencies it most often fails to communicate with, its missed opportunities by theme, "
    "the recommendations made to it and the lessons that came back after a recommendation."
)
_APPENDIX_INTRO = (
    "Every lesson, recommendation, missed opportunity and communication link that involves this "
    "agency, each with its source, grouped by theme and kind."
)


def _filters_text(f: Filters) -> str:
    parts = []
    if f.since is not None:
        parts.append(f"reviews from {f.since} on")
    if f.board is not None:
        parts.append(f"reviews of {f.board}")
    if f.theme is not None:
        parts.append(f"items about {f.theme}")
    return "; ".join(parts)


def _span_text(first: int | None, last: int | None) -> str:
    if first is None:
        return "year unknown"
    return str(first) if first == last else f"{first}\u2013{last}"


def _short(text: str) -> str:
    return shorten(text, DIGEST_QUOTE)


def _lesson_note(r: LessonRow) -> str:
    themes = f"; themes: {', '.join(r.themes)}" if r.themes else ""
    return f"in {r.reviews} reviews, {_span_text(r.first_year, r.last_year)}{themes}"


def _partner_cells(r: PartnerRow) -> list[str]:
    return [
        str(r.rank),
        r.partner,
        str(r.broken),
        str(r.to_partner),
        str(r.from_partner),
        str(r.between),
        str(r.reviews),
        _span_text(r.first_year, r.last_year),
    ]


PARTNER_HEADER = ["#", "Partner agency", "Broken", "To it", "From it", "Either way", "Reviews", "Years"]


def _missed_heading(m: MissedTheme) -> str:
    return f"{m.theme}: {m.count} in {m.reviews} review(s), {_span_text(m.first_year, m.last_year)}"


def _rec_note(r: RecommendationRow) -> str:
    to_all = "; made to all agencies" if r.addressed_to_all else ""
    n = "1 review" if r.reviews == 1 else f"{r.reviews} reviews"
    return f"made in {n}, {_span_text(r.first_year, r.last_year)}{to_all}"


def _came_back_note(r: CameBackRow) -> str:
    ids = r.later_reviews[:DIGEST_LATER_REVIEWS]
    more = f" and {r.later - len(ids)} more" if r.later > len(ids) else ""
    return (
        f"recommended in {r.recommended.review_id} ({r.recommended.year}); found again in {r.later} later "
        f"review(s), {_span_text(r.first_again, r.last_again)}: {', '.join(ids)}{more}"
    )


def _more(shown: int, total: int, what: str) -> str:
    return f"{total - shown} more {what} in the appendix." if total > shown else ""


YEAR_HEADER = ["Year", "Reviews", "Missed opportunities", "Broken links"]


def _year_cells(y: YearRow) -> list[str]:
    return [str(y.year) if y.year is not None else "unknown", str(y.reviews), str(y.missed_opportunities), str(y.broken_links)]


def _appendix_line(appendix: str | None) -> str:
    return f"Every item, with its source, is in the appendix: {appendix}." if appendix else ""


# --- Markdown


def _md_digest(learning: AgencyLearning, out: _Text, appendix: str | None) -> None:
    d = learning.digest
    out.write(f"# Learning for {_md(learning.agency)}\n\n{_DIGEST_INTRO}\n")
    if _appendix_line(appendix):
        out.write(f"{_md(_appendix_line(appendix))}\n")
    if _filters_text(learning.filters):
        out.write(f"\nRestricted to {_md(_filters_text(learning.filters))}.\n")
    out.write("\n## Summary\n\n")
    for label, value in _summary_lines(learning):
        out.write(f"- **{label}:** {_md(value)}\n")
    out.write(f"\n## Recurring lessons ({d.recurring_lessons_total})\n\n")
    if not d.recurring_lessons:
        out.write("No lesson addressed to this agency recurs in two or more reviews.\n")
    for n, r in enumerate(d.recurring_lessons, 1):
        out.write(f"{n}. {_md(_short(r.text))}  \n   _{_md(_lesson_note(r))}_  \n")
        out.write(f"   Source: {_md(_citation_line(r.citation))}\n")
    out.write(_md_more(len(d.recurring_lessons), d.recurring_lessons_total, "recurring lessons"))
    out.write(f"\n## Broken links by partner agency ({len(d.partners)})\n\n")
    if d.partners:
        out.write("| " + " | ".join(PARTNER_HEADER) + " |\n|" + "---|" * len(PARTNER_HEADER) + "\n")
        for r in d.partners:
            out.write("| " + " | ".join(_md(c) for c in _partner_cells(r)) + " |\n")
        out.write("\nOne quote each (the latest):\n\n")
        for r in d.partners:
            out.write(f"- **{_md(r.partner)}:** {_md(_short(r.example.quote))}  \n  Source: {_md(_citation_line(r.example))}\n")
    else:
        out.write("No broken communication link involves this agency.\n")
    out.write(f"\n## Missed opportunities by theme ({learning.summary.by_kind['missed_opportunity']})\n\n")
    if not d.missed_by_theme:
        out.write("No missed opportunity is attributed to this agency.\n")
    for m in d.missed_by_theme:
        out.write(f"### {_md(_missed_heading(m))}\n\n")
        for e in m.examples:
            out.write(f"- {_md(_short(e.text))}  \n  Source: {_md(_citation_line(e.citation))}\n")
        out.write("\n")
    out.write(_md_more(len(d.missed_by_theme), d.missed_themes_total, "themes of missed opportunities"))
    out.write(f"\n## Recommendations made to {_md(learning.agency)} ({d.recommendations_total} lessons)\n\n")
    if not d.recommendations:
        out.write("No recommendation is addressed to this agency.\n")
    for n, r in enumerate(d.recommendations, 1):
        out.write(f"{n}. {_md(_short(r.text))}  \n   _{_md(_rec_note(r))}_  \n   First: {_md(_citation_line(r.citation))}\n")
    out.write(_md_more(len(d.recommendations), d.recommendations_total, "recommendations"))
    out.write(f"\n## Lessons that came back ({d.came_back_total})\n\n")
    out.write("A recommendation made to this agency in one review, and the same lesson found again in a later review.\n\n")
    if not d.came_back:
        out.write("None found.\n")
    for n, r in enumerate(d.came_back, 1):
        out.write(f"{n}. {_md(_short(r.text))}  \n   _{_md(_came_back_note(r))}_  \n   Source: {_md(_citation_line(r.recommended))}\n")
    out.write(_md_more(len(d.came_back), d.came_back_total, "lessons that came back"))
    out.write("\n## Over time\n\n")
    out.write("| " + " | ".join(YEAR_HEADER) + " |\n|" + "---|" * len(YEAR_HEADER) + "\n")
    for y in d.by_year:
        out.write("| " + " | ".join(_year_cells(y)) + " |\n")
    out.write("\n")


def _md_more(shown: int, total: int, what: str) -> str:
    text = _more(shown, total, what)
    return f"\n{text}\n" if text else ""


def _md_items(learning: AgencyLearning, out: _Text, level: int) -> None:
    h2, h3 = "#" * level, "#" * (level + 1)
    for tg in learning.themes:
        out.write(f"{h2} {_md(tg.theme)} ({tg.items})\n\n")
        if tg.description and tg.theme != GENERAL:
            out.write(f"_{_md(tg.description)}_\n\n")
        for kg in tg.groups:
            out.write(f"{h3} {kg.heading}\n\n")
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
    out.write(f"{h2} Reviews cited\n\n| Review | Title | Year | File |\n|---|---|---|---|\n")
    for r in learning.reviews:
        out.write(
            f"| {_md(r.id)} | {_md(r.title)} | {r.year if r.year is not None else ''} | {_md(r.source)} |\n"
        )


def _write_md(learning: AgencyLearning, fh: BinaryIO, part: Part = "full", appendix: str | None = None, digest: str | None = None) -> None:
    out = _Text(fh)
    if part == "appendix":
        out.write(f"# Every item: {_md(learning.agency)}\n\n{_APPENDIX_INTRO}\n")
        if digest:
            out.write(f"The digest is {_md(digest)}.\n")
        if _filters_text(learning.filters):
            out.write(f"\nRestricted to {_md(_filters_text(learning.filters))}.\n")
        out.write("\n")
        _md_items(learning, out, 2)
        return
    _md_digest(learning, out, appendix if part == "digest" else None)
    if part == "full":
        out.write(f"## Every item ({learning.summary.items})\n\n{_APPENDIX_INTRO}\n\n")
        _md_items(learning, out, 3)


# --- HTML

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
ol.digest li { margin: .5rem 0; }
.note { font-style: italic; color: #333; }
.tag { font-size: .8em; background: #e3e8f1; border-radius: 3px; padding: 0 .3rem; margin-left: .3rem; }
blockquote { margin: .3rem 0; padding-left: .6rem; border-left: 2px solid #999; color: #444; }
.cite { font-size: .85em; color: #555; }
table { border-collapse: collapse; }
td, th { border: 1px solid #bbb; padding: .2rem .5rem; text-align: left; }
@media print { body { margin: 0; max-width: none; } }
"""


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(out: _Text, header: list[str], rows: list[list[str]]) -> None:
    out.write("<table>\n<tr>" + "".join(f"<th>{_h(c)}</th>" for c in header) + "</tr>\n")
    for row in rows:
        out.write("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>\n")
    out.write("</table>\n")


def _html_entry(out: _Text, text: str, note: str, c: Citation, label: str = "Source") -> None:
    out.write(f'<li>{_h(_short(text))}<div class="note">{_h(note)}</div>')
    out.write(f'<div class="cite">{_h(label)}: {_h(_citation_line(c))}</div></li>\n')


def _html_more(out: _Text, shown: int, total: int, what: str) -> None:
    if total > shown:
        out.write(f"<p>{_h(_more(shown, total, what))}</p>\n")


def _html_digest(learning: AgencyLearning, out: _Text, appendix: str | None) -> None:
    d = learning.digest
    out.write(f"<h1>Learning for {_h(learning.agency)}</h1>\n<p>{_h(_DIGEST_INTRO)}</p>\n")
    if appendix:
        out.write(f'<p>Every item, with its source, is in the appendix: <a href="{_h(appendix)}">{_h(appendix)}</a>.</p>\n')
    if _filters_text(learning.filters):
        out.write(f"<p>Restricted to {_h(_filters_text(learning.filters))}.</p>\n")
    out.write('<h2>Summary</h2>\n<dl class="summary">\n')
    for label, value in _summary_lines(learning):
        out.write(f"<dt>{_h(label)}</dt><dd>{_h(value)}</dd>\n")
    out.write("</dl>\n")
    out.write(f"<h2>Recurring lessons ({d.recurring_lessons_total})</h2>\n")
    if not d.recurring_lessons:
        out.write("<p>No lesson addressed to this agency recurs in two or more reviews.</p>\n")
    else:
        out.write('<ol class="digest">\n')
        for r in d.recurring_lessons:
            _html_entry(out, r.text, _lesson_note(r), r.citation)
        out.write("</ol>\n")
    _html_more(out, len(d.recurring_lessons), d.recurring_lessons_total, "recurring lessons")
    out.write(f"<h2>Broken links by partner agency ({len(d.partners)})</h2>\n")
    if d.partners:
        _html_table(out, PARTNER_HEADER, [_partner_cells(r) for r in d.partners])
        out.write('<p>One quote each (the latest):</p>\n<ul class="items">\n')
        for r in d.partners:
            out.write(f'<li class="communication broken"><strong>{_h(r.partner)}:</strong> {_h(_short(r.example.quote))}')
            out.write(f'<div class="cite">Source: {_h(_citation_line(r.example))}</div></li>\n')
        out.write("</ul>\n")
    else:
        out.write("<p>No broken communication link involves this agency.</p>\n")
    out.write(f"<h2>Missed opportunities by theme ({learning.summary.by_kind['missed_opportunity']})</h2>\n")
    if not d.missed_by_theme:
        out.write("<p>No missed opportunity is attributed to this agency.</p>\n")
    for m in d.missed_by_theme:
        out.write(f'<h3>{_h(_missed_heading(m))}</h3>\n<ul class="items">\n')
        for e in m.examples:
            out.write(f'<li class="missed_opportunity">{_h(_short(e.text))}<div class="cite">Source: {_h(_citation_line(e.citation))}</div></li>\n')
        out.write("</ul>\n")
    _html_more(out, len(d.missed_by_theme), d.missed_themes_total, "themes of missed opportunities")
    out.write(f"<h2>Recommendations made to {_h(learning.agency)} ({d.recommendations_total} lessons)</h2>\n")
    if not d.recommendations:
        out.write("<p>No recommendation is addressed to this agency.</p>\n")
    else:
        out.write('<ol class="digest">\n')
        for r in d.recommendations:
            _html_entry(out, r.text, _rec_note(r), r.citation, "First")
        out.write("</ol>\n")
    _html_more(out, len(d.recommendations), d.recommendations_total, "recommendations")
    out.write(f"<h2>Lessons that came back ({d.came_back_total})</h2>\n")
    out.write("<p>A recommendation made to this agency in one review, and the same lesson found again in a later review.</p>\n")
    if not d.came_back:
        out.write("<p>None found.</p>\n")
    else:
        out.write('<ol class="digest">\n')
        for r in d.came_back:
            _html_entry(out, r.text, _came_back_note(r), r.recommended)
        out.write("</ol>\n")
    _html_more(out, len(d.came_back), d.came_back_total, "lessons that came back")
    out.write("<h2>Over time</h2>\n")
    _html_table(out, YEAR_HEADER, [_year_cells(y) for y in d.by_year])


def _html_items(learning: AgencyLearning, out: _Text, level: int) -> None:
    h2, h3 = f"h{level}", f"h{level + 1}"
    for tg in learning.themes:
        out.write(f'<{h2}>{_h(tg.theme)} <span class="tag">{tg.items}</span></{h2}>\n')
        if tg.description and tg.theme != GENERAL:
            out.write(f"<p><em>{_h(tg.description)}</em></p>\n")
        for kg in tg.groups:
            out.write(f'<{h3}>{_h(kg.heading)}</{h3}>\n<ul class="items">\n')
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
    out.write(f"<{h2}>Reviews cited</{h2}>\n")
    _html_table(
        out,
        ["Review", "Title", "Year", "File"],
        [[r.id, r.title, "" if r.year is None else str(r.year), r.source] for r in learning.reviews],
    )


def _write_html(learning: AgencyLearning, fh: BinaryIO, part: Part = "full", appendix: str | None = None, digest: str | None = None) -> None:
    out = _Text(fh)
    title = f"Every item: {learning.agency}" if part == "appendix" else f"Learning for {learning.agency}"
    out.write(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_h(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
    )
    if part == "appendix":
        out.write(f"<h1>{_h(title)}</h1>\n<p>{_h(_APPENDIX_INTRO)}</p>\n")
        if digest:
            out.write(f'<p>The digest is <a href="{_h(digest)}">{_h(digest)}</a>.</p>\n')
        if _filters_text(learning.filters):
            out.write(f"<p>Restricted to {_h(_filters_text(learning.filters))}.</p>\n")
        _html_items(learning, out, 2)
    else:
        _html_digest(learning, out, appendix if part == "digest" else None)
        if part == "full":
            out.write(f"<h2>Every item ({learning.summary.items})</h2>\n<p>{_h(_APPENDIX_INTRO)}</p>\n")
            _html_items(learning, out, 3)
    out.write("</body>\n</html>\n")


# --- CSV

DIGEST_CSV_COLUMNS: tuple[str, ...] = (
    "agency",
    "section",
    "rank",
    "name",
    "text",
    "count",
    "reviews",
    "first_year",
    "last_year",
    "detail",
    "review_id",
    "review_title",
    "year",
    "source",
    "quote_section",
    "quote",
    "lesson",
)


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


def digest_rows(learning: AgencyLearning) -> Iterator[dict[str, str]]:
    """The digest as rows (columns: :data:`DIGEST_CSV_COLUMNS`), one per line of the digest,
    its ``section`` saying which table it belongs to."""
    d = learning.digest

    def row(section: str, rank: int | None, c: Citation | None = None, **kw: object) -> dict[str, str]:
        data: dict[str, object] = {"agency": learning.agency, "section": section, "rank": rank, **kw}
        if c is not None:
            data.update(
                review_id=c.review_id,
                review_title=c.review_title,
                year=c.year,
                source=c.source,
                quote_section=c.section,
                quote=c.quote,
            )
        return {k: _csv_cell(data.get(k)) for k in DIGEST_CSV_COLUMNS}

    for n, r in enumerate(d.recurring_lessons, 1):
        yield row(
            "recurring_lesson", n, r.citation, text=r.text, count=r.points, reviews=r.reviews,
            first_year=r.first_year, last_year=r.last_year, detail="; ".join(r.themes), lesson=r.lesson,
        )
    for r in d.partners:
        yield row(
            "broken_links", r.rank, r.example, name=r.partner, count=r.broken, reviews=r.reviews,
            first_year=r.first_year, last_year=r.last_year,
            detail=f"to {r.to_partner}; from {r.from_partner}; either way {r.between}; effective {r.effective}",
        )
    for n, m in enumerate(d.missed_by_theme, 1):
        for e in m.examples:
            yield row(
                "missed_opportunities", n, e.citation, name=m.theme, text=e.text, count=m.count, reviews=m.reviews,
                first_year=m.first_year, last_year=m.last_year,
            )
    for n, r in enumerate(d.recommendations, 1):
        yield row(
            "recommendation", n, r.citation, text=r.text, count=r.reviews, reviews=r.reviews,
            first_year=r.first_year, last_year=r.last_year,
            detail="made to all agencies" if r.addressed_to_all else "", lesson=r.lesson,
        )
    for n, r in enumerate(d.came_back, 1):
        yield row(
            "came_back", n, r.recommended, text=r.text, count=r.later, reviews=r.later,
            first_year=r.first_again, last_year=r.last_again, detail="; ".join(r.later_reviews), lesson=r.lesson,
        )
    for y in d.by_year:
        yield row(
            "by_year", None, name=str(y.year) if y.year is not None else "unknown", count=y.missed_opportunities,
            reviews=y.reviews, first_year=y.year, last_year=y.year,
            detail=f"missed opportunities {y.missed_opportunities}; broken links {y.broken_links}",
        )


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
                    "lesson": item.lesson,
                    "lesson_text": item.lesson_text,
                    "lesson_reviews": item.lesson_reviews,
                    "partner_rank": item.partner_rank,
                }
                yield {k: _csv_cell(row[k]) for k in CSV_COLUMNS}


def _write_csv(learning: AgencyLearning, fh: BinaryIO, part: Part = "full", appendix: str | None = None, digest: str | None = None) -> None:
    out = _Text(fh)
    out.write("\ufeff")  # UTF-8 byte order mark: spreadsheets then read the accents right
    if part == "digest":
        writer = csv.DictWriter(out, fieldnames=list(DIGEST_CSV_COLUMNS), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(digest_rows(learning))
        return
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(csv_rows(learning))


def _write_json(learning: AgencyLearning, fh: BinaryIO, part: Part = "full", appendix: str | None = None, digest: str | None = None) -> None:
    # pydantic's own serialiser: a national export's 57,000 items in a second, not five.
    fh.write(learning.model_dump_json(indent=2).encode("utf-8"))
    fh.write(b"\n")


# --- Word

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: object) -> str:
    """Text Word can hold (XML forbids most control characters)."""
    return _XML_ILLEGAL.sub("", str(text))


# A run: (text, bold, italic, half-points size or 0). A paragraph: a list of runs. A cell: a
# list of paragraphs. Tables are written as WordprocessingML directly (python-docx's
# cell-by-cell API takes minutes for the 50,000 rows of a national appendix).
Run = tuple[str, bool, bool, int]


def _w_run(run: Run) -> str:
    text, bold, italic, size = run
    props = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "") + (f'<w:sz w:val="{size}"/>' if size else "")
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{xml_escape(_x(text))}</w:t></w:r>'


def _w_cell(paragraphs: list[list[Run]], width: int) -> str:
    body = "".join("<w:p>" + "".join(_w_run(r) for r in p) + "</w:p>" for p in paragraphs) or "<w:p/>"
    return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{body}</w:tc>'


_TABLE_MARK = "@@SGRAPH-TABLE-{}-{}@@"  # a nonce per document, then the table's number


def _docx_table(doc, header: list[str], rows: Iterable[list[list[list[Run]]]], widths_cm: list[float]) -> None:
    """A "Table Grid" table with a bold header row, appended to ``doc``'s body.

    The table's WordprocessingML is kept as text, and a placeholder paragraph stands in the
    document; :func:`_save_docx` puts the text in the placeholder's place in the saved
    document.xml. (Parsed and moved into the document, a 20,000-row table costs lxml tens of
    seconds of namespace bookkeeping; as text it costs what writing it costs.)"""
    widths = [int(w * 567) for w in widths_cm]  # twentieths of a point
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    parts = [
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>",
    ]
    if header:
        parts.append("<w:tr>" + "".join(_w_cell([[(h, True, False, 0)]], w) for h, w in zip(header, widths, strict=False)) + "</w:tr>")
    for row in rows:
        parts.append("<w:tr>" + "".join(_w_cell(c, w) for c, w in zip(row, widths, strict=False)) + "</w:tr>")
    parts.append("</w:tbl>")
    tables = doc.__dict__.setdefault("_sgraph_tables", [])
    nonce = doc.__dict__.setdefault("_sgraph_nonce", secrets.token_hex(8))
    doc.add_paragraph(_TABLE_MARK.format(nonce, len(tables)))
    tables.append("".join(parts))


def _plain(text: str) -> list[list[Run]]:
    return [[(text, False, False, 0)]]


def _cited(text: str, note: str, c: Citation, label: str = "Source") -> list[list[Run]]:
    return [
        [(_short(text), False, False, 0)],
        [(note, False, True, 0)],
        [(f"{label}: {_citation_line(c)}", False, False, 16)],
    ]


def _docx_digest(learning: AgencyLearning, doc, appendix: str | None) -> None:
    d = learning.digest
    doc.add_heading(_x(f"Learning for {learning.agency}"), level=0)
    doc.add_paragraph(_DIGEST_INTRO)
    if appendix:
        doc.add_paragraph(_x(_appendix_line(appendix)))
    if _filters_text(learning.filters):
        doc.add_paragraph(_x(f"Restricted to {_filters_text(learning.filters)}."))
    doc.add_heading("Summary", level=1)
    _docx_table(doc, [], ([[[(label, True, False, 0)]], _plain(value)] for label, value in _summary_lines(learning)), [5.0, 11.0])
    doc.add_heading(f"Recurring lessons ({d.recurring_lessons_total})", level=1)
    if d.recurring_lessons:
        _docx_table(doc, ["#", "Lesson"], ([_plain(str(n)), _cited(r.text, _lesson_note(r), r.citation)] for n, r in enumerate(d.recurring_lessons, 1)), [1.0, 16.0])
    else:
        doc.add_paragraph("No lesson addressed to this agency recurs in two or more reviews.")
    _docx_more(doc, len(d.recurring_lessons), d.recurring_lessons_total, "recurring lessons")
    doc.add_heading(f"Broken links by partner agency ({len(d.partners)})", level=1)
    if d.partners:
        _docx_table(doc, PARTNER_HEADER, ([_plain(c) for c in _partner_cells(r)] for r in d.partners), [0.8, 4.4, 1.6, 1.6, 1.6, 1.8, 1.8, 2.4])
        doc.add_paragraph("One quote each (the latest):")
        _docx_table(doc, ["Partner agency", "Quote"], ([_plain(r.partner), _cited(r.example.quote, "", r.example)[::2]] for r in d.partners), [4.0, 13.0])
    else:
        doc.add_paragraph("No broken communication link involves this agency.")
    doc.add_heading(f"Missed opportunities by theme ({learning.summary.by_kind['missed_opportunity']})", level=1)
    if not d.missed_by_theme:
        doc.add_paragraph("No missed opportunity is attributed to this agency.")
    for m in d.missed_by_theme:
        doc.add_heading(_x(_missed_heading(m)), level=2)
        _docx_table(doc, ["Example"], ([_cited(e.text, "", e.citation)[::2]] for e in m.examples), [17.0])
    _docx_more(doc, len(d.missed_by_theme), d.missed_themes_total, "themes of missed opportunities")
    doc.add_heading(_x(f"Recommendations made to {learning.agency} ({d.recommendations_total} lessons)"), level=1)
    if d.recommendations:
        _docx_table(doc, ["#", "Recommendation"], ([_plain(str(n)), _cited(r.text, _rec_note(r), r.citation, "First")] for n, r in enumerate(d.recommendations, 1)), [1.0, 16.0])
    else:
        doc.add_paragraph("No recommendation is addressed to this agency.")
    _docx_more(doc, len(d.recommendations), d.recommendations_total, "recommendations")
    doc.add_heading(f"Lessons that came back ({d.came_back_total})", level=1)
    doc.add_paragraph("A recommendation made to this agency in one review, and the same lesson found again in a later review.")
    if d.came_back:
        _docx_table(doc, ["#", "Lesson"], ([_plain(str(n)), _cited(r.text, _came_back_note(r), r.recommended)] for n, r in enumerate(d.came_back, 1)), [1.0, 16.0])
    else:
        doc.add_paragraph("None found.")
    _docx_more(doc, len(d.came_back), d.came_back_total, "lessons that came back")
    doc.add_heading("Over time", level=1)
    _docx_table(doc, YEAR_HEADER, ([_plain(c) for c in _year_cells(y)] for y in d.by_year), [2.5, 2.5, 4.0, 3.0])


def _docx_more(doc, shown: int, total: int, what: str) -> None:
    if total > shown:
        doc.add_paragraph(_more(shown, total, what))


def _item_cells(item: ExportItem) -> list[list[list[Run]]]:
    c = item.citation
    text: list[Run] = [(item.text, False, False, 0)]
    extra = _item_marks(item)
    if extra:
        text.append((f" ({'; '.join(extra)})", False, True, 0))
    paragraphs = [text]
    if c.quote and c.quote != item.text:
        paragraphs.append([(f"\u201c{c.quote}\u201d", False, True, 0)])
    review = f"{c.review_title} ({c.review_id})" if c.review_title else c.review_id
    return [
        _plain(_kind_label(item)),
        paragraphs,
        [[(review, False, False, 0)], [(f"File: {c.source}", False, False, 16)]],
        _plain("" if c.year is None else str(c.year)),
        _plain(c.section),
    ]


def _docx_items(learning: AgencyLearning, doc, level: int) -> None:
    for tg in learning.themes:
        doc.add_heading(_x(tg.theme), level=level)
        if tg.description and tg.theme != GENERAL:
            doc.add_paragraph(_x(tg.description)).runs[0].italic = True
        _docx_table(
            doc,
            ["Kind", "Text / quote", "Review", "Year", "Section"],
            (_item_cells(item) for kg in tg.groups for item in kg.items),
            [3.2, 8.3, 3.0, 1.2, 2.3],
        )
    if not learning.themes:
        doc.add_paragraph("No items involve this agency in the graph.")
    doc.add_heading("Reviews cited", level=level)
    _docx_table(
        doc,
        ["Review", "Title", "Year", "File"],
        ([_plain(r.id), _plain(r.title), _plain("" if r.year is None else str(r.year)), _plain(r.source)] for r in learning.reviews),
        [3.0, 7.0, 1.5, 5.5],
    )


def _save_docx(doc, fh: BinaryIO) -> None:
    """Save ``doc`` with its tables (:func:`_docx_table`) in place of their placeholders.

    Built in memory first: a failed write then leaves no half-closed zip behind."""
    import zipfile

    buf = io.BytesIO()
    doc.save(buf)
    tables: list[str] = doc.__dict__.get("_sgraph_tables", [])
    if not tables:
        fh.write(buf.getvalue())
        return
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                mark = re.escape(_TABLE_MARK.format(doc.__dict__["_sgraph_nonce"], "")[:-2]) + r"(\d+)@@"
                pieces = re.split(f"<w:p><w:r><w:t>{mark}</w:t></w:r></w:p>", text)
                if len(pieces) != 2 * len(tables) + 1:
                    raise RuntimeError("docx: a table placeholder was not found")  # pragma: no cover
                for i in range(1, len(pieces), 2):
                    pieces[i] = tables[int(pieces[i])]
                data = "".join(pieces).encode("utf-8")
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    fh.write(out.getvalue())


def _new_docx(title: str, subject: str):
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    doc.core_properties.title = _x(title)
    doc.core_properties.subject = subject
    doc.core_properties.author = "sgraph"
    doc.styles["Normal"].font.size = Pt(10)
    return doc


def _write_docx(learning: AgencyLearning, fh: BinaryIO, part: Part = "full", appendix: str | None = None, digest: str | None = None) -> None:
    if part == "appendix":
        doc = _new_docx(f"Every item: {learning.agency}", "Child safeguarding reviews: every item for one agency")
        doc.add_heading(_x(f"Every item: {learning.agency}"), level=0)
        doc.add_paragraph(_APPENDIX_INTRO)
        if digest:
            doc.add_paragraph(_x(f"The digest is {digest}."))
        if _filters_text(learning.filters):
            doc.add_paragraph(_x(f"Restricted to {_filters_text(learning.filters)}."))
        _docx_items(learning, doc, 1)
    else:
        doc = _new_docx(f"Learning for {learning.agency}", "Child safeguarding reviews: learning for one agency")
        _docx_digest(learning, doc, appendix if part == "digest" else None)
        if part == "full":
            doc.add_heading(f"Every item ({learning.summary.items})", level=1)
            doc.add_paragraph(_APPENDIX_INTRO)
            _docx_items(learning, doc, 2)
    _save_docx(doc, fh)


_WRITERS: dict[str, Callable[..., None]] = {
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
    atomic_write_all([(Path(path), write)])


def atomic_write_all(files: list[tuple[Path, Callable[[BinaryIO], None]]]) -> None:
    """Write several files all or nothing: each to a temporary file in its folder, then,
    once every one is written, each renamed over its path. If any write fails, the
    temporary files are removed and every path is left as it was."""
    done: list[tuple[Path, Path]] = []
    try:
        for path, write in files:
            path = Path(path)
            tmp = _write_temporary(path, write)
            done.append((tmp, path))
        for tmp, path in done:
            check_out_file(path)  # again: it may have become a link or a device meanwhile
            os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc}).") from None
    finally:
        for tmp, _path in done:
            if tmp.exists():
                tmp.unlink()


def _write_temporary(path: Path, write: Callable[[BinaryIO], None]) -> Path:
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
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def appendix_path(out: str | os.PathLike[str]) -> Path:
    """The appendix beside a digest: ``police.md`` → ``police.appendix.md``."""
    path = Path(out)
    stem = path.stem
    # A name may hold 255 bytes: a long digest's stem is cut so that its appendix fits too.
    while len(f"{stem}.appendix{path.suffix}".encode("utf-8", "surrogateescape")) > 255 and stem:
        stem = stem[:-1]
    return path.with_name(f"{stem}.appendix{path.suffix}")


def output_paths(out: str | os.PathLike[str], fmt: str, full: bool = False) -> list[Path]:
    """The files an export to ``out`` writes: the digest and its appendix, or one file
    (``full``, and JSON, which holds the digest and every item)."""
    fmt = check_format(fmt)
    if full or fmt == "json":
        return [Path(out)]
    return [Path(out), appendix_path(out)]


def write_learning(
    learning: AgencyLearning, fmt: str, out: str | os.PathLike[str], force: bool = False, full: bool = False
) -> Path:
    """Write an already computed export (``fmt``: md, html, csv, json or docx) to ``out``:
    the digest there and every item in the appendix beside it (:func:`appendix_path`), or
    with ``full`` the digest followed by every item in one file (for CSV: one row per item).
    Returns ``out``; nothing is written if any of the files exists and ``force`` is not given."""
    fmt = check_format(fmt)
    paths = output_paths(out, fmt, full)
    for path in paths:
        check_target(path, force)
    writer = _WRITERS[fmt]
    if len(paths) == 1:
        atomic_write_all([(paths[0], lambda fh: writer(learning, fh, "full"))])
    else:
        digest, appendix = paths
        atomic_write_all(
            [
                (digest, lambda fh: writer(learning, fh, "digest", appendix=appendix.name)),
                (appendix, lambda fh: writer(learning, fh, "appendix", digest=digest.name)),
            ]
        )
    return paths[0]


def export_agency(
    graph: nx.MultiDiGraph,
    name: str,
    fmt: str,
    out: str | os.PathLike[str],
    force: bool = False,
    taxonomy: Taxonomy | None = None,
    full: bool = False,
    since: int | None = None,
    board: str | None = None,
    theme: str | None = None,
) -> Path:
    """Write what agency ``name`` (any alias) must learn to ``out`` as ``fmt``: the digest,
    and every item in the appendix beside it (or both in one file with ``full``).

    Existing files are only replaced with ``force``; the files are written whole or not at all.
    """
    fmt = check_format(fmt)
    for path in output_paths(out, fmt, full):
        check_target(path, force)
    learning = agency_learning(graph, name, taxonomy, since=since, board=board, theme=theme)
    return write_learning(learning, fmt, out, force, full)


def export_graph(
    home: str | os.PathLike[str] | None = None, agencies: Iterable[str] | None = None
) -> nx.MultiDiGraph:
    """The data an export reads: the part of the workspace's stored graph that the exports
    of ``agencies`` (names or aliases; None: every agency) need, i.e. the union of their
    :func:`agency_view`. The one place exports touch the workspace.

    graph.json is read by :func:`graph_model.graph_slice.agency_slice` (only the lines
    needed, a few percent of a national graph); if its layout is not the expected one, the
    whole graph is read instead."""
    from .graph_slice import LayoutError, agency_slice
    from .stored import stored_graph
    from .workspace import READ_ERRORS, graph_path

    path = graph_path(home)
    if path.is_file():
        try:
            return agency_slice(path, list(agencies) if agencies is not None else None, resolve_agency)
        except (LayoutError, *READ_ERRORS):
            pass
    return stored_graph(home)


def agency_file_name(agency: str, fmt: str) -> str:
    """``Children's Social Care`` → ``childrens-social-care.md``."""
    slug = re.sub(r"[^a-z0-9]+", "-", agency.lower().replace("'", "").replace("\u2019", "")).strip("-")
    return f"{slug or 'agency'}{SUFFIXES[check_format(fmt)]}"


class IndexEntry(BaseModel):
    agency: str
    sector: str
    file: str  # the digest (or the single file)
    appendix: str | None = None  # every item, beside the digest
    items: int
    reviews: int
    broken_links: int
    recurring_lessons: int = 0
    came_back: int = 0


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
            f"# {title}\n\n| Agency | Sector | Items | Reviews | Broken links | Recurring lessons | Came back | Every item |\n"
            "|---|---|---|---|---|---|---|---|\n"
        )
        for e in entries:
            appendix = f"[appendix]({e.appendix})" if e.appendix else ""
            out.write(
                f"| [{_md(e.agency)}]({e.file}) | {_md(e.sector)} | {e.items} | {e.reviews} | {e.broken_links} "
                f"| {e.recurring_lessons} | {e.came_back} | {appendix} |\n"
            )
    elif fmt == "html":
        out = _Text(fh)
        out.write(
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f"<style>{_CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n<table>\n"
            "<tr><th>Agency</th><th>Sector</th><th>Items</th><th>Reviews</th><th>Broken links</th>"
            "<th>Recurring lessons</th><th>Came back</th><th>Every item</th></tr>\n"
        )
        for e in entries:
            appendix = f'<a href="{_h(e.appendix)}">appendix</a>' if e.appendix else ""
            out.write(
                f'<tr><td><a href="{_h(e.file)}">{_h(e.agency)}</a></td><td>{_h(e.sector)}</td>'
                f"<td>{e.items}</td><td>{e.reviews}</td><td>{e.broken_links}</td>"
                f"<td>{e.recurring_lessons}</td><td>{e.came_back}</td><td>{appendix}</td></tr>\n"
            )
        out.write("</table>\n</body>\n</html>\n")
    else:
        doc = _new_docx(title, "Child safeguarding reviews: learning by agency")
        doc.add_heading(title, level=0)
        _docx_table(
            doc,
            ["Agency", "Sector", "Items", "Reviews", "Broken links", "Digest", "Appendix"],
            (
                [_plain(str(v)) for v in (e.agency, e.sector, e.items, e.reviews, e.broken_links, e.file, e.appendix or "")]
                for e in entries
            ),
            [3.5, 2.0, 1.5, 1.5, 1.8, 3.5, 3.5],
        )
        _save_docx(doc, fh)


def export_agencies(
    graph: nx.MultiDiGraph,
    out_dir: str | os.PathLike[str],
    fmt: str = "md",
    force: bool = False,
    taxonomy: Taxonomy | None = None,
    full: bool = False,
    since: int | None = None,
    board: str | None = None,
    theme: str | None = None,
) -> list[Path]:
    """A digest (and its appendix, or with ``full`` one file) per agency that has any item,
    plus ``index.<fmt>``, in ``out_dir``.

    Nothing is written if any of the files exists and ``force`` is not given. Returns the
    digests written, the index last.
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
    for path in [*(p for f in files.values() for p in output_paths(folder / f, fmt, full)), index]:
        check_target(path, force)
    written: list[Path] = []
    entries: list[IndexEntry] = []
    for name in names:
        learning = agency_learning(graph, name, taxonomy, since=since, board=board, theme=theme)
        paths = output_paths(folder / files[name], fmt, full)
        written.append(write_learning(learning, fmt, paths[0], force=True, full=full))
        entries.append(
            IndexEntry(
                agency=learning.agency,
                sector=learning.sector,
                file=files[name],
                appendix=paths[1].name if len(paths) > 1 else None,
                items=learning.summary.items,
                reviews=learning.summary.reviews,
                broken_links=sum(c.count for c in learning.summary.broken_link_counterparts),
                recurring_lessons=learning.digest.recurring_lessons_total,
                came_back=learning.digest.came_back_total,
            )
        )
    atomic_write(index, lambda fh: _write_index(entries, fmt, fh))
    written.append(index)
    return written


def render(
    learning: AgencyLearning, fmt: str, part: Part = "full", appendix: str | None = None, digest: str | None = None
) -> bytes:
    """The export as bytes (``part``: the digest, the appendix, or both in one file;
    ``appendix`` / ``digest``: the file name the digest / the appendix names)."""
    buf = io.BytesIO()
    _WRITERS[check_format(fmt)](learning, buf, part, appendix=appendix, digest=digest)
    return buf.getvalue()
