"""Interactive maps and the board pack: static HTML that opens offline from the file system.

* :func:`agency_map_html` — agencies and the communication links between them, across all
  reviews (one line per agency pair: red if any of its links broke, dashed green if all worked;
  an arrowhead per direction; agencies round a ring by sector);
* :func:`review_map_html` — one review: its cases, family members, agencies, missed
  opportunities and themes, with its communication links;
* :func:`theme_map_html` — learning themes, the reviews that raise them and the agencies
  their learning is addressed to; recurring themes (raised by two or more reviews) stand out;
* :func:`write_report` — the board pack: an index (opening with the agency pairs where
  communication broke down most, :func:`graph_model.breakdowns.broken_pairs`, and an agency x
  agency matrix), the maps and a page per review and agency.

Each map is ONE self-contained HTML file: pyvis builds the vis-network node/edge data and
options; the page template, CSS and JS come from ``visualisations/`` (shipped as
``graph_model.map_templates``) and vis-network's JS/CSS from the copy inside the pyvis
package, all inlined. The page loads nothing from anywhere (a Content-Security-Policy with
the hashes of its two scripts forbids it) and the same graph always gives the same bytes.
Inside the board pack the maps share one copy of the two scripts instead (see
:func:`write_report`).

Aggregate maps stay small at thousands of reviews: a line or node carries its full counts but
the words of only the newest few items (:data:`LINE_QUOTE_CAP`, :data:`PANEL_LIST_CAP`,
:data:`THEME_LINE_CAP`, :data:`THEME_REVIEW_CAP`; the side panel says "Showing 5 of 312" and
where the rest is); texts repeated across items are stored once, a line's reviews as rising
steps, and reviews the filters cannot tell apart share one filter row (map.js undoes all three
when the page loads).

Every string from a document is untrusted: the map data travels as JSON inside
``<script type="application/json">`` with ``<``, ``>``, ``&`` and U+2028/9 escaped, and
``map.js`` puts it on the page with ``textContent`` only. The board-pack pages escape
everything with :func:`html.escape`; their only scripts are the pack's own files in
``assets/`` (``pack.js`` sorts tables; ``review-page.js`` and ``review-loader.js`` unpack a
review's page or map data, a base64 string, from ``reviews/data/`` or ``maps/data/``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
import shutil
import tempfile
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx

from .errors import OutputError, UsageError
from .outpath import check_out_file, check_out_folder
from .text import shorten

#: The theme map draws a node per review only up to this many reviews; above it the
#: themes carry the counts and the side panel lists the reviews.
REVIEW_NODE_CAP = 40
#: Longest list a node of an aggregate map carries for its side panel (newest reviews first;
#: the panel says "showing N of M" and where the rest is: the board pack, ``sgraph export agency``).
PANEL_LIST_CAP = 10
#: Quotes an agency-map line carries (newest reviews first); its counts always cover every link.
LINE_QUOTE_CAP = 5
#: Learning listed in the side panel for one theme→agency line of the theme map.
THEME_LINE_CAP = 5
#: Reviews, with their words, listed for one theme of the theme map.
THEME_REVIEW_CAP = 20
#: Rows per section of an agency page in the board pack (newest reviews first); the page
#: gives the full counts, and ``sgraph export agency`` every item.
AGENCY_PAGE_CAP = 100
#: Most lines an aggregate map shows at first: an "at least N" filter, set so, hides the
#: pairs with the least evidence (the reader can lower it).
AGENCY_LINE_BUDGET = 25
THEME_LINE_BUDGET = 120

BROKEN = "#d62728"
EFFECTIVE = "#2ca02c"
GREY_EDGE = "#a9a9a9"
HUB_EDGE = "#dcdcdc"
REVIEW_COLOUR = "#34495e"
CASE_COLOUR = "#6b6b6b"
FAMILY_COLOUR = "#17a2b8"
MISSED_COLOUR = "#7b5ea7"  # a violet: never to be read as a second red (broken links are red)
THEME_COLOUR = "#f3e3b5"
RECURRING_THEME_COLOUR = "#a6611a"

SECTOR_COLOURS = {
    "health": "#4e79a7",
    "social care": "#b07aa1",
    "police": "#1f3b73",
    "education": "#f28e2b",
    "early help": "#edc948",
    "justice": "#9c755f",
    "housing": "#76b7b2",
    "partnership": "#8c8c8c",
    "voluntary": "#ff9da7",
    "other": "#c7c7c7",
}
_EXTRA_COLOURS = ("#86bcb6", "#d4a6c8", "#b6992d", "#499894", "#d37295", "#79706e", "#fabfd2", "#a0cbe8")

VIS_VERSION = "9.1.2"
_MARKER = ".sgraph-board-pack"

# --------------------------------------------------------------------------- assets


def _template_text(name: str) -> str:
    """A file of ``visualisations/``: from the installed package, else from the checkout."""
    try:
        res = resources.files("graph_model.map_templates").joinpath(name)
        if res.is_file():
            return res.read_text(encoding="utf-8")
    except (ModuleNotFoundError, TypeError, AttributeError, OSError):
        pass
    path = Path(__file__).resolve().parent.parent / "visualisations" / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise OutputError(
            f"the map template '{name}' is missing (looked in graph_model.map_templates and {path.parent}); "
            "reinstall safeguarding-graph."
        ) from None


@lru_cache(maxsize=1)
def _vis_assets() -> tuple[str, str]:
    """vis-network's JS and CSS from the copy shipped inside the pyvis package."""
    import pyvis

    base = Path(pyvis.__file__).resolve().parent
    for folder in (base / "lib" / f"vis-{VIS_VERSION}", base / "templates" / "lib" / f"vis-{VIS_VERSION}"):
        js, css = folder / "vis-network.min.js", folder / "vis-network.css"
        if js.is_file() and css.is_file():
            break
    else:
        raise OutputError(
            f"vis-network {VIS_VERSION} was not found inside the pyvis package at {base}; "
            "reinstall pyvis (pip install 'pyvis>=0.3.2')."
        )
    js_text = js.read_text(encoding="utf-8")
    # The CSS carries base64 images for the navigation and editing buttons, which the maps
    # switch off; dropping them keeps every map ~200 kB smaller.
    css_text = re.sub(r"url\((['\"]?)data:[^)]*\)", "none", css.read_text(encoding="utf-8"))
    for text, what in ((js_text, "JS"), (css_text, "CSS")):
        low = text.lower()
        if "</script" in low or "</style" in low or "<!--" in low:
            raise OutputError(f"pyvis's vis-network {what} cannot be inlined safely (it contains a closing tag).")
    return js_text, css_text


@lru_cache(maxsize=1)
def _page_assets() -> tuple[str, str, str]:
    tpl, css, js = (_template_text(n) for n in ("map.html", "map.css", "map.js"))
    if "</script" in js.lower() or "</style" in css.lower():
        raise OutputError("visualisations/map.js or map.css contains a closing tag and cannot be inlined.")
    return tpl, css, js


def _script_json(obj: object) -> str:
    """JSON that is safe inside ``<script type="application/json">``."""
    text = json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


#: Where the maps of a board pack find the scripts they share (relative to ``maps/``).
ASSETS_DIR = "assets"
VIS_JS_FILE = "vis-network.min.js"
MAP_JS_FILE = "map.js"
MAP_CSS_FILE = "map.css"  # vis-network's CSS, then the maps' own
#: What a board-pack map may run: the pack's own script files. ``'self'`` does not match
#: file:// URLs in every browser (their origin is opaque), so the ``file:`` scheme is allowed
#: too; inline scripts are not (the map data is JSON in a non-executed block).
PACK_SCRIPT_SRC = "'self' file:"


def _render_map_page(kind: str, title: str, subtitle: str, payload: dict, assets: str | None = None) -> str:
    """The page; vis-network, map.js and their CSS inlined, or (``assets``: a relative folder URL
    such as ``"../assets/"``) loaded from the board pack's shared copies (``<script src>``, one
    ``<link rel="stylesheet">``)."""
    tpl, css, js = _page_assets()
    vis_js, vis_css = _vis_assets()
    if assets is None:
        script_src, style_src = f"{_csp_hash(vis_js)} {_csp_hash(js)}", "'unsafe-inline'"
        scripts = f"<script>{vis_js}</script>\n<script>{js}</script>"
        styles = f"<style>{vis_css}</style>\n<style>{css}</style>"
    else:
        script_src, style_src = PACK_SCRIPT_SRC, f"'unsafe-inline' {PACK_SCRIPT_SRC}"
        scripts = "\n".join(f'<script src="{html.escape(assets + name)}"></script>' for name in (VIS_JS_FILE, MAP_JS_FILE))
        styles = f'<link rel="stylesheet" href="{html.escape(assets + MAP_CSS_FILE)}">'
    csp = (
        f"default-src 'none'; script-src {script_src}; style-src {style_src}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    values = {
        "csp": html.escape(csp),
        "kind": html.escape(kind),
        "title": html.escape(title),
        "subtitle": html.escape(subtitle),
        "styles": styles,
        "data": _script_json(payload),
        "scripts": scripts,
    }
    # One pass over the template: inserted values are never scanned for placeholders again.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], tpl)


def _write_assets(folder: Path) -> None:
    """The scripts and style sheet the board pack's maps share (see :func:`_render_map_page`)."""
    _tpl, css, js = _page_assets()
    vis_js, vis_css = _vis_assets()
    _write(folder / VIS_JS_FILE, vis_js)
    _write(folder / MAP_JS_FILE, js)
    _write(folder / MAP_CSS_FILE, vis_css + "\n" + css)
    _write(folder / PACK_JS_FILE, _template_text(PACK_JS_FILE))
    _write(folder / "report.css", _template_text("report.css"))
    _write(folder / REVIEW_LOADER_FILE, _template_text(REVIEW_LOADER_FILE))
    _write(folder / REVIEW_PAGE_JS_FILE, _template_text(REVIEW_PAGE_JS_FILE))


#: The board pack's one page for every review's map (``maps/review.html#<slug>``): it loads
#: ``maps/data/<slug>.js``, the review's map data, gzip-compressed and base64-encoded.
REVIEW_MAP_PAGE = "review.html"
REVIEW_DATA_DIR = "data"
REVIEW_LOADER_FILE = "review-loader.js"
#: The board pack's one page for every review (``reviews/review.html#<slug>``): it loads
#: ``reviews/data/<slug>.js``, the review's page body, gzip-compressed and base64-encoded.
REVIEW_PAGE = "review.html"
REVIEW_PAGE_JS_FILE = "review-page.js"


def _review_data_script(payload: dict) -> str:
    """A review's map data as a script of the pack: ``sgReviewData("<base64 of gzip of JSON>");``.
    A base64 string is inert whatever the document said; gzip with no time stamp keeps the
    bytes the same for the same graph."""
    import gzip

    raw = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
    packed = base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")
    return f'sgReviewData("{packed}");\n'


def _shared_review_page(assets: str) -> str:
    """The pack's review-map page: map.html with no data of its own; the loader fetches the
    review named after ``#`` and then runs map.js."""
    page = _render_map_page("review", "Review map", "", {}, assets)
    loader = f'<script src="{html.escape(assets + REVIEW_LOADER_FILE)}"></script>'
    shared = f'<script src="{html.escape(assets + MAP_JS_FILE)}"></script>'
    assert shared in page
    return page.replace(shared, loader)


# --------------------------------------------------------------------------- graph index


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _short(text: str, limit: int = 32) -> str:
    return shorten(text, limit)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _slugs(names: list[str]) -> dict[str, str]:
    """File-name-safe, unique (also on case-insensitive file systems), stable slugs."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names):
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or "item"
        slug = base
        if slug.lower() in taken:
            slug = f"{base}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"
        n = 2
        while slug.lower() in taken:
            slug = f"{base}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}-{n}"
            n += 1
        taken.add(slug.lower())
        out[name] = slug
    return out


def sector_colour(sector: str) -> str:
    """The colour of a sector on every map (unknown sectors get a stable extra colour)."""
    if sector in SECTOR_COLOURS:
        return SECTOR_COLOURS[sector]
    return _EXTRA_COLOURS[int(hashlib.sha1(sector.encode("utf-8")).hexdigest(), 16) % len(_EXTRA_COLOURS)]


class _Index:
    """Lookups over the graph, computed once (everything sorted, so maps are deterministic)."""

    def __init__(self, g: nx.MultiDiGraph):
        self.g = g
        self._review_of: dict[str, str] = {}
        self._name: dict[str, str] = {}
        self.timelines: dict[int, tuple[list, list]] = {}  # see _timeline_events
        self._year: dict[str, str] = {}
        self.label: dict[str, str] = {}
        by_label: dict[str, list[str]] = defaultdict(list)
        for n in sorted(g.nodes, key=str):
            lab = _s(g.nodes[n].get("label"))
            self.label[n] = lab
            by_label[lab].append(n)
        self.by_label = by_label
        # Every edge once, grouped by type, each type's edges in (id, from, to) order; a review's
        # edges by type in the same order. (One pass over the adjacency, then a sort per type:
        # sorting all edges by (type, id, ...) at once cost a fifth of writing the pack.)
        grouped: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
        for u, nbrs in g.adj.items():
            for v, keyed in nbrs.items():
                for d in keyed.values():
                    t = d.get("type")
                    grouped["" if t is None else str(t)].append((u, v, d))
        self.by_type: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
        self.review_edges: dict[str, dict[str, list[tuple[str, str, dict]]]] = defaultdict(lambda: defaultdict(list))
        for t in sorted(grouped):
            es = grouped[t]
            es.sort(key=lambda e: (_s(e[2].get("id")), str(e[0]), str(e[1])))
            self.by_type[t] = es
            for e in es:
                rid = e[2].get("review_id")
                if rid is not None:
                    rid = str(rid)
                    self.review_edges[rid][t].append(e)

        self.review_node: dict[str, str] = {}
        for n in by_label["Review"]:
            self.review_node[_s(self.g.nodes[n].get("id")) or str(n).split(":", 1)[-1]] = n
        self.review_ids = sorted(self.review_node)

        # Agencies: reviews involving them (review id -> (quote, mentions)), links, learning.
        self.involves: dict[str, dict[str, dict]] = defaultdict(dict)
        for _u, v, d in self.by_type["INVOLVES"]:
            self.involves[v][_s(d.get("review_id"))] = d
        self.raises: dict[str, dict[str, dict]] = defaultdict(dict)  # theme node -> review id -> edge
        self.review_themes: dict[str, list[str]] = defaultdict(list)  # review id -> theme names
        for _u, v, d in self.by_type["RAISES"]:
            rid = _s(d.get("review_id"))
            self.raises[v][rid] = d
            self.review_themes[rid].append(self.name(v))
        self.links = self.by_type["COMMUNICATION"]
        self.addressed: dict[str, list[str]] = defaultdict(list)  # agency node -> learning point nodes
        self.lp_agencies: dict[str, list[str]] = defaultdict(list)
        for u, v, _d in self.by_type["ADDRESSED_TO"]:
            self.addressed[v].append(u)
            self.lp_agencies[u].append(v)
        self.missed_by: dict[str, list[str]] = defaultdict(list)  # agency node -> MO nodes
        self.mo_agencies: dict[str, list[str]] = defaultdict(list)
        for u, v, _d in self.by_type["MISSED_BY"]:
            self.missed_by[v].append(u)
            self.mo_agencies[u].append(v)
        self.about: dict[str, list[str]] = defaultdict(list)  # LP/MO node -> theme nodes
        self.theme_items: dict[str, list[str]] = defaultdict(list)  # theme node -> LP/MO nodes
        for u, v, _d in self.by_type["ABOUT_THEME"]:
            self.about[u].append(v)
            self.theme_items[v].append(u)
        self.concerns: dict[str, list[str]] = defaultdict(list)  # MO -> family member nodes
        self.concerned: dict[str, list[str]] = defaultdict(list)
        for u, v, _d in self.by_type["CONCERNS"]:
            self.concerns[u].append(v)
            self.concerned[v].append(u)
        self.agency_slug = _slugs([self.name(n) for n in by_label["Agency"]])
        self.review_slug = _slugs(self.review_ids)
        self._review_label: dict[str, str] | None = None

    def review_label(self, rid: str) -> str:
        """What a person reads for a review: its title and year; the board too where two
        reviews share a title, and the id where the title does not tell them apart."""
        if self._review_label is None:
            base: dict[str, str] = {}
            for r in self.review_ids:
                info = self.review_info(r)
                base[r] = _short(info.get("title") or r, 70) + (f" ({info['year']})" if info.get("year") else "")
            seen: dict[str, int] = defaultdict(int)
            for text in base.values():
                seen[text] += 1
            labels = {}
            for r, text in base.items():
                if seen[text] > 1 and self.review_info(r).get("board"):
                    text = f"{text}, {_short(self.review_info(r)['board'], 50)}"
                labels[r] = text
            again: dict[str, int] = defaultdict(int)
            for text in labels.values():
                again[text] += 1
            self._review_label = {r: (f"{t} [{r}]" if again[t] > 1 and r not in t else t) for r, t in labels.items()}
        return self._review_label.get(rid) or rid

    # ---- node helpers
    def props(self, n: str) -> dict:
        return self.g.nodes[n]

    def name(self, n: str) -> str:
        """What a person reads for node ``n`` (worked out once per node: every page asks often)."""
        name = self._name.get(n)
        if name is None:
            name = self._name[n] = self._name_of(n)
        return name

    def _name_of(self, n: str) -> str:
        d = self.g.nodes[n]
        lab = self.label.get(n, "")
        if lab in ("Agency", "Theme"):
            return _s(d.get("name")) or str(n).split(":", 1)[-1]
        if lab == "Case":
            return _s(d.get("name")) or _s(d.get("id"))
        if lab == "FamilyMember":
            return _s(d.get("role")) + (f" ({d['case']})" if d.get("case") else "")
        if lab in ("LearningPoint", "MissedOpportunity"):
            return _s(d.get("text"))
        return _s(d.get("id")) or str(n).split(":", 1)[-1]

    def sector(self, n: str) -> str:
        return _s(self.g.nodes[n].get("sector")) or "other"

    def review_of(self, n: str) -> str:
        rid = self._review_of.get(n)
        if rid is None:
            rid = self._review_of[n] = _s(self.g.nodes[n].get("review_id"))
        return rid

    def review_info(self, rid: str) -> dict:
        d = self.g.nodes[self.review_node[rid]] if rid in self.review_node else {}
        info = {
            "title": _s(d.get("title")),
            "year": _s(d.get("year")),
            "source": _s(d.get("source")),
            "board": _s(d.get("board")),
            "type": _s(d.get("review_type")),
        }
        return {k: v for k, v in info.items() if v}

    def review_year(self, rid: str) -> str:
        year = self._year.get(rid)
        if year is None:
            d = self.g.nodes[self.review_node[rid]] if rid in self.review_node else {}
            year = self._year[rid] = _s(d.get("year")) or "unknown"
        return year

    def newest_first(self, rid: str) -> tuple[int, str]:
        """Sort key: reviews of the latest year first (unknown years last), then by id."""
        year = self.review_year(rid)
        return (-int(year) if year.isdigit() else 1, rid)


CURATED_NOTE = "curated by an analyst"
CURATED_DASHES = [2, 6]  # a link an analyst added or changed: dotted (broken links are solid, effective ones dashed)


def _curated(d: dict) -> dict:
    """The side-panel flag that shows a "Curated" badge on a fact an analyst added or changed."""
    return {"curated": True} if d.get("curated") else {}


def inferred_note(d: dict) -> str:
    """How a link with one end found outside its sentence says so ("" for any other fact)."""
    end = d.get("inferred_end")
    if end not in ("source", "target"):
        return ""
    return f"{'sender' if end == 'source' else 'recipient'} inferred from the sentences around this one"


def _evidence_note(d: dict, extra: str = "") -> str:
    parts = [CURATED_NOTE] if d.get("curated") else []
    if extra:
        parts.append(extra)
    inferred = inferred_note(d)
    if inferred:
        parts.append(inferred)
    if d.get("section"):
        parts.append(f"section: {d['section']}")
    if d.get("case"):
        parts.append(f"case: {d['case']}")
    return " \u00b7 ".join(parts)


def _same_words(a: str, b: str) -> bool:
    return a == b or " ".join(a.split()) == " ".join(b.split())


def _text_quote(d: dict) -> dict:
    """A fact's text and its verbatim quote; the text only when it says something else."""
    text, quote = _s(d.get("text")), _s(d.get("quote"))
    return {"quote": quote} if quote and _same_words(text, quote) else {"text": text, "quote": quote}


def _list(heading: str, items: list[dict], cap: int | None = PANEL_LIST_CAP, *, total: int | None = None,
          rest: str = "") -> dict:
    """A side-panel list: at most ``cap`` of ``items`` (or of ``total`` items, when only the first
    few were made), saying "Showing N of M" and, in ``rest``, where the others are."""
    total = len(items) if total is None else total
    shown = items if cap is None else items[:cap]
    out = {"heading": f"{heading} ({total:,})", "items": shown}
    if total > len(shown):
        out["more"] = total - len(shown)
        out["note"] = f"Showing {len(shown):,} of {total:,}" + (f" \u2014 {rest}" if rest else "") + "."
    return out


def _export_hint(agency: str) -> str:
    return (f"the full list is on the agency pages of the board pack (sgraph report) and in "
            f"sgraph export agency {json.dumps(agency, ensure_ascii=False)}")


def _take_turns(items: list, index: _Index, review_of, key_of, cap: int) -> list:
    """The ``cap`` items to quote: the newest reviews first, one item from each review before a
    second from any (ties: review id, then ``key_of``), listed newest review first."""
    ordered = sorted(items, key=lambda x: (index.newest_first(review_of(x)), key_of(x)))
    if len(ordered) <= cap:
        return ordered
    rank: dict[str, int] = defaultdict(int)
    turn = []
    for x in ordered:
        turn.append(rank[review_of(x)])
        rank[review_of(x)] += 1
    picked = sorted(range(len(ordered)), key=lambda i: (turn[i], i))[:cap]
    return [ordered[i] for i in sorted(picked)]


def _circle(ids: list[str], radius: float, start: float = -math.pi / 2) -> dict[str, tuple[float, float]]:
    n = max(len(ids), 1)
    return {
        nid: (round(radius * math.cos(start + 2 * math.pi * i / n), 1), round(radius * math.sin(start + 2 * math.pi * i / n), 1))
        for i, nid in enumerate(ids)
    }


def _column(ids: list[str], x: float, spacing: float) -> dict[str, tuple[float, float]]:
    top = -spacing * (len(ids) - 1) / 2
    return {nid: (x, round(top + spacing * i, 1)) for i, nid in enumerate(ids)}


def _ring_radius(count: int, spacing: float = 90.0, minimum: float = 220.0) -> float:
    return round(max(minimum, spacing * count / (2 * math.pi)), 1)


def _node_colour(fill: str, border: str = "#333333") -> dict:
    return {
        "background": fill,
        "border": border,
        "highlight": {"background": fill, "border": "#000000"},
        "hover": {"background": fill, "border": "#000000"},
    }


def _link_width(base: float, top: float, count: int, max_count: int) -> float:
    """Line width by evidence count relative to the map's largest; same formula as map.js."""
    frac = math.sqrt((count - 1) / (max_count - 1)) if max_count > 1 else 0.0
    return round(base + (top - base) * frac, 3)


def _dashes(width: float) -> list[float]:
    """Dash pattern that stays visibly dashed at any width (round caps eat into the gaps); as map.js."""
    return [round(max(8.0, 2.5 * width), 1), round(max(5.0, 1.5 * width + 4), 1)]


_THRESHOLDS = (1, 2, 3, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000)


def _min_filter(counts: list[int], budget: int, noun: str) -> tuple[dict | None, int]:
    """A "pairs with at least N" filter whose default keeps at most ``budget`` lines on screen.

    Returns the filter (None when every count is 1) and the default threshold.
    """
    if not counts or max(counts) <= 1:
        return None, 1
    options = [t for t in _THRESHOLDS if t <= max(counts)]
    default = next((t for t in options if sum(1 for c in counts if c >= t) <= budget), options[-1])
    spec = {"key": "min", "label": "At least", "type": "min", "default": str(default),
            "options": [[str(t), f"{t:,} {noun}" + ("" if t == 1 else "s")] for t in options]}
    return spec, default


def _options(*, iterations: int = 300, spring: int = 140, gravity: int = -70) -> dict:
    return {
        "autoResize": True,
        "layout": {"randomSeed": 7, "improvedLayout": False},
        "physics": {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {
                "gravitationalConstant": gravity,
                "centralGravity": 0.012,
                "springLength": spring,
                "springConstant": 0.05,
                "damping": 0.6,
                "avoidOverlap": 0.6,
            },
            "maxVelocity": 40,
            "minVelocity": 0.8,
            "timestep": 0.5,
            "stabilization": {"enabled": True, "iterations": iterations, "updateInterval": 50, "fit": True},
        },
        "interaction": {
            "hover": True,
            "tooltipDelay": 100000000,
            "multiselect": False,
            "navigationButtons": False,
            "keyboard": False,
            "selectConnectedEdges": False,
            "hideEdgesOnDrag": False,
        },
        "nodes": {
            "font": {"face": "Segoe UI, Arial, sans-serif", "size": 15, "color": "#1d1d1d", "strokeWidth": 4, "strokeColor": "#ffffff"},
            "borderWidth": 1,
        },
        "edges": {"smooth": False, "selectionWidth": 3, "hoverWidth": 1.5, "arrowStrikethrough": False,
                  "arrows": {"to": {"scaleFactor": 0.6}}},
        "manipulation": {"enabled": False},
        "configure": {"enabled": False},
    }


def _share_strings(details: dict[str, dict]) -> list[str]:
    """Texts and quotes that several side-panel items repeat (a learning point addressed to
    every agency is on every line of its theme) are stored once: the items carry their index
    into the returned list, and map.js puts the text back when the page loads."""
    seen: dict[str, int] = defaultdict(int)
    items = [item for d in details.values() for lst in d.get("lists", []) for item in lst["items"]]
    for item in items:
        for key in ("text", "quote"):
            if len(item.get(key, "")) >= 40:
                seen[item[key]] += 1
    shared = sorted(t for t, n in seen.items() if n > 1)
    number = {t: i for i, t in enumerate(shared)}
    for item in items:
        for key in ("text", "quote"):
            if item.get(key) in number:
                item[key] = number[item[key]]
    return shared


def _compact_rows(rows: list[dict[str, list[str]]], filters: list[dict]) -> tuple[list[str], list[list]]:
    """The per-review filter rows as (keys, one list per row of its value lists in the keys'
    order, null for a key it lacks), each value its position in its filter's option list
    (map.js turns them back): thousands of reviews would otherwise repeat every key and theme
    name many times."""
    keys = sorted({k for row in rows for k in row})
    position = {f["key"]: {o[0]: i for i, o in enumerate(f.get("options", []))} for f in filters}

    def values(k: str, vals: list[str] | None) -> list | None:
        return None if vals is None else [position.get(k, {}).get(x, x) for x in vals]

    return keys, [[values(k, row.get(k)) for k in keys] for row in rows]


class _MapBuilder:
    """Collects vis-network nodes and edges through pyvis, plus the page's side data."""

    def __init__(self, kind: str, title: str, subtitle: str, assets: str | None = None):
        from pyvis.network import Network

        self.kind, self.title, self.subtitle, self.assets = kind, title, subtitle, assets
        self.net = Network(height="100%", width="100%", directed=True, cdn_resources="in_line")
        self._node_ids: set[str] = set()
        self.details: dict[str, dict] = {}
        self.reviews: dict[str, dict] = {}
        self.filters: list[dict] = []
        self.legend: list[dict] = []
        self.legend_notes: list[str] = []
        self.intro: list[str] = []
        self.ranking: list[list] = []
        self.min_label_px = 0
        self.counted_lines = 0
        self._edges = 0

    def node(self, nid: str, label: str, *, shape: str, colour: dict, size: float, pos: tuple[float, float],
             f: dict | None = None, search: str = "", detail: dict | None = None, **extra) -> None:
        if nid in self._node_ids:
            return
        self._node_ids.add(nid)
        opts = dict(extra)
        opts.update(color=colour, size=round(size, 2), x=pos[0], y=pos[1])
        if search and search != label:  # map.js searches the label otherwise
            opts["search"] = search
        if f:
            opts["f"] = f
        # No "title": vis-network would show it as HTML in a pop-up.
        self._add(self.net.nodes, opts, id=nid, label=label or " ", shape=shape)
        self.net.node_ids.append(nid)
        self.net.node_map[nid] = opts
        if detail:
            self.details[nid] = detail

    def edge(self, u: str, v: str, *, colour: str, width: float, dashes: bool | list = False, arrows: str = "",
             smooth: dict | bool = False, f: dict | None = None, reviews: list[str] | None = None,
             reviews_effective: list[str] | None = None, detail: dict | None = None, **extra) -> str:
        self._edges += 1
        eid = f"e{self._edges}"
        opts = dict(extra)
        # A colour string sets the normal, highlight and hover colours at once.
        opts.update(id=eid, color=colour, width=width, arrows=arrows)
        if dashes:
            opts["dashes"] = dashes
        if smooth:
            opts["smooth"] = smooth
        if f:
            opts["f"] = f
        if reviews is not None:
            # One review id per piece of evidence behind the line; the filters count them
            # (year, review, theme of each review live once in the page's "rf" table).
            opts["subr"] = list(reviews)
        if reviews_effective is not None:
            # On the agency map a line is a pair: "subr" its broken links, "esubr" its effective ones.
            opts["esubr"] = list(reviews_effective)
        assert u in self._node_ids and v in self._node_ids, f"an edge to a node not on the map: {u} -> {v}"
        self._add(self.net.edges, opts, **{"from": u, "to": v})
        if detail:
            self.details[eid] = detail
        return eid

    @staticmethod
    def _add(items: list[dict], opts: dict, **ends: object) -> None:
        """A node or edge into the pyvis network, as its ``add_node`` / ``add_edge`` store them
        (the options, then the id, label and shape, or the ends), without their checks: each
        looks through the list of every node so far (this builder checks with a set)."""
        opts.update(ends)
        items.append(opts)

    def use_review(self, index: _Index, rid: str) -> None:
        if rid and rid not in self.reviews and rid in index.review_node:
            self.reviews[rid] = index.review_info(rid)

    def html(self, options: dict, node_noun: str, edge_noun: str, review_filters=None) -> str:
        """The map as a page (see :func:`_render_map_page`)."""
        payload = self.payload(options, node_noun, edge_noun, review_filters)
        return _render_map_page(self.kind, self.title, self.subtitle, payload, self.assets)

    def payload(self, options: dict, node_noun: str, edge_noun: str, review_filters=None) -> dict:
        """What map.js draws: nodes, edges, options, side-panel details, filters, legend."""
        self.net.options = options
        nodes, edges, _heading, _h, _w, options_json = self.net.get_network_data()
        used = sorted({r for e in edges for key in ("subr", "esubr") for r in e.get(key, [])})
        # Reviews the filters cannot tell apart (on the theme map above the review cap, those of
        # one year) share one row of "rf": a line then carries a count per row, not per review.
        rows: list[dict] = []
        row_number: dict[str, int] = {}
        position: dict[str, int] = {}
        for r in used:
            row = review_filters(r) if review_filters else {}
            key = json.dumps(row, sort_keys=True)
            if key not in row_number:
                row_number[key] = len(rows)
                rows.append(row)
            position[r] = row_number[key]
        for e in edges:
            for key, nkey in (("subr", "subn"), ("esubr", "esubn")):
                if key not in e:
                    continue
                # review ids -> (index into "rf", how many pieces of evidence)
                counts: dict[int, int] = defaultdict(int)
                for r in e[key]:
                    counts[position[r]] += 1
                # The indexes rise: each is stored as the step from the one before (map.js adds
                # them up), which keeps thousands of them short.
                rising = sorted(counts)
                e[key] = [x - (rising[i - 1] if i else 0) for i, x in enumerate(rising)]
                e[nkey] = [counts[x] for x in rising]
        rf_keys, rf = _compact_rows(rows, self.filters) if review_filters else ([], [])
        payload = {
            "strings": _share_strings(self.details),
            "rfk": rf_keys,
            "rf": rf,
            "kind": self.kind,
            "nodes": sorted(nodes, key=lambda n: str(n["id"])),
            "edges": sorted(edges, key=lambda e: int(str(e["id"])[1:])),
            "options": json.loads(options_json),
            "details": self.details,
            "reviews": self.reviews,
            "filters": self.filters,
            "legend": self.legend,
            "legend_notes": self.legend_notes,
            "intro": self.intro,
            "node_noun": node_noun,
            "edge_noun": edge_noun,
        }
        if self.ranking:
            payload["ranking"] = self.ranking
        if self.min_label_px:
            payload["min_label_px"] = self.min_label_px
        if self.counted_lines:
            payload["counted_lines"] = self.counted_lines
            payload["colors"] = {"broken": BROKEN, "effective": EFFECTIVE}
        return payload


def _sector_legend(b: _MapBuilder, sectors: list[str], shape: str = "dot") -> None:
    for sector in sectors:
        b.legend.append({"type": "node", "shape": shape, "color": sector_colour(sector), "label": f"Agency: {sector}"})


def _text_on(fill: str) -> str:
    """Black or white text, whichever reads better on ``fill`` (#rrggbb)."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return "#111111" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def _link_legend(b: _MapBuilder) -> None:
    b.legend.append({"type": "edge", "color": BROKEN, "width": 4, "label": "Broken link (communication failed)"})
    b.legend.append({"type": "edge", "color": EFFECTIVE, "width": 2.5, "dashes": True, "label": "Effective link"})


def _year_range(years: set[str]) -> dict:
    """The maps' year filter: a range, from one year to another (two selects; either end may
    stay open). Reviews of no known year are shown only while both ends are open."""
    return {"key": "year", "label": "Years", "type": "range", "from": "From any year", "to": "to any year",
            "options": _year_options(years)}


def _year_options(years: set[str]) -> list[list[str]]:
    known = sorted((y for y in years if y != "unknown"), key=lambda y: (len(y), y))
    out = [[y, y] for y in known]
    if "unknown" in years:
        out.append(["unknown", "Year not known"])
    return out


# --------------------------------------------------------------------------- agency map


def _ellipse(ids: list[str], rx: float, ry: float) -> dict[str, tuple[float, float]]:
    """Positions round an ellipse (wider than tall, as the map's canvas), from the top, clockwise.
    Every line between two of them is a chord: it never runs through a third agency."""
    n = max(len(ids), 1)
    start = -math.pi / 2 + (math.pi / n if n % 2 == 0 else 0.0)
    return {nid: (round(rx * math.cos(start + 2 * math.pi * i / n), 1), round(ry * math.sin(start + 2 * math.pi * i / n), 1))
            for i, nid in enumerate(ids)}


def _wrap_label(name: str, width: int = 16) -> str:
    """A name on at most three lines of about ``width`` characters (vis-network breaks at "\\n")."""
    words, lines, line = name.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    if len(lines) > 3:
        lines = lines[:2] + [" ".join(lines[2:])]
    return "\n".join(lines) or name


#: The agency map's labels are at least this many pixels high at the zoom that fits the map
#: (map.js enlarges them after fitting); the count labels of the heaviest lines too.
MIN_LABEL_PX = 12
#: Lines of the agency map that carry their count as a label (the heaviest shown).
COUNTED_LINES = 6


def _agency_map(index: _Index, assets: str | None = None, pairs: list | None = None) -> str:
    from .breakdowns import broken_pairs

    agencies = index.by_label["Agency"]
    reviews_with_links: set[str] = set()
    # (a, b) with a < b -> that pair's links, both statuses and directions
    groups: dict[tuple[str, str], list[tuple[str, str, dict]]] = defaultdict(list)
    for u, v, d in index.links:
        a, b = sorted((u, v))
        groups[(a, b)].append((u, v, d))
        reviews_with_links.add(_s(d.get("review_id")))

    def is_broken(d: dict) -> bool:
        return _s(d.get("status") or "broken") == "broken"

    n_broken = sum(1 for *_x, d in index.links if is_broken(d))
    n_effective = len(index.links) - n_broken
    n_reviews = len(index.review_ids)
    b = _MapBuilder(
        "agencies",
        "Where communication between agencies broke down",
        f"{_plural(len(agencies), 'agency', 'agencies')} \u00b7 {_plural(n_broken, 'broken link')} and "
        f"{_plural(n_effective, 'effective link')} from {_plural(n_reviews, 'review')}",
        assets,
    )
    b.intro = [
        "Each box is an agency, coloured by its sector; agencies of one sector sit together round the ring.",
        "A red line joins two agencies whose communication broke down, at least once; a dashed green line, two whose "
        "communication only ever worked. The thicker the line, the more links the reviews describe; the heaviest "
        "lines carry their count. An arrow points from the agency that did not pass information on to the one that "
        "should have had it (arrows both ways: it happened both ways; the larger head, the more often).",
        f"Click a line to read the reviews behind it and the words they used (the {LINE_QUOTE_CAP} newest when there "
        "are more; the board pack's agency pages list more). Click an agency to see only it and its partners.",
    ]

    # Nodes: boxes round an ellipse, grouped by sector, then by name. No physics: the same
    # places every time, and a line never runs through an agency it does not join.
    order = sorted(agencies, key=lambda n: (index.sector(n), index.name(n)))
    ry = max(260.0, 34.0 * len(order) / (2 * math.pi) * 3.2)
    pos = _ellipse(order, round(1.55 * ry, 1), round(ry, 1))
    link_counts: dict[str, dict[str, int]] = defaultdict(lambda: {"broken": 0, "effective": 0})
    links_of: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    for u, v, d in index.links:
        st = "broken" if is_broken(d) else "effective"
        for n in (u, v):
            link_counts[n][st] += 1
            links_of[n].append((u, v, d))

    def newest_links(links: list[tuple[str, str, dict]], cap: int) -> list[tuple[str, str, dict]]:
        return _take_turns(links, index, lambda e: _s(e[2].get("review_id")), lambda e: _s(e[2].get("id")), cap)

    # The border grades the share of the agency's links that broke (none: thin grey).
    for n in agencies:
        name, sector = index.name(n), index.sector(n)
        involved = index.involves.get(n, {})
        items = []
        for rid in sorted(involved, key=index.newest_first)[:PANEL_LIST_CAP]:
            d = involved[rid]
            b.use_review(index, rid)
            items.append({"review": rid, "quote": _s(d.get("quote")),
                          "note": _evidence_note(d, f"mentioned {_s(d.get('mentions')) or '1'} time(s)")})
        link_items = []
        for u, v, d in newest_links(links_of.get(n, []), PANEL_LIST_CAP):
            b.use_review(index, _s(d.get("review_id")))
            link_items.append({
                "review": _s(d.get("review_id")),
                "status": _s(d.get("status")),
                "quote": _s(d.get("quote")),
                "note": _evidence_note(d, f"{index.name(u)} \u2192 {index.name(v)}"),
            })
        counts = link_counts[n]
        total = counts["broken"] + counts["effective"]
        share = counts["broken"] / total if total else 0.0
        detail = {
            "kind": "Agency",
            "title": name,
            "facts": [
                ["Sector", sector],
                ["Reviews involving it", f"{len(involved):,}"],
                ["Broken links", f"{counts['broken']:,}" + (f" ({100 * share:.0f}% of its links)" if total else "")],
                ["Effective links", f"{counts['effective']:,}"],
            ],
            "lists": [
                _list("Communication links", link_items, total=len(links_of.get(n, [])), rest=_export_hint(name)),
                _list("Reviews involving this agency", items, total=len(involved), rest=_export_hint(name)),
            ],
        }
        fill = sector_colour(sector)
        b.node(
            n,
            _wrap_label(name),
            shape="box",
            colour=_node_colour(fill, "#7a0c0c" if share >= 0.5 else "#333333"),
            size=14,
            pos=pos[n],
            borderWidth=round(1 + 5 * share, 1) if counts["broken"] else 1,
            margin=7,
            font={"size": 15, "color": _text_on(fill), "strokeWidth": 0, "multi": False},
            f={"sector": [sector]},
            search=f"{name} {sector}",
            detail=detail,
        )

    per_pair = [(len([1 for *_x, d in links if is_broken(d)]), len(links)) for links in groups.values()]
    min_spec, min_default = _min_filter([t for _nb, t in per_pair], AGENCY_LINE_BUDGET, "link")
    max_primary = max([nb or t for nb, t in per_pair] + [1])
    hint_tail = "the full list is on the agency pages of the board pack (sgraph report) and in sgraph export agency"
    for (a, c), links in sorted(groups.items()):
        broken_links = [x for x in links if is_broken(x[2])]
        effective_links = [x for x in links if not is_broken(x[2])]
        primary = broken_links or effective_links
        broken = bool(broken_links)
        split: dict[str, dict[str, int]] = {"broken": defaultdict(int), "effective": defaultdict(int)}
        for u, _v, d in links:
            way = "none" if not d.get("directed", True) else ("ab" if u == a else "ba")
            split["broken" if is_broken(d) else "effective"][way] += 1
        ab, ba = split["broken" if broken else "effective"]["ab"], split["broken" if broken else "effective"]["ba"]

        def head(k: int, of: int) -> dict:
            return {"enabled": k > 0, "scaleFactor": round(0.35 + 0.5 * (k / of if of else 0), 2)}

        na, nc = index.name(a), index.name(c)

        def ways(st: str, split: dict = split, na: str = na, nc: str = nc) -> str:
            sp = split[st]
            parts = [f"{na} \u2192 {nc}: {sp['ab']:,}" if sp["ab"] else "", f"{nc} \u2192 {na}: {sp['ba']:,}" if sp["ba"] else "",
                     f"no direction: {sp['none']:,}" if sp["none"] else ""]
            return "; ".join(x for x in parts if x)

        def evidence(st_links: list, word: str, na: str = na) -> dict:
            items = []
            for u, v, d in newest_links(st_links, LINE_QUOTE_CAP):
                b.use_review(index, _s(d.get("review_id")))
                arrow = f"{index.name(u)} \u2192 {index.name(v)}" if d.get("directed", True) else f"{index.name(u)} \u2194 {index.name(v)}"
                items.append({"review": _s(d.get("review_id")), "quote": _s(d.get("quote")), "status": _s(d.get("status")),
                              "note": _evidence_note(d, arrow), **_curated(d)})
            return _list(f"{word} links: evidence", items, cap=None, total=len(st_links),
                         rest=f"the newest reviews first, one link from each; {hint_tail} {json.dumps(na, ensure_ascii=False)}")

        reviews_b = {_s(d.get("review_id")) for *_x, d in broken_links}
        facts = []
        if broken_links:
            share = len(broken_links) / len(links)
            facts += [["Broken links", f"{len(broken_links):,} ({100 * share:.0f}% of the pair's links)"],
                      ["Who did not tell whom", ways("broken")],
                      ["Reviews with a broken link", f"{len(reviews_b):,}"]]
            years = sorted({int(y) for y in (index.review_year(r) for r in reviews_b) if y.isdigit()})
            if years:
                facts.append(["First\u2013last year", f"{years[0]}" if years[0] == years[-1] else f"{years[0]}\u2013{years[-1]}"])
                per_year: dict[str, int] = defaultdict(int)
                for *_x, d in broken_links:
                    per_year[index.review_year(_s(d.get("review_id")))] += 1
                facts.append(["Broken links per year", "; ".join(f"{y}: {per_year[y]:,}" for y in sorted(per_year, key=lambda y: (not y.isdigit(), y)))])
        facts.append(["Effective links", f"{len(effective_links):,}"])
        if effective_links:
            facts.append(["Direction of effective links", ways("effective")])
        lists = []
        if broken_links:
            lists.append(evidence(broken_links, "Broken"))
        if effective_links:
            lists.append(evidence(effective_links, "Effective"))
        base = 4.0 if broken else 2.5
        width = _link_width(base, 11.0, len(primary), max_primary)
        b.edge(
            a,
            c,
            colour=BROKEN if broken else EFFECTIVE,
            width=width,
            dashes=False if broken else _dashes(width),
            arrows={"to": head(ab, len(primary)), "from": head(ba, len(primary))},
            f={"status": (["broken"] if broken_links else []) + (["effective"] if effective_links else []),
               "sector": sorted({index.sector(a), index.sector(c)})},
            reviews=[_s(d.get("review_id")) for *_x, d in broken_links] if broken_links else None,
            reviews_effective=[_s(d.get("review_id")) for *_x, d in effective_links] if effective_links else None,
            wb=4.0,
            wm=11.0,
            detail={
                "kind": "Communication between two agencies",
                "title": f"{na} \u2014 {nc}",
                "facts": facts,
                "lists": lists,
            },
        )

    # "Where communication broke down most", in the side panel: each pair a button to its line.
    line_of = {(e["from"], e["to"]): e["id"] for e in b.net.edges}
    b.ranking = [[line_of[(p.node_a, p.node_b)], f"{p.a} \u2013 {p.b}", p.broken, len(p.reviews)]
                 for p in (broken_pairs(index.g) if pairs is None else pairs)[:10] if (p.node_a, p.node_b) in line_of]

    sectors = sorted({index.sector(n) for n in agencies})
    _sector_legend(b, sectors, shape="square")
    _link_legend(b)
    b.legend_notes = ["Line width: number of links; the heaviest lines carry it. Arrow: who did not tell whom.",
                      "Border: the thicker and darker, the larger the share of the agency's links that broke."]
    years = {index.review_year(r) for r in reviews_with_links}
    themes = sorted({t for r in reviews_with_links for t in index.review_themes.get(r, [])})
    b.filters = [
        {"key": "status", "label": "Links", "type": "checks", "match": "any",
         "options": [["broken", "Broken"], ["effective", "Effective"]]},
        {"key": "sector", "label": "Sector", "type": "select", "all": "All sectors", "options": [[s, s] for s in sectors]},
        _year_range(years),
        {"key": "review", "label": "Review", "type": "select", "all": "All reviews",
         "options": [[r, index.review_label(r)] for r in sorted(reviews_with_links, key=index.newest_first)]},
        {"key": "theme", "label": "Theme", "type": "select", "all": "All themes", "options": [[t, t] for t in themes]},
    ]
    if min_spec:
        b.filters.append(min_spec)
    options = _options()
    options["physics"] = {"enabled": False}
    options["edges"]["font"] = {"size": 14, "strokeWidth": 5, "strokeColor": "#ffffff", "color": "#1d1d1d", "align": "horizontal"}
    options["interaction"]["zoomView"] = True
    b.min_label_px = MIN_LABEL_PX
    b.counted_lines = COUNTED_LINES
    return b.html(
        options, "agencies", "agency pairs",
        lambda rid: {"year": [index.review_year(rid)], "review": [rid], "theme": sorted(set(index.review_themes.get(rid, [])))},
    )


def agency_map_html(graph: nx.MultiDiGraph) -> str:
    """The agency communication map across all reviews, as one self-contained HTML page.

    Each line carries the counts of its links and reviews and the words of at most
    :data:`LINE_QUOTE_CAP` links (newest reviews first; its side panel says "Showing 5 of 312"
    and points to the board pack's agency pages and ``sgraph export agency``), so the page stays
    small at thousands of reviews.
    """
    return _agency_map(_Index(graph))


# --------------------------------------------------------------------------- review map


def _review_map(index: _Index, rid: str, assets: str | None = None, as_data: bool = False) -> str | dict:
    """The review's map page, or (``as_data``) its data for the board pack's shared review page."""
    if rid not in index.review_node:
        known = ", ".join(index.review_ids[:8]) + (", ..." if len(index.review_ids) > 8 else "")
        raise UsageError(f"There is no review '{rid}' in the graph (reviews: {known or 'none'}).")
    rnode = index.review_node[rid]
    info = index.review_info(rid)
    by_type = defaultdict(list, index.review_edges.get(rid, {}))
    links = by_type["COMMUNICATION"]
    n_broken = sum(1 for *_x, d in links if _s(d.get("status")) == "broken")
    b = _MapBuilder(
        "review",
        index.review_label(rid),
        " \u00b7 ".join(
            x for x in (
                info.get("type", ""), info.get("board", ""), info.get("year", ""),
                f"{_plural(n_broken, 'broken link')}, {_plural(len(links) - n_broken, 'effective link')}",
                f"source file: {info['source']}" if info.get("source") else "",
            ) if x
        ),
        assets,
    )
    b.use_review(index, rid)
    b.intro = [
        "The square is the review. Around it: the agencies involved (circles by sector) and its cases (triangles).",
        "Red lines between agencies are communication that broke down; dashed green lines communication that worked. "
        "An arrow points from the agency that did not pass information on to the one that should have had it.",
        "Tick \u201cFamily\u201d, \u201cMissed opportunities\u201d (violet diamonds, named by their first words and the "
        "agency that missed them) or \u201cThemes\u201d (hexagons) above to add them. Click anything to read the "
        "evidence from the review; the timeline is in the review's panel (click the square).",
    ]

    kinds = {"Case": "case", "FamilyMember": "family", "Agency": "agency", "MissedOpportunity": "missed", "Theme": "theme"}
    members = [v for _u, v, _d in by_type["HAS_CASE"]] + [v for _u, v, _d in by_type["HAS_FAMILY_MEMBER"]]
    agencies = {v for _u, v, _d in by_type["INVOLVES"]}
    agencies |= {x for u, v, _d in links for x in (u, v)}
    agencies |= {v for _u, v, _d in by_type["MISSED_BY"]}
    mos = [v for _u, v, _d in by_type["HAS_MISSED_OPPORTUNITY"]]
    themes = [v for _u, v, _d in by_type["RAISES"]]
    lps = [v for _u, v, _d in by_type["HAS_LEARNING"]]
    themes_set = set(themes) | {t for m in mos for t in index.about.get(m, [])}
    ordered = (
        sorted(set(members), key=lambda n: (index.label[n], str(n)))
        + sorted(agencies, key=lambda n: (index.sector(n), index.name(n)))
        + sorted(set(mos), key=str)
        + sorted(themes_set, key=lambda n: index.name(n))
    )
    pos = _circle(ordered, _ring_radius(len(ordered), 80.0, 240.0))
    pos[rnode] = (0.0, 0.0)

    lp_cache: dict[str, dict] = {}

    def lp_item(lp: str) -> dict:
        if lp not in lp_cache:  # a learning point is listed for the review and each agency it is for
            d = index.props(lp)
            who = ", ".join(sorted(index.name(a) for a in index.lp_agencies.get(lp, [])))
            if d.get("all_agencies"):
                who = "all agencies" + (f" ({who})" if who else "")
            note = _evidence_note(d, f"{_s(d.get('kind')).replace('_', ' ')}" + (f"; addressed to {who}" if who else ""))
            lp_cache[lp] = {**_text_quote(d), "note": note, **_curated(d)}
        return dict(lp_cache[lp])

    # This review's learning and missed opportunities per agency and theme (from its own edges:
    # the index's lists span every review).
    addressed_here: dict[str, list[str]] = defaultdict(list)
    for u, v, _d in by_type["ADDRESSED_TO"]:
        addressed_here[v].append(u)
    missed_here: dict[str, list[str]] = defaultdict(list)
    for u, v, _d in by_type["MISSED_BY"]:
        missed_here[v].append(u)
    learning_here: dict[str, list[str]] = defaultdict(list)
    for u, v, _d in by_type["ABOUT_THEME"]:
        if index.label.get(u) == "LearningPoint":
            learning_here[v].append(u)

    rd = index.props(rnode)
    b.node(
        rnode, _short(info.get("title") or rid, 40), shape="square", colour=_node_colour(REVIEW_COLOUR, "#111111"), size=28, pos=pos[rnode],
        font={"size": 18, "color": "#1d1d1d"}, search=f"{rid} {info.get('title', '')}",
        detail={
            "kind": "Review",
            "title": info.get("title") or rid,
            "facts": [[k, v] for k, v in (
                ("Review", rid), ("Title", info.get("title", "")), ("Type", info.get("type", "")),
                ("Board", info.get("board", "")), ("Year", info.get("year", "")),
                ("Source file", info.get("source", "")), ("SHA-256", _s(rd.get("sha256"))),
            ) if v],
            "lists": [_timeline_panel(index, by_type), _list("Learning", [lp_item(lp) for lp in sorted(lps, key=str)], cap=None)],
        },
    )
    for n in ordered:
        lab = index.label[n]
        d = index.props(n)
        kind = kinds.get(lab, "other")
        if lab == "Case":
            fms = sorted(v for u, v, _d in by_type["HAS_FAMILY_MEMBER"] if u == n)
            b.node(n, _short(index.name(n)), shape="triangle", colour=_node_colour(CASE_COLOUR), size=18, pos=pos[n],
                   f={"kind": [kind]}, detail={"kind": "Case", "title": index.name(n), "facts": [["Review", rid]],
                                               "lists": [_list("Family members", [{"title": index.name(m)} for m in fms], None)]})
        elif lab == "FamilyMember":
            ev = next((d2 for u, v, d2 in by_type["HAS_FAMILY_MEMBER"] if v == n), {})
            mo_items = [{"text": index.name(m)} for m in sorted(index.concerned.get(n, []), key=str)]
            b.node(n, _short(index.name(n)), shape="triangleDown", colour=_node_colour(FAMILY_COLOUR), size=14, pos=pos[n],
                   f={"kind": [kind]},
                   detail={"kind": "Family member", "title": index.name(n),
                           "facts": [[k, v] for k, v in (("Role", _s(d.get("role"))), ("Case", _s(d.get("case")))) if v],
                           "lists": [_list("Evidence", [{"quote": _s(ev.get("quote")), "note": _evidence_note(ev)}] if ev.get("quote") else [], None),
                                     _list("Missed opportunities concerning them", mo_items, None)]})
        elif lab == "Agency":
            inv = index.involves.get(n, {}).get(rid, {})
            my_links = [(u, v, d2) for u, v, d2 in links if n in (u, v)]
            lp_items = [lp_item(lp) for lp in sorted(addressed_here.get(n, []), key=str)]
            mo_items = [{**_text_quote(index.props(m)), "note": _evidence_note(index.props(m)), **_curated(index.props(m))}
                        for m in sorted(missed_here.get(n, []), key=str)]
            has_broken = any(_s(d2.get("status")) == "broken" for *_x, d2 in my_links)
            b.node(n, index.name(n), shape="dot", colour=_node_colour(sector_colour(index.sector(n)), "#7a0c0c" if has_broken else "#333333"),
                   size=16, pos=pos[n], borderWidth=3 if has_broken else 1, f={"kind": [kind]},
                   search=f"{index.name(n)} {index.sector(n)}",
                   detail={"kind": "Agency", "title": index.name(n),
                           "facts": [["Sector", index.sector(n)], ["Mentions in this review", _s(inv.get("mentions")) or "0"]],
                           "lists": [
                               _list("Communication links", [
                                   {"status": _s(d2.get("status")), "quote": _s(d2.get("quote")),
                                    "note": _evidence_note(d2, f"{index.name(u)} \u2192 {index.name(v)}"), **_curated(d2)}
                                   for u, v, d2 in my_links], None),
                               _list("Missed opportunities", mo_items, None),
                               _list("Learning addressed to it", lp_items, None),
                               _list("How the review mentions it", [{"quote": _s(inv.get("quote")), "note": _evidence_note(inv), **_curated(inv)}] if inv.get("quote") else [], None),
                           ]})
        elif lab == "MissedOpportunity":
            who = ", ".join(sorted(index.name(a) for a in index.mo_agencies.get(n, [])))
            b.node(n, _mo_label(_s(d.get("text")), who), shape="diamond", colour=_node_colour(MISSED_COLOUR, "#3f2a66"), size=13,
                   pos=pos[n], f={"kind": [kind]}, font={"size": 13}, search=f"missed opportunity {who} {_s(d.get('text'))}",
                   detail={"kind": "Missed opportunity", "title": _short(_s(d.get("text")), 120),
                           "facts": [[k, v] for k, v in (
                               ("Missed by", ", ".join(sorted(index.name(a) for a in index.mo_agencies.get(n, [])))),
                               ("Concerning", ", ".join(sorted(index.name(x) for x in index.concerns.get(n, [])))),
                               ("Themes", ", ".join(sorted(index.name(t) for t in index.about.get(n, [])))),
                               ("Case", _s(d.get("case")))) if v],
                           "lists": [_list("Evidence", [{**_text_quote(d), "note": _evidence_note(d), **_curated(d)}], None)]})
        elif lab == "Theme":
            raised = index.raises.get(n, {}).get(rid)
            lp_items = [lp_item(x) for x in sorted(learning_here.get(n, []), key=str)]
            b.node(n, _short(index.name(n), 36), shape="hexagon", colour=_node_colour(THEME_COLOUR, "#8c6d1f"), size=15,
                   pos=pos[n], f={"kind": [kind]},
                   detail={"kind": "Learning theme", "title": index.name(n),
                           "facts": [[k, v] for k, v in (("Description", _s(d.get("description"))),
                                                          ("Raised by this review", "yes" if raised else "through a missed opportunity")) if v],
                           "lists": [_list("Evidence", [{"quote": _s(raised.get("quote")), "note": _evidence_note(raised)}] if raised and raised.get("quote") else [], None),
                                     _list("Learning on this theme", lp_items, None)]})

    def struct(u: str, v: str, d: dict, colour: str = GREY_EDGE, width: float = 1.0, **kw) -> None:
        kinds_here = sorted({kinds[index.label[x]] for x in (u, v) if index.label.get(x) in kinds})
        detail = None
        if d.get("quote"):
            detail = {"kind": _s(d.get("type")).replace("_", " ").lower(), "title": f"{index.name(u)} \u2192 {index.name(v)}",
                      "lists": [_list("Evidence", [{"quote": _s(d.get("quote")), "note": _evidence_note(d)}], None)]}
        b.edge(u, v, colour=colour, width=width, f={"kind": kinds_here}, detail=detail, **kw)

    # Everything on this map belongs to the review, so a line from the review is drawn (faint)
    # only to what nothing else connects: the map shows how the facts hang together.
    connected: set[str] = {x for u, v, _d in links for x in (u, v)}
    for etype, colour in (("MISSED_BY", MISSED_COLOUR), ("CONCERNS", GREY_EDGE), ("ABOUT_THEME", "#d8c89a")):
        for u, v, d in by_type[etype]:
            if u in mos:
                connected |= {u, v}
                struct(u, v, d, colour=colour, width=1.5 if etype == "MISSED_BY" else 1.0, arrows="to" if etype == "MISSED_BY" else "")
    for u, v, d in by_type["HAS_FAMILY_MEMBER"]:
        if u != rnode:  # case → family member
            connected |= {u, v}
            struct(u, v, d)
    for etype in ("HAS_CASE", "HAS_FAMILY_MEMBER", "INVOLVES", "RAISES", "HAS_MISSED_OPPORTUNITY"):
        for u, v, d in by_type[etype]:
            if u == rnode and v not in connected:
                struct(u, v, d, colour=HUB_EDGE, width=0.8)
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for u, v, d in sorted(links, key=lambda e: (_s(e[2].get("status")) != "broken", _s(e[2].get("id")))):
        broken = _s(d.get("status")) == "broken"
        curated = bool(d.get("curated"))
        key = tuple(sorted((u, v)))
        seen[key] += 1
        k = seen[key]
        smooth = False if k == 1 else {"enabled": True, "type": "curvedCW" if k % 2 == 0 else "curvedCCW", "roundness": 0.15 * (k // 2 + k % 2)}
        b.edge(
            u, v, colour=BROKEN if broken else EFFECTIVE, width=5.0 if broken else 2.5,
            dashes=CURATED_DASHES if curated else False if broken else [8, 5],
            arrows="to" if d.get("directed", True) else "", smooth=smooth,
            f={"status": ["broken" if broken else "effective"], "kind": ["agency"]}, guard=True, **_curated(d),
            detail={"kind": ("Broken" if broken else "Effective") + " communication",
                    "title": f"{index.name(u)} \u2192 {index.name(v)}",
                    "facts": [[k2, v2] for k2, v2 in (("Status", "broken" if broken else "effective"), ("Inferred", inferred_note(d)),
                                                       ("Case", _s(d.get("case"))),
                                                       ("Section", _s(d.get("section"))),
                                                       ("Curated", "added or changed by an analyst" if curated else "")) if v2],
                    "lists": [_list("Evidence", [{"review": rid, "quote": _s(d.get("quote")), "note": _evidence_note(d), **_curated(d)}], None)]},
        )

    b.legend = [
        {"type": "node", "shape": "square", "color": REVIEW_COLOUR, "label": "Review"},
        {"type": "node", "shape": "triangle", "color": CASE_COLOUR, "label": "Case"},
        {"type": "node", "shape": "triangleDown", "color": FAMILY_COLOUR, "label": "Family member"},
        {"type": "node", "shape": "diamond", "color": MISSED_COLOUR, "label": "Missed opportunity"},
        {"type": "node", "shape": "hexagon", "color": THEME_COLOUR, "border": "#8c6d1f", "label": "Learning theme"},
    ]
    _sector_legend(b, sorted({index.sector(a) for a in agencies}))
    _link_legend(b)
    if any(d.get("curated") for *_x, d in links):
        b.legend.append({"type": "edge", "color": "#555555", "width": 2.5, "dashes": True,
                         "label": "Dotted: link added or changed by an analyst"})
    b.legend.append({"type": "edge", "color": MISSED_COLOUR, "width": 1.5, "label": "Missed by (agency)"})
    b.filters = [
        # The map starts with the agencies and their links; the rest is a tick away.
        {"key": "kind", "label": "Show", "type": "checks", "match": "all",
         "options": [["case", "Cases"], ["family", "Family"], ["agency", "Agencies"], ["missed", "Missed opportunities"],
                     ["theme", "Themes"]], "off": ["family", "missed", "theme"]},
        {"key": "status", "label": "Links", "type": "checks", "match": "any",
         "options": [["broken", "Broken"], ["effective", "Effective"]]},
    ]
    options = _options(iterations=300, spring=110, gravity=-60)
    if as_data:
        return {**b.payload(options, "items", "lines"), "page": {"title": b.title, "subtitle": b.subtitle}}
    return b.html(options, "items", "lines")


def _mo_label(text: str, who: str, words: int = 5) -> str:
    """A missed opportunity on the review map: its first words and the agencies that missed it."""
    first = text.split()
    head = " ".join(first[:words]) + ("\u2026" if len(first) > words else "")
    return head + (f"\n({_short(who, 40)})" if who else "")


def review_map_html(graph: nx.MultiDiGraph, review_id: str) -> str:
    """The map of one review, as one self-contained HTML page."""
    return _review_map(_Index(graph), review_id)


# --------------------------------------------------------------------------- theme map


def _theme_map(index: _Index, cap: int = REVIEW_NODE_CAP, assets: str | None = None) -> str:
    themes = [t for t in index.by_label["Theme"] if index.raises.get(t) or index.theme_items.get(t)]
    n_reviews = len(index.review_ids)
    show_reviews = n_reviews <= cap
    recurring = {t for t in themes if len(index.raises.get(t, {})) >= 2}
    # theme -> agency -> learning points about the theme addressed to the agency
    addressed: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for t in themes:
        for item in index.theme_items.get(t, []):
            if index.label.get(item) == "LearningPoint":
                for a in index.lp_agencies.get(item, []):
                    addressed[t][a].append(item)
    agencies = sorted({a for t in addressed for a in addressed[t]}, key=lambda n: (index.sector(n), index.name(n)))
    b = _MapBuilder(
        "themes",
        "Learning themes across reviews",
        f"{_plural(len(themes), 'theme')} ({len(recurring):,} recurring) from {_plural(n_reviews, 'review')} \u00b7 "
        f"addressed to {_plural(len(agencies), 'agency', 'agencies')}"
        + ("" if show_reviews else f" \u00b7 review nodes hidden above {cap} reviews: counts are on the themes"),
        assets,
    )
    b.intro = [
        "Each box in the middle column is a learning theme, with the number of reviews raising it. Dark boxes are "
        "recurring themes, raised by two or more reviews.",
        ("Squares on the left are reviews, joined to the themes they raise. " if show_reviews else
         f"With more than {cap} reviews the reviews are not drawn; click a theme to list them. ")
        + "Coloured boxes on the right are agencies that the learning on a theme is addressed to; the thicker the line, "
        "the more learning. Click a theme, a review, an agency or a line for the evidence.",
    ]
    theme_order = sorted(themes, key=lambda t: (-len(index.raises.get(t, {})), index.name(t)))
    review_order = [r for r in index.review_ids if index.review_themes.get(r)] if show_reviews else []
    # Three columns: reviews | themes (most raised at the top) | agencies. Reviews and agencies are
    # ordered by the mean height of their themes, which keeps lines short and crossings few.
    pos = _column(theme_order, 0.0, 44.0)
    theme_rank = {t: i for i, t in enumerate(theme_order)}

    def barycentre(pairs: list[tuple[str, int]], name: str) -> tuple[float, str]:
        total = sum(w for _t, w in pairs)
        return (sum(theme_rank[t] * w for t, w in pairs) / total if total else float(len(theme_order)), name)

    agencies.sort(key=lambda a: barycentre([(t, len(addressed[t][a])) for t in addressed if a in addressed[t]], index.name(a)))
    review_order.sort(key=lambda r: barycentre([(t, 1) for t in index.raises if r in index.raises[t] and t in theme_rank], r))
    pos.update(_column(agencies, 620.0, max(40.0, 44.0 * (len(theme_order) - 1) / max(len(agencies) - 1, 1))))  # boxes: labels inside
    pos.update(_column([index.review_node[r] for r in review_order], -620.0,
                       max(34.0, 44.0 * (len(theme_order) - 1) / max(len(review_order) - 1, 1))))
    max_raised = max([len(index.raises.get(t, {})) for t in themes] + [1])

    def recurrence(t: str) -> str:
        return "recurring" if t in recurring else "once"

    for t in theme_order:
        raised = index.raises.get(t, {})
        rec = t in recurring
        years = sorted({index.review_year(r) for r in raised}) or ["unknown"]
        review_items = []
        for rid in sorted(raised, key=index.newest_first)[:THEME_REVIEW_CAP]:
            b.use_review(index, rid)
            review_items.append({"review": rid, "quote": _s(raised[rid].get("quote")), "note": _evidence_note(raised[rid])})
        agency_items = [{"title": f"{index.name(a)} ({len(lps)} learning point{'s' if len(lps) != 1 else ''})"}
                        for a, lps in sorted(addressed.get(t, {}).items(), key=lambda kv: (-len(kv[1]), index.name(kv[0])))]
        b.node(
            t, f"{_short(index.name(t), 44)} ({len(raised)})", shape="box",
            colour=_node_colour(RECURRING_THEME_COLOUR if rec else THEME_COLOUR, "#3d2306" if rec else "#8c6d1f"),
            size=10, pos=pos[t], borderWidth=2 if rec else 1, margin=6,
            font={"size": round(14 + 8 * math.sqrt(len(raised) / max_raised), 1), "color": "#ffffff" if rec else "#3a2a05",
                  "strokeWidth": 0, "bold": rec},
            f={"theme": [index.name(t)], "recurrence": [recurrence(t)], "year": years},
            search=index.name(t),
            detail={"kind": "Recurring learning theme" if rec else "Learning theme", "title": index.name(t),
                    "facts": [[k, v] for k, v in (("Description", _s(index.props(t).get("description"))),
                                                   ("Reviews raising it", f"{len(raised):,}"),
                                                   ("Recurring", "yes (two or more reviews)" if rec else "no")) if v],
                    "lists": [_list("Reviews raising it", review_items, cap=None, total=len(raised),
                                    rest="the newest reviews first; the board pack's index lists them all"),
                              _list("Addressed to", agency_items, None)]},
        )
    for a in agencies:
        t_of = sorted(t for t in addressed if a in addressed[t])
        b.node(
            a, index.name(a), shape="box", colour=_node_colour(sector_colour(index.sector(a))), size=14, pos=pos[a],
            margin=6, font={"size": 17, "color": _text_on(sector_colour(index.sector(a))), "strokeWidth": 0},
            f={"sector": [index.sector(a)], "theme": sorted(index.name(t) for t in t_of),
               "recurrence": sorted({recurrence(t) for t in t_of}),
               "year": sorted({index.review_year(index.review_of(lp)) for t in t_of for lp in addressed[t][a]})},
            search=f"{index.name(a)} {index.sector(a)}",
            detail={"kind": "Agency", "title": index.name(a), "facts": [["Sector", index.sector(a)]],
                    "lists": [_list("Themes of the learning addressed to it",
                                    [{"title": f"{index.name(t)} ({len(addressed[t][a])})"} for t in t_of], None)]},
        )
    for rid in review_order:
        rn = index.review_node[rid]
        info = index.review_info(rid)
        ts = sorted(t for t in index.raises if rid in index.raises[t] and t in pos)
        b.node(
            rn, _short(info.get("title") or rid, 24), shape="square", colour=_node_colour(REVIEW_COLOUR, "#111111"), size=10, pos=pos[rn],
            font={"size": 17, "color": "#333333"},
            f={"review": [rid], "theme": sorted(index.name(t) for t in ts), "recurrence": sorted({recurrence(t) for t in ts}),
               "year": [index.review_year(rid)]},
            search=f"{rid} {info.get('title', '')}",
            detail={"kind": "Review", "title": info.get("title") or rid,
                    "facts": [[k, v] for k, v in (("Review", rid), ("Year", info.get("year", "")), ("Board", info.get("board", "")),
                                                   ("Source file", info.get("source", ""))) if v],
                    "lists": [_list("Themes raised", [{"title": index.name(t)} for t in ts], None)]},
        )
        b.use_review(index, rid)
        for t in ts:
            d = index.raises[t][rid]
            b.edge(rn, t, colour="#b8b8b8", width=1.0,
                   f={"review": [rid], "theme": [index.name(t)], "recurrence": [recurrence(t)], "year": [index.review_year(rid)]},
                   detail={"kind": "Review raises theme", "title": f"{index.review_label(rid)} \u2192 {index.name(t)}",
                           "lists": [_list("Evidence", [{"review": rid, "quote": _s(d.get("quote")), "note": _evidence_note(d)}], None)]})
    line_counts = [len(lps) for t in theme_order for lps in addressed.get(t, {}).values()]
    max_lps = max(line_counts + [1])
    min_spec, min_default = _min_filter(line_counts, THEME_LINE_BUDGET, "learning point")
    for t in theme_order:
        for a, lps in sorted(addressed.get(t, {}).items(), key=lambda kv: index.name(kv[0])):
            items = []
            # The side panel shows the newest few; the agency's page in the pack lists more.
            for lp in _take_turns(lps, index, index.review_of, str, THEME_LINE_CAP):
                d = index.props(lp)
                b.use_review(index, index.review_of(lp))
                items.append({"review": index.review_of(lp), **_text_quote(d),
                              "note": _evidence_note(d, _s(d.get("kind")).replace("_", " "))})
            listed = _list("Learning", items, cap=None, total=len(lps),
                           rest="the newest reviews first, one point from each; " + _export_hint(index.name(a)))
            b.edge(
                t, a, colour="#c9a96b" if t in recurring else "#d9cfb8", width=_link_width(1.0, 8.0, len(lps), max_lps),
                f={"theme": [index.name(t)], "recurrence": [recurrence(t)], "sector": [index.sector(a)]},
                reviews=[index.review_of(lp) for lp in lps],
                wb=1.0,
                wm=8.0,
                detail={"kind": "Learning addressed to an agency", "title": f"{index.name(t)} \u2192 {index.name(a)}",
                        "facts": [["Learning points", f"{len(lps):,}"]], "lists": [listed]},
            )
    b.legend = [
        {"type": "node", "shape": "square", "color": RECURRING_THEME_COLOUR, "border": "#3d2306", "borderWidth": 2,
         "label": "Recurring theme (2+ reviews)"},
        {"type": "node", "shape": "square", "color": THEME_COLOUR, "border": "#8c6d1f", "label": "Theme raised once"},
    ]
    if show_reviews:
        b.legend.append({"type": "node", "shape": "square", "color": REVIEW_COLOUR, "label": "Review"})
    _sector_legend(b, sorted({index.sector(a) for a in agencies}), shape="square")
    b.legend.append({"type": "edge", "color": "#c9a96b", "width": 3, "label": "Learning addressed to agency"})
    b.legend_notes = ["The number in brackets and the size of the text: reviews raising the theme."]
    years = {index.review_year(r) for r in index.review_ids}
    b.filters = [
        {"key": "recurrence", "label": "Themes", "type": "checks", "match": "any",
         "options": [["recurring", "Recurring"], ["once", "Raised once"]]},
        {"key": "theme", "label": "Theme", "type": "select", "all": "All themes",
         "options": [[index.name(t), index.name(t)] for t in sorted(themes, key=index.name)]},
        {"key": "sector", "label": "Sector", "type": "select", "all": "All sectors",
         "options": [[s, s] for s in sorted({index.sector(a) for a in agencies})]},
        _year_range(years),
    ]
    if show_reviews:
        b.filters.append({"key": "review", "label": "Review", "type": "select", "all": "All reviews",
                          "options": [[r, index.review_label(r)] for r in review_order]})
    if min_spec:
        min_spec["label"] = "Agency lines with at least"
        b.filters.append(min_spec)
    options = _options()
    options["physics"] = {"enabled": False}  # the columns are laid out above; nothing to settle
    return b.html(options, "nodes", "lines",
                  lambda rid: {"year": [index.review_year(rid)], **({"review": [rid]} if show_reviews else {})})


def theme_map_html(graph: nx.MultiDiGraph) -> str:
    """The learning-theme map across all reviews, as one self-contained HTML page.

    A theme lists at most :data:`THEME_REVIEW_CAP` reviews with their words and a theme→agency
    line at most :data:`THEME_LINE_CAP` learning points (newest reviews first, with "Showing N
    of M"); the counts always cover everything.
    """
    return _theme_map(_Index(graph))


# --------------------------------------------------------------------------- board pack

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src {script_src}; style-src {script_src}; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{root}assets/report.css">
</head>
<body>
<nav class="crumbs"><a href="{root}index.html">Board pack</a></nav>
<main>
{body}
</main>
<script src="{root}assets/pack.js"></script>{extra}
</body>
</html>
"""
#: The board-pack pages' one script (sortable tables, clickable rows), a file of the pack's
#: ``assets/``: the pages allow script files of the pack and no inline script.
PACK_JS_FILE = "pack.js"

_h = html.escape


def _page(title: str, body: str, depth: int, extra_script: str = "") -> str:
    # One shared style sheet and script for every page of the pack (assets/), not a copy in each.
    extra = f'\n<script src="{"../" * depth}assets/{_h(extra_script)}"></script>' if extra_script else ""
    return _PAGE.format(title=_h(title), body=body, root="../" * depth, script_src=PACK_SCRIPT_SRC, extra=extra)


def _quote(q: object, note: str = "") -> str:
    q = _s(q)
    if not q:
        return ""
    return f'<blockquote>{_h(q)}</blockquote>' + (f'<p class="note">{_h(note)}</p>' if note else "")


def _text_and_quote(d: dict) -> str:
    text, quote = _s(d.get("text")), _s(d.get("quote"))
    if quote and _same_words(text, quote):
        return _quote(quote, _evidence_note(d))
    return _h(text) + _quote(quote, _evidence_note(d))


def _status(status: object) -> str:
    s = "broken" if _s(status) == "broken" else "effective"
    return f'<span class="status-{s}">{s}</span>'


def _review_link(index: _Index, rid: str, depth: int = 1) -> str:
    """A link to the review's page, reading as its title and year (not its id)."""
    if rid not in index.review_slug:
        return _h(rid)
    return f'<a href="{"../" * depth}reviews/{REVIEW_PAGE}#{index.review_slug[rid]}">{_h(index.review_label(rid))}</a>'


def _agency_link(index: _Index, n: str, depth: int = 1) -> str:
    name = index.name(n)
    if name not in index.agency_slug:
        return _h(name)
    return f'<a href="{"../" * depth}agencies/{index.agency_slug[name]}.html">{_h(name)}</a>'


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    if not rows:
        return '<p class="none">None.</p>'
    h = "".join(f"<th>{_h(x)}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>'


# --------------------------------------------------------------------------- timeline


def _timeline_events(index: _Index, by_type: dict[str, list[tuple[str, str, dict]]]) -> list[tuple[str, dict, list[str]]]:
    """The review's timeline (from its HAS_EVENT edges): (event node, its properties, the
    agency nodes it names), in date order and, for equal dates, by place in the text."""
    has_event = by_type.get("HAS_EVENT", [])
    known = index.timelines.get(id(has_event))  # a review's page and map both ask, three times in all
    if known is not None and known[0] is has_event:
        return known[1]
    agencies: dict[str, list[str]] = defaultdict(list)
    for u, v, _d in by_type.get("MENTIONS_AGENCY", []):
        agencies[u].append(v)
    events = [(v, index.props(v)) for _u, v, _d in has_event]
    events.sort(key=lambda e: (_s(e[1].get("date_from")), _s(e[1].get("date_to")), e[1].get("start") or 0, _s(e[1].get("id"))))
    out = [(n, d, sorted(agencies.get(n, []), key=index.name)) for n, d in events]
    if has_event:
        index.timelines = {id(has_event): (has_event, out)}  # the last review's only
    return out


def _date_range_text(d: dict) -> str:
    """"2015-09-14" for one day, "2015-07-01 to 2015-08-31" for a longer period."""
    lo, hi = _s(d.get("date_from")), _s(d.get("date_to"))
    return lo if lo == hi else f"{lo} to {hi}"


def _timeline_section(index: _Index, by_type: dict[str, list[tuple[str, str, dict]]]) -> str:
    """The review page's timeline: a chronological list of the dated events (date as the review
    writes it, the days it stands for, the event's words, the agencies it names)."""
    events = _timeline_events(index, by_type)
    head = f'<h2 id="timeline">Timeline ({len(events)})</h2>'
    if not events:
        return head + '<p class="none">The review gives no dates for events.</p>'
    items = []
    for _n, d, agencies in events:
        when = (f'<span class="when">{_h(_s(d.get("date_text")))}</span> '
                f'<span class="range">{_h(_date_range_text(d))} &middot; {_h(_s(d.get("precision")))}</span>')
        who = ", ".join(_agency_link(index, a) for a in agencies)
        note = _h(_evidence_note(d))
        items.append(f"<li>{when}<div class=\"event\">{_h(_s(d.get('text')))}</div>"
                     + (f'<p class="note">Agencies: {who}</p>' if who else "")
                     + (f'<p class="note">{note}</p>' if note else "") + "</li>")
    return head + '<ol class="timeline">' + "".join(items) + "</ol>"


def _offset(value: object) -> int | None:
    """A character offset of a node's evidence in its document (None if it has none)."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _place_missed(index: _Index, events: list[tuple[str, dict, list[str]]], mos: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Missed opportunities on the chronology: they have no dates of their own, so each goes
    after the dated event that comes last before it in the review's text (by the evidence's
    offsets). Returns {event node: its missed opportunities, in text order} and those that
    cannot be placed (before every dated event in the text, or with no place in the text)."""
    from bisect import bisect_right

    anchors = sorted((o, str(n), n) for n, d, _a in events if (o := _offset(d.get("start"))) is not None)
    starts = [a[0] for a in anchors]
    at = {m: _offset(index.props(m).get("start")) for m in mos}
    placed: dict[str, list[str]] = defaultdict(list)
    unplaced = []
    for m in sorted(mos, key=lambda m: (at[m] is None, at[m] or 0, str(m))):
        k = bisect_right(starts, at[m]) if at[m] is not None else 0  # the events starting at or before it
        if k:
            placed[anchors[k - 1][2]].append(m)
        else:
            unplaced.append(m)
    return placed, unplaced


def _first_words(text: str, words: int) -> str:
    split = text.split()
    return " ".join(split[:words]) + ("\u2026" if len(split) > words else "")


def _chronology_strip(index: _Index, by_type: dict[str, list[tuple[str, str, dict]]], words: int = 9) -> str:
    """The review's dated events in date order as one strip across the top of its page: the date
    as the review writes it, the first words of the event, the agencies it names (the timeline
    below has each in full). Each missed opportunity (violet) follows the event it comes after
    in the review's text (:func:`_place_missed`); the strip says how many it cannot place."""
    events = _timeline_events(index, by_type)
    mos = [v for _u, v, _d in by_type.get("HAS_MISSED_OPPORTUNITY", [])]
    if not events and not mos:
        return ""
    placed, unplaced = _place_missed(index, events, mos)
    items = []
    for n, d, agencies in events:
        who = ", ".join(index.name(a) for a in agencies)
        items.append(f'<li><a href="#timeline"><span class="when">{_h(_s(d.get("date_text")))}</span>'
                     f'<span class="what">{_h(_first_words(_s(d.get("text")), words))}</span>'
                     + (f'<span class="who">{_h(who)}</span>' if who else "") + "</a></li>")
        for m in placed.get(n, []):
            by = ", ".join(sorted(index.name(a) for a in index.mo_agencies.get(m, [])))
            items.append(f'<li class="missed"><a href="#missed"><span class="when">Missed opportunity</span>'
                         f'<span class="what">{_h(_first_words(_s(index.props(m).get("text")), words))}</span>'
                         + (f'<span class="who">missed by {_h(by)}</span>' if by else "") + "</a></li>")
    n_placed = len(mos) - len(unplaced)
    head = f"Chronology: {_plural(len(events), 'dated event')}, in date order"
    if mos:
        head += (f"; {_plural(n_placed, 'missed opportunity', 'missed opportunities')} (violet), each after the event "
                 "it follows in the review\u2019s text" if n_placed else "")
    parts = [f'<nav class="chronology" aria-label="Chronology"><p class="note">{head}.</p>']
    if items:
        parts.append(f'<ol>{"".join(items)}</ol>')
    if unplaced:
        textless = any(_offset(index.props(m).get("start")) is None for m in unplaced)
        why = ("the review gives no dates" if not events else
               "before the first dated event in the review\u2019s text" + (", or with no place in it" if textless else ""))
        parts.append(f'<p class="note unplaced">Not on the strip: {_plural(len(unplaced), "missed opportunity", "missed opportunities")} '
                     f'({why}; see <a href="#missed">Missed opportunities</a>).</p>')
    parts.append("</nav>")
    return "".join(parts)


def _timeline_panel(index: _Index, by_type: dict[str, list[tuple[str, str, dict]]]) -> dict:
    """The review map's side-panel list of the same events (map.js shows it as text only)."""
    items = []
    for _n, d, agencies in _timeline_events(index, by_type):
        extra = ", ".join(index.name(a) for a in agencies)
        items.append({"title": f"{_s(d.get('date_text'))} ({_date_range_text(d)})", "quote": _s(d.get("text")),
                      "note": _evidence_note(d, f"agencies: {extra}" if extra else "")})
    return _list("Timeline", items, cap=None)


def _review_page(index: _Index, rid: str) -> str:
    """The review's page as one static HTML file (the pack writes its body as data instead:
    :func:`_review_page_data`)."""
    return _page(index.review_label(rid), _review_body(index, rid), 1)


def _review_page_data(index: _Index, rid: str) -> str:
    """The review's page for the pack's shared ``reviews/review.html``: its body, escaped HTML
    as on a static page, gzip-compressed and base64-encoded in ``sgReviewPage("...")``."""
    import gzip

    doc = json.dumps({"title": index.review_label(rid), "body": _review_body(index, rid)}, ensure_ascii=False,
                     separators=(",", ":")).encode("utf-8")
    return f'sgReviewPage("{base64.b64encode(gzip.compress(doc, compresslevel=6, mtime=0)).decode("ascii")}");\n'


def _review_body(index: _Index, rid: str) -> str:
    info = index.review_info(rid)
    rn = index.review_node[rid]
    rd = index.props(rn)
    by_type = defaultdict(list, index.review_edges.get(rid, {}))
    slug = index.review_slug[rid]
    parts = [f"<h1>{_h(info.get('title') or rid)}</h1>",
             f'<p class="lead"><a class="button" href="../maps/{REVIEW_MAP_PAGE}#{slug}">Open the map of this review</a></p>']
    facts = [("Review", rid), ("Title", info.get("title", "")), ("Type", info.get("type", "")), ("Board", info.get("board", "")),
             ("Year", info.get("year", "")), ("Source file", info.get("source", "")), ("SHA-256", _s(rd.get("sha256"))),
             ("Length (characters)", _s(rd.get("text_length")))]
    parts.append(_chronology_strip(index, by_type))
    parts.append('<dl class="facts">' + "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in facts if v) + "</dl>")
    inv = by_type["INVOLVES"]
    parts.append(f"<h2>Agencies involved ({len(inv)})</h2>")
    parts.append(_table(["Agency", "Sector", "Mentions", "First mention"], [
        [_agency_link(index, v), _h(index.sector(v)), _h(_s(d.get("mentions"))), _quote(d.get("quote"), _evidence_note(d))]
        for _u, v, d in sorted(inv, key=lambda x: index.name(x[1]))]))
    links = sorted(by_type["COMMUNICATION"], key=lambda x: (_s(x[2].get("status")) != "broken", _s(x[2].get("id"))))
    parts.append(f"<h2>Communication between agencies ({len(links)})</h2>")
    parts.append(_table(["From", "To", "Status", "Evidence"], [
        [_agency_link(index, u), _agency_link(index, v), _status(d.get("status")), _quote(d.get("quote"), _evidence_note(d))]
        for u, v, d in links]))

    parts.append(_timeline_section(index, by_type))

    mos = [v for _u, v, _d in by_type["HAS_MISSED_OPPORTUNITY"]]
    parts.append(f'<h2 id="missed">Missed opportunities ({len(mos)})</h2>')
    rows = []
    for m in mos:
        d = index.props(m)
        rows.append([
            _text_and_quote(d),
            ", ".join(_agency_link(index, a) for a in sorted(index.mo_agencies.get(m, []), key=index.name)) or "&mdash;",
            _h(", ".join(sorted(index.name(x) for x in index.concerns.get(m, [])))) or "&mdash;",
            _h(", ".join(sorted(index.name(t) for t in index.about.get(m, [])))) or "&mdash;",
        ])
    parts.append(_table(["Missed opportunity", "Missed by", "Concerning", "Themes"], rows))

    lps = [v for _u, v, _d in by_type["HAS_LEARNING"]]
    parts.append(f"<h2>Learning ({len(lps)})</h2>")
    rows = []
    for lp in lps:
        d = index.props(lp)
        who = ", ".join(_agency_link(index, a) for a in sorted(index.lp_agencies.get(lp, []), key=index.name))
        if d.get("all_agencies"):
            who = "All agencies" + (f" ({who})" if who else "")
        rows.append([_h(_s(d.get("kind")).replace("_", " ")), _text_and_quote(d),
                     _h(", ".join(sorted(index.name(t) for t in index.about.get(lp, [])))) or "&mdash;", who or "&mdash;"])
    parts.append(_table(["Kind", "Learning", "Themes", "Addressed to"], rows))

    fms = by_type["HAS_FAMILY_MEMBER"]
    parts.append(f"<h2>Family members ({len(fms)})</h2>")
    parts.append(_table(["Role", "Case", "Evidence"], [
        [_h(_s(index.props(v).get("role"))), _h(_s(index.props(v).get("case"))) or "&mdash;", _quote(d.get("quote"), _evidence_note(d))]
        for _u, v, d in fms]))

    cases = by_type["HAS_CASE"]
    if cases:
        parts.append(f"<h2>Cases ({len(cases)})</h2><ul>" + "".join(f"<li>{_h(index.name(v))}</li>" for _u, v, _d in cases) + "</ul>")

    raises = by_type["RAISES"]
    parts.append(f"<h2>Learning themes raised ({len(raises)})</h2>")
    parts.append(_table(["Theme", "Mentions", "Evidence"], [
        [_h(index.name(v)), _h(_s(d.get("mentions"))), _quote(d.get("quote"), _evidence_note(d))]
        for _u, v, d in sorted(raises, key=lambda x: index.name(x[1]))]))
    return "\n".join(parts)


def _first_rows(rows: list, cap: int | None, what: str, name: str, where: str = "") -> tuple[list, str]:
    """The first ``cap`` rows and, when some are left out, a note saying so and where they are
    (``where``, HTML; by default the agency's export)."""
    if cap is None or len(rows) <= cap:
        return rows, ""
    where = where or f'every one, with its source: <code>sgraph export agency {_h(json.dumps(name, ensure_ascii=False))}</code>'
    return rows[:cap], f'<p class="note">Showing the {cap:,} newest of {len(rows):,} {_h(what)}; {where}.</p>'



def _agency_page(index: _Index, n: str, cap: int | None = AGENCY_PAGE_CAP, pairs: list | None = None) -> str:
    from .breakdowns import broken_pairs

    name, sector = index.name(n), index.sector(n)
    involved = index.involves.get(n, {})
    parts = [f"<h1>{_h(name)}</h1>", f'<p class="lead">Sector: {_h(sector)} &middot; involved in {_plural(len(involved), "review")}</p>']
    mine = broken_pairs(index.g, name) if pairs is None else [p for p in pairs if n in (p.node_a, p.node_b)]
    parts.append(_breakdown_section(index, mine, 1, None, f"Where communication with {name} broke down most"))
    links = [(u, v, d) for u, v, d in index.links if n in (u, v)]
    newest = index.newest_first
    links.sort(key=lambda x: (newest(_s(x[2].get("review_id"))), _s(x[2].get("id"))))
    n_broken = sum(1 for *_x, d in links if _s(d.get("status")) == "broken")
    parts.append(f"<h2>Communication links ({len(links):,}: {n_broken:,} broken, {len(links) - n_broken:,} effective)</h2>")
    # Counts per other agency: every link, however many reviews.
    per_other: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    reviews_per_other: dict[str, set[str]] = defaultdict(set)
    for u, v, d in links:
        other = v if u == n else u
        per_other[other][0 if _s(d.get("status")) == "broken" else 1] += 1
        reviews_per_other[other].add(_s(d.get("review_id")))
    if links:
        parts.append(f"<h3>With each agency ({len(per_other):,})</h3>")
        parts.append(_table(["Agency", "Broken", "Effective", "Reviews"], [
            [_agency_link(index, o), f"{c[0]:,}", f"{c[1]:,}", f"{len(reviews_per_other[o]):,}"]
            for o, c in sorted(per_other.items(), key=lambda kv: (-kv[1][0], -kv[1][1], index.name(kv[0])))]))
    for status, label in (("broken", "Broken"), ("effective", "Effective")):
        these = [x for x in links if (_s(x[2].get("status")) == "broken") == (status == "broken")]
        if not these:
            continue
        shown, note = _first_rows(these, cap, f"{status} links", name)
        parts.append(f"<h3>{label} links ({len(these):,})</h3>" + note)
        parts.append(_table(["Review", "From", "To", "Status", "Evidence"], [
            [_review_link(index, _s(d.get("review_id"))), _agency_link(index, u), _agency_link(index, v), _status(d.get("status")),
             _quote(d.get("quote"), _evidence_note(d))] for u, v, d in shown]))
    if not links:
        parts.append('<p class="none">None.</p>')

    mos = sorted(index.missed_by.get(n, []), key=lambda m: (newest(index.review_of(m)), str(m)))
    shown, note = _first_rows(mos, cap, "missed opportunities", name)
    parts.append(f"<h2>Missed opportunities ({len(mos):,})</h2>" + note)
    parts.append(_table(["Review", "Missed opportunity"], [
        [_review_link(index, index.review_of(m)), _text_and_quote(index.props(m))]
        for m in shown]))

    lps = sorted(index.addressed.get(n, []), key=lambda x: (newest(index.review_of(x)), str(x)))
    shown, note = _first_rows(lps, cap, "learning points", name)
    parts.append(f"<h2>Learning addressed to {_h(name)} ({len(lps):,})</h2>" + note)
    parts.append(_table(["Review", "Kind", "Learning"], [
        [_review_link(index, index.review_of(lp)),
         _h(_s(index.props(lp).get("kind")).replace("_", " ")) + (" (all agencies)" if index.props(lp).get("all_agencies") else ""),
         _text_and_quote(index.props(lp))]
        for lp in shown]))

    rids = sorted(involved, key=newest)
    shown, note = _first_rows(rids, cap, "reviews", name, '<a href="../index.html">the index</a> lists every review')
    parts.append(f"<h2>Reviews involving {_h(name)} ({len(involved):,})</h2>" + note)
    parts.append(_table(["Review", "Year", "Mentions", "First mention"], [
        [_review_link(index, rid), _h(index.review_info(rid).get("year", "")),
         _h(_s(involved[rid].get("mentions"))), _quote(involved[rid].get("quote"), _evidence_note(involved[rid]))]
        for rid in shown]))
    return _page(f"Agency: {name}", "\n".join(parts), 1)


#: Pairs listed in "Where communication broke down most" (the index); agency pages list all of theirs.
BREAKDOWN_ROWS = 50
#: Colour steps of the agency x agency matrix (classes m1..m5 of report.css).
MATRIX_STEPS = 5


def _pair_href(p, depth: int) -> str:
    """The agency map, opened on the pair's line with its evidence (map.js reads the fragment)."""
    from urllib.parse import quote

    return f"{'../' * depth}maps/agencies.html#a={quote(p.node_a, safe='')}&b={quote(p.node_b, safe='')}"


def _years_text(first: object, last: object) -> str:
    if first is None:
        return ""
    return _h(str(first)) if first == last else f"{_h(str(first))}&ndash;{_h(str(last))}"


_SPARKS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"


def _trend(by_year: dict[int, int], years: list[int]) -> tuple[str, str]:
    """A pair's broken links per year as a text sparkline over ``years`` (every year of the
    corpus, so rows compare), and the counts spelled out."""
    if not years:
        return "", ""
    top = max(by_year.values(), default=0) or 1
    line = "".join(_SPARKS[min(7, round(7 * by_year.get(y, 0) / top))] if by_year.get(y) else "\u00b7" for y in years)
    words = ", ".join(f"{y}: {by_year.get(y, 0)}" for y in years)
    return line, f"Broken links per year, {years[0]}\u2013{years[-1]}: {words}"


def _breakdown_section(index: _Index, pairs: list, depth: int, limit: int | None = BREAKDOWN_ROWS,
                       heading: str = "Where communication broke down most") -> str:
    """The ranked table of agency pairs (graph_model.breakdowns.broken_pairs): most broken links
    first; sortable (pack.js); a row opens the pair's line and evidence on the agency map."""
    parts = [f'<h2 id="breakdowns">{_h(heading)} ({len(pairs):,} pairs)</h2>']
    if not pairs:
        return parts[0] + '<p class="none">No broken links between agencies.</p>'
    parts.append('<p class="note">Agency pairs by the number of links between them that broke down, across all reviews. '
                 "Direction: who did not pass information to whom, as the reviews word it (&ldquo;no direction&rdquo;: "
                 "the review says it broke down between the two). Per year: the pair's broken links in the reviews of each "
                 "year (sorting by it puts those with most in the last three years first). Press a heading to sort; choose a "
                 "row to see the line on the agency map with its evidence.</p>")
    shown = pairs if limit is None else pairs[:limit]
    known = sorted({int(y) for r in index.review_ids for y in [index.review_year(r)] if y.isdigit()})
    years = list(range(known[0], known[-1] + 1)) if known else []
    rows = []
    for rank, p in enumerate(shown, 1):
        spark, spelled = _trend(p.by_year, years)
        recent = sum(p.by_year.get(y, 0) for y in years[-3:])
        href = _pair_href(p, depth)
        split = [f"{_h(p.a)} &rarr; {_h(p.b)}: {p.a_to_b:,}" if p.a_to_b else "",
                 f"{_h(p.b)} &rarr; {_h(p.a)}: {p.b_to_a:,}" if p.b_to_a else "",
                 f"no direction: {p.undirected:,}" if p.undirected else ""]
        split = [x for x in split if x]
        share = f"{100 * p.share_broken:.0f}%"
        quote = (_quote(shorten(p.quote, 240)) + f'<p class="note">{_review_link(index, p.quote_review, depth)}</p>') if p.quote else ""
        rows.append(
            f'<tr data-href="{_h(href)}">'
            f'<td data-v="{rank}">{rank}</td>'
            f'<td class="pair"><a href="{_h(href)}">{_h(p.a)} &ndash; {_h(p.b)}</a></td>'
            f'<td class="split">{"<br>".join(split)}</td>'
            f'<td data-v="{p.broken}" class="num"><strong>{p.broken:,}</strong></td>'
            f'<td data-v="{len(p.reviews)}" class="num">{len(p.reviews):,}</td>'
            f'<td data-v="{p.first_year or 0}">{_years_text(p.first_year, p.last_year)}</td>'
            f'<td data-v="{recent}" class="trend"><span class="spark" title="{_h(spelled)}" aria-label="{_h(spelled)}">'
            f'{spark}</span></td>'
            f'<td data-v="{p.share_broken:.4f}" class="num">{share} <span class="of">of {p.links:,}</span></td>'
            f"<td>{quote}</td></tr>"
        )
    trend = f"Per year, {years[0]}&ndash;{years[-1]}" if years else "Per year"
    head = "".join(f"<th>{x}</th>" for x in ("#", "Agencies", "Direction", "Broken links", "Reviews", "First&ndash;last year",
                                             trend, "Share of the pair&rsquo;s links broken", "One example"))
    parts.append(f'<div class="scroll"><table class="sortable breakdowns"><thead><tr>{head}</tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table></div>')
    if len(pairs) > len(shown):
        parts.append(f'<p class="note">The {len(shown):,} pairs with most broken links of {len(pairs):,}; each agency&rsquo;s '
                     "page lists all of its pairs.</p>")
    return "\n".join(parts)


def _matrix_section(index: _Index, pairs: list, depth: int = 0) -> str:
    """An agency x agency table of broken links: row = the agency that did not pass information
    on, column = the one it should have reached; a darker cell, more links; a cell opens the
    pair's evidence on the agency map. Plain HTML (no script)."""
    if not pairs:
        return ""
    cell: dict[tuple[str, str], int] = defaultdict(int)
    pair_of: dict[tuple[str, str], object] = {}
    nodes = set()
    for p in pairs:
        cell[(p.node_a, p.node_b)] += p.a_to_b + p.undirected
        cell[(p.node_b, p.node_a)] += p.b_to_a + p.undirected
        pair_of[(p.node_a, p.node_b)] = pair_of[(p.node_b, p.node_a)] = p
        nodes.update((p.node_a, p.node_b))
    order = sorted(nodes, key=lambda n: (index.sector(n), index.name(n)))
    top = max(cell.values()) or 1
    head = "".join(f'<th class="col" scope="col"><span>{_h(index.name(n))}</span></th>' for n in order)
    body = []
    for r in order:
        tds = []
        for c in order:
            n = cell.get((r, c), 0)
            if r == c:
                tds.append('<td class="self"></td>')
            elif not n:
                tds.append("<td></td>")
            else:
                step = max(1, math.ceil(MATRIX_STEPS * n / top))
                label = f"{index.name(r)} \u2192 {index.name(c)}: {n:,} broken link{'s' if n != 1 else ''}"
                tds.append(f'<td class="m{step}"><a href="{_h(_pair_href(pair_of[(r, c)], depth))}" title="{_h(label)}" '
                           f'aria-label="{_h(label)}">{n:,}</a></td>')
        body.append(f'<tr><th scope="row">{_h(index.name(r))} <span class="sector">{_h(index.sector(r))}</span></th>{"".join(tds)}</tr>')
    return "\n".join([
        '<h2 id="matrix">Broken links, agency by agency</h2>',
        '<p class="note">Row: the agency that did not pass information on; column: the agency that should have had it. '
        "Links a review gives no direction for count in both cells of the pair. The darker the cell, the more broken links. "
        "Choose a number to see the evidence on the agency map. Agencies are grouped by sector.</p>",
        f'<div class="scroll-x"><table class="matrix"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>',
    ])


def _index_page(index: _Index, pairs: list | None = None, recurring: str | None = None) -> str:
    from .breakdowns import broken_pairs

    pairs = broken_pairs(index.g) if pairs is None else pairs
    broken: dict[str, int] = defaultdict(int)
    effective: dict[str, int] = defaultdict(int)
    by_agency_b: dict[str, int] = defaultdict(int)
    by_agency_e: dict[str, int] = defaultdict(int)
    for u, v, d in index.links:
        rid = _s(d.get("review_id"))
        if _s(d.get("status")) == "broken":
            broken[rid] += 1
            for x in {u, v}:
                by_agency_b[x] += 1
        else:
            effective[rid] += 1
            for x in {u, v}:
                by_agency_e[x] += 1
    n_links = len(index.links)
    n_broken = sum(broken.values())
    parts = [
        "<h1>Safeguarding reviews: board pack</h1>",
        f'<p class="lead">{_plural(len(index.review_ids), "review")} &middot; '
        f'{_plural(len(index.by_label["Agency"]), "agency", "agencies")} &middot; '
        f'{_plural(n_broken, "broken link")} and {_plural(n_links - n_broken, "effective link")} between agencies.</p>',
        '<p class="maps"><a class="button" href="maps/agencies.html">Agency communication map</a> '
        '<a class="button" href="#matrix">Broken links, agency by agency</a> '
        '<a class="button" href="maps/themes.html">Learning theme map</a></p>',
        _breakdown_section(index, pairs, 0),
        _matrix_section(index, pairs, 0),
        "<h2>Maps</h2>",
        '<ul class="maps">'
        '<li><a href="maps/agencies.html">Agency communication map</a> &mdash; where communication between agencies broke down, across all reviews.</li>'
        '<li><a href="maps/themes.html">Learning theme map</a> &mdash; themes, the reviews raising them and the agencies the learning is for.</li>'
        "</ul>",
        '<p class="note">Maps open in the browser without a network connection. Each review also has its own map (below). '
        "Keep the folder whole: the pages share the scripts in its <code>assets</code> folder.</p>",
    ]
    parts.append(_recurring_section(index) if recurring is None else recurring)
    parts.append(f"<h2>Reviews ({len(index.review_ids)})</h2>")
    parts.append(_table(["Review", "Year", "Type", "Board", "Broken links", "Effective links", "Map", "Source file"], [
        [_review_link(index, rid, 0), _h(index.review_info(rid).get("year", "")),
         _h(index.review_info(rid).get("type", "")), _h(index.review_info(rid).get("board", "")), str(broken.get(rid, 0)),
         str(effective.get(rid, 0)), f'<a href="maps/{REVIEW_MAP_PAGE}#{index.review_slug[rid]}">map</a>',
         _h(index.review_info(rid).get("source", ""))]
        for rid in sorted(index.review_ids, key=index.newest_first)], "sortable"))
    agencies = sorted(index.by_label["Agency"], key=lambda n: (-by_agency_b.get(n, 0), index.name(n)))
    parts.append(f"<h2>Agencies ({len(agencies)})</h2>")
    parts.append(_table(["Agency", "Sector", "Reviews involving it", "Broken links", "Effective links"], [
        [_agency_link(index, n, 0), _h(index.sector(n)), str(len(index.involves.get(n, {}))), str(by_agency_b.get(n, 0)),
         str(by_agency_e.get(n, 0))] for n in agencies], "sortable"))
    themes = sorted(index.by_label["Theme"], key=lambda t: (-len(index.raises.get(t, {})), index.name(t)))
    themes = [t for t in themes if index.raises.get(t)]
    parts.append(f"<h2>Learning themes ({len(themes)})</h2>")
    parts.append(_table(["Theme", "Reviews raising it", "Recurring", "Reviews"], [
        [_h(index.name(t)), str(len(index.raises[t])), "yes" if len(index.raises[t]) >= 2 else "no",
         ", ".join(_review_link(index, r, 0) for r in sorted(index.raises[t], key=index.newest_first)[:30])
         + (" &hellip;" if len(index.raises[t]) > 30 else "")]
        for t in themes]))
    return _page("Safeguarding reviews: board pack", "\n".join(parts), 0)


RECURRING_LESSONS_SHOWN = 20  # lessons in the board pack's "Recurring lessons" section
RECURRING_REVIEWS_SHOWN = 30  # reviews listed per lesson


def _recurring_section(index: _Index, limit: int = RECURRING_LESSONS_SHOWN) -> str:
    """The index page's "Recurring lessons" section: the lessons found in most reviews
    (graph_model.recurring: the wording of the most representative learning point, the
    reviews, first and last year, themes) and each theme's reviews by year."""
    from .recurring import recurring_lessons, theme_recurrence

    lessons = recurring_lessons(index.g)
    parts = [f"<h2>Recurring lessons ({len(lessons)})</h2>",
             '<p class="note">Learning points that say the same thing in different reviews in similar words, '
             "grouped into lessons; the most widespread first, each in the words of its most representative "
             "learning point. <code>sgraph insights</code> lists them with their themes and every review.</p>"]

    def reviews(rids: list[str]) -> str:
        shown = ", ".join(_review_link(index, r, 0) for r in rids[:RECURRING_REVIEWS_SHOWN])
        return shown + (" &hellip;" if len(rids) > RECURRING_REVIEWS_SHOWN else "")

    def years(a: object, b: object) -> str:
        if a is None:
            return ""
        return _h(str(a)) if a == b else f"{_h(str(a))}&ndash;{_h(str(b))}"

    parts.append(_table(["Lesson", "Reviews", "First–last year", "Themes"], [
        [_h(le.text), f"{len(le.reviews)}: {reviews(sorted(le.reviews, key=index.newest_first))}", years(le.first_year, le.last_year),
         _h(", ".join(le.themes))]
        for le in lessons[:limit]], "recurring"))
    if len(lessons) > limit:
        parts.append(f'<p class="note">The {limit} found in most reviews of {len(lessons)}; '
                     "<code>sgraph insights --limit N</code> lists more.</p>")
    recurrence = theme_recurrence(index.g)
    all_years = sorted({y for t in recurrence.values() for y in t["by_year"] if y is not None})
    parts.append("<h3>Themes by year</h3>")
    parts.append(_table(["Theme", "Reviews", *[str(y) for y in all_years]], [
        [_h(name), str(t["reviews"]), *[str(t["by_year"].get(y, "")) for y in all_years]]
        for name, t in recurrence.items()], "by-year"))
    return "\n".join(parts)


#: From this many reviews the pack's per-review files are written by worker processes
#: (forked, so that they share the graph index instead of each building it again); below it
#: starting them costs more than they save.
PARALLEL_FROM = 40
#: Reviews per task handed to a worker (small enough to share the work out evenly).
REVIEWS_PER_TASK = 16

_fork_state: tuple[_Index, Path] | None = None  # what the forked review writers inherit


def _write_review_files(index: _Index, folder: Path, rids: list[str]) -> int:
    """The map data and page data of the reviews ``rids`` (``maps/data/``, ``reviews/data/``)."""
    for rid in rids:
        slug = index.review_slug[rid]
        _write(folder / "maps" / REVIEW_DATA_DIR / f"{slug}.js", _review_data_script(_review_map(index, rid, as_data=True)))
        _write(folder / "reviews" / REVIEW_DATA_DIR / f"{slug}.js", _review_page_data(index, rid))
    return len(rids)


def _review_files_task(rids: list[str]) -> int:
    """A worker's task: the files of ``rids``, from the index it was forked with."""
    assert _fork_state is not None
    return _write_review_files(*_fork_state, rids)


def _worker_start() -> None:
    """A review writer's initializer: Ctrl-C is the main process's to handle (it stops the
    workers); SIGTERM keeps its default, so that stopping them (``_PackWorkers.__exit__``
    terminates them) ends them even while they wait for work; they die with the main process, however it ends."""
    import gc
    import signal

    from .reaper import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    from .pipeline import INTERRUPTS

    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)  # blocked while it was forked
    gc.enable()  # paused in the main process while it writes (see write_report)


def _recurring_task() -> str:
    """A worker's task: the index page's "Recurring lessons" section (:func:`_recurring_section`)."""
    assert _fork_state is not None
    return _recurring_section(_fork_state[0])


class _PackWorkers:
    """Writes every review's files (:func:`_write_review_files`) and works out the recurring
    lessons (:meth:`recurring_section`): in ``workers`` forked worker processes while the
    caller goes on with the rest of the pack (:meth:`start`), or, with fewer than
    :data:`PARALLEL_FROM` reviews, ``workers=0``, or no ``fork`` (not Linux), here. The files
    are the same either way. The workers ignore Ctrl-C, die with this process and are
    stopped when the block ends, however it ends; a worker that dies (out of memory) is an
    error, not a wait for ever (a ``ProcessPoolExecutor`` notices, unlike ``multiprocessing.Pool``)."""

    def __init__(self, index: _Index, folder: Path, workers: int | None = None):
        self.index, self.folder = index, folder
        if workers is None:
            try:
                workers = len(os.sched_getaffinity(0))
            except AttributeError:  # pragma: no cover - not Linux
                workers = os.cpu_count() or 1
            if len(index.review_ids) < PARALLEL_FROM:
                workers = 0
        import multiprocessing

        if workers and "fork" not in multiprocessing.get_all_start_methods():
            workers = 0  # pragma: no cover - not Linux or macOS
        self.workers = workers
        self.pool = None
        self.pending: list = []
        self.lessons = None

    def __enter__(self) -> _PackWorkers:
        return self

    def start(self) -> None:
        if not self.workers or not self.index.review_ids:
            return
        import gc
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from .pipeline import _sigint_blocked

        global _fork_state
        rids = self.index.review_ids
        self.index.review_label(rids[0])  # the labels, worked out once here rather than in each worker
        _fork_state = (self.index, self.folder)
        # Frozen, the graph's millions of objects are out of the workers' collector's sight:
        # its passes would otherwise touch (and so copy) every page they share with this one.
        gc.freeze()
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start)
        with _sigint_blocked():  # the first task forks every worker
            # The recurring lessons first: one long task (TF-IDF vectors of every learning
            # point) that the index page waits for; the reviews' files share out round it.
            self.lessons = self.pool.submit(_recurring_task)
            self.pending = [self.pool.submit(_review_files_task, rids[i:i + REVIEWS_PER_TASK])
                            for i in range(0, len(rids), REVIEWS_PER_TASK)]

    def recurring_section(self) -> str:
        """The index page's "Recurring lessons" section, from a worker if they were started."""
        return _recurring_section(self.index) if self.lessons is None else self._result(self.lessons)

    def finish(self) -> None:
        if self.pool is None:
            _write_review_files(self.index, self.folder, self.index.review_ids)
            return
        done = sum(self._result(f) for f in self.pending)
        assert done == len(self.index.review_ids)
        self.pool.shutdown(wait=True)
        self.pool = None

    @staticmethod
    def _result(future: Any) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            raise OSError("a worker process writing the reviews' files stopped unexpectedly (out of memory?); "
                          "try again with --jobs 0") from None

    def __exit__(self, *exc: object) -> None:
        import gc

        global _fork_state
        if self.pool is not None:
            # Stop at once: no task not yet started, and the running ones ended (SIGTERM).
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in processes:
                p.terminate()
            for p in processes:
                p.join()
            self.pool = None
        if _fork_state is not None:
            _fork_state = None
            gc.unfreeze()


def _check_out_dir(out: Path, force: bool) -> None:
    check_out_folder(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputError(f"{out}: exists and is not a folder; choose another --out.")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise OutputError(f"{out}: the folder exists and is not empty; use --force to replace it.")
        if not (out / _MARKER).is_file():
            raise OutputError(
                f"{out}: the folder is not a board pack written by sgraph, so even --force will not replace it; "
                "choose another --out."
            )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def write_report(graph: nx.MultiDiGraph, out_dir: str | os.PathLike[str], force: bool = False,
                 workers: int | None = None) -> Path:
    """Write the board pack into ``out_dir`` and return its path.

    ``index.html`` links ``maps/agencies.html``, ``maps/themes.html``, each review's map
    (``maps/review.html#<review>``) and page (``reviews/review.html#<review>``) and a page per
    agency (``agencies/``). Everything opens from the file system, offline. The pack is written to a temporary folder next to ``out_dir`` and
    renamed into place; an existing non-empty ``out_dir`` is replaced only with ``force`` and only
    if it is a board pack sgraph wrote.

    Size at scale (the choice made): every review keeps its map and page, but ONE shared page
    draws every review's map (``maps/review.html``) and one every review's page
    (``reviews/review.html``), each from a small data file of the review (``maps/data/``,
    ``reviews/data/``: the map's JSON, or the page's escaped HTML body, gzip-compressed and
    base64-encoded, which the browser unpacks with DecompressionStream); the pages share ONE
    copy of vis-network, map.js and the style sheets in ``assets/``, loaded with relative
    ``<script src>`` / ``<link>`` (their Content-Security-Policy allows ``'self' file:``
    scripts and no inline script: ``'self'`` alone does not match file:// everywhere). A map
    written alone (``sgraph map``, :func:`agency_map_html` ...) stays one self-contained file. Agency pages list at most :data:`AGENCY_PAGE_CAP` rows per section
    (newest reviews first) under the full counts, with a table of link counts per other agency;
    every item is in ``sgraph export agency NAME``. Not chosen: capping which reviews get a map
    (the pack would lose maps) or inlining everything (each map carried the ~480 kB library).

    Measured on ``sgraph synth --seed 0`` corpora (2 CPUs; BENCHMARKS.md "Board pack"): 300
    reviews give 20.5 MB in 634 files (was 116 MB in 628 files with a static map and page per
    review: ~257 kB and ~114 kB each; now ~26 kB and ~13 kB of data); 2,000 reviews 94 MB.

    Speed: the reviews' files are written by ``workers`` processes (by default one per CPU,
    from :data:`PARALLEL_FROM` reviews; ``0``: all here) while this process writes the maps,
    agency pages and index, with the cyclic garbage collector paused (its full passes walk
    every object of the graph). The pack's bytes do not depend on ``workers``.
    """
    from .collector import cyclic_gc_paused

    with cyclic_gc_paused():
        return _write_pack(graph, Path(out_dir), force, workers)


def _write_pack(graph: nx.MultiDiGraph, out: Path, force: bool, workers: int | None) -> Path:
    _check_out_dir(out, force)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the board pack folder ({exc.strerror}).") from None
    from .breakdowns import broken_pairs

    index = _Index(graph)
    assets = f"../{ASSETS_DIR}/"
    try:
        _write(tmp / _MARKER, "This folder is a board pack written by 'sgraph report'; 'sgraph report --force' may replace it.\n")
        _write_assets(tmp / ASSETS_DIR)
        pairs = broken_pairs(graph)
        _write(tmp / "maps" / REVIEW_MAP_PAGE, _shared_review_page(assets))
        _write(tmp / "reviews" / REVIEW_PAGE, _page("Review", '<div id="review-body"><p class="none" id="review-loading">'
                                                    "Loading the review&hellip;</p></div>", 1, extra_script=REVIEW_PAGE_JS_FILE))
        with _PackWorkers(index, tmp, workers) as helpers:
            # The review files go to worker processes (when there are enough of them) while
            # this process writes the rest.
            helpers.start()
            _write(tmp / "maps" / "agencies.html", _agency_map(index, assets, pairs))
            _write(tmp / "maps" / "themes.html", _theme_map(index, assets=assets))
            for n in index.by_label["Agency"]:
                _write(tmp / "agencies" / f"{index.agency_slug[index.name(n)]}.html", _agency_page(index, n, pairs=pairs))
            _write(tmp / "index.html", _index_page(index, pairs, helpers.recurring_section()))
            helpers.finish()
        os.chmod(tmp, 0o755)
        old = None
        if out.exists():
            _check_out_dir(out, force)  # it may have changed while we were writing
            if any(out.iterdir()):
                old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
                os.replace(out, old / "pack")
            else:
                out.rmdir()
        try:
            os.replace(tmp, out)
        except BaseException:
            if old is not None and not out.exists():
                os.rename(old / "pack", out)  # put the old pack back where it was
                shutil.rmtree(old, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"{out}: cannot write the board pack ({exc.strerror or exc}).") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def write_map(html_text: str, out_file: str | os.PathLike[str], force: bool = False) -> Path:
    """Write one map to ``out_file`` whole or not at all; an existing file is replaced only with ``force``."""
    from .build import atomic_write_text

    out = Path(out_file)
    check_out_file(out)
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name such as {out / 'map.html'}.")
    if out.exists() and not force:
        raise OutputError(f"{out}: already exists; use --force to replace it.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, html_text)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the map ({exc.strerror or exc}).") from None
    return out
