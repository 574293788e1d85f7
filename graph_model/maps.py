"""Interactive maps and the board pack: static HTML that opens offline from the file system.

* :func:`agency_map_html` — agencies and the communication links between them, across all
  reviews (one line per agency pair and link status: broken red, effective green);
* :func:`review_map_html` — one review: its cases, family members, agencies, missed
  opportunities and themes, with its communication links;
* :func:`theme_map_html` — learning themes, the reviews that raise them and the agencies
  their learning is addressed to; recurring themes (raised by two or more reviews) stand out;
* :func:`write_report` — the board pack: an index, the maps and a page per review and agency.

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
everything with :func:`html.escape` and contain no script at all.
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
AGENCY_LINE_BUDGET = 60
THEME_LINE_BUDGET = 120

BROKEN = "#d62728"
EFFECTIVE = "#2ca02c"
GREY_EDGE = "#a9a9a9"
HUB_EDGE = "#dcdcdc"
REVIEW_COLOUR = "#34495e"
CASE_COLOUR = "#6b6b6b"
FAMILY_COLOUR = "#17a2b8"
MISSED_COLOUR = "#e6550d"
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
        self._year: dict[str, str] = {}
        self.label: dict[str, str] = {}
        by_label: dict[str, list[str]] = defaultdict(list)
        for n in sorted(g.nodes, key=str):
            lab = _s(g.nodes[n].get("label"))
            self.label[n] = lab
            by_label[lab].append(n)
        self.by_label = by_label
        edges = sorted(
            ((u, v, d) for u, v, d in g.edges(data=True)),
            key=lambda e: (_s(e[2].get("type")), _s(e[2].get("id")), str(e[0]), str(e[1])),
        )
        self.by_type: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
        self.by_review: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
        for e in edges:
            self.by_type[_s(e[2].get("type"))].append(e)
            if e[2].get("review_id") is not None:
                self.by_review[_s(e[2]["review_id"])].append(e)

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

    # ---- node helpers
    def props(self, n: str) -> dict:
        return self.g.nodes[n]

    def name(self, n: str) -> str:
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

    def review_option(self, rid: str) -> list[str]:
        info = self.review_info(rid)
        text = rid
        if info.get("title") and info["title"] != rid:  # the title alone when it names the review
            text = _short(info["title"], 60) if rid in info["title"] else f"{rid} \u2014 {_short(info['title'], 60)}"
        if info.get("year"):
            text += f" ({info['year']})"
        return [rid, text]


CURATED_NOTE = "curated by an analyst"
CURATED_DASHES = [2, 6]  # a link an analyst added or changed: dotted (broken links are solid, effective ones dashed)


def _curated(d: dict) -> dict:
    """The side-panel flag that shows a "Curated" badge on a fact an analyst added or changed."""
    return {"curated": True} if d.get("curated") else {}


def _evidence_note(d: dict, extra: str = "") -> str:
    parts = [CURATED_NOTE] if d.get("curated") else []
    if extra:
        parts.append(extra)
    if d.get("section"):
        parts.append(f"section: {d['section']}")
    if d.get("case"):
        parts.append(f"case: {d['case']}")
    return " \u00b7 ".join(parts)


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


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
        self.net.add_node(nid, label=label or " ", shape=shape, **opts)
        if detail:
            self.details[nid] = detail

    def edge(self, u: str, v: str, *, colour: str, width: float, dashes: bool | list = False, arrows: str = "",
             smooth: dict | bool = False, f: dict | None = None, reviews: list[str] | None = None,
             detail: dict | None = None, **extra) -> str:
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
        self.net.add_edge(u, v, **opts)
        if detail:
            self.details[eid] = detail
        return eid

    def use_review(self, index: _Index, rid: str) -> None:
        if rid and rid not in self.reviews and rid in index.review_node:
            self.reviews[rid] = index.review_info(rid)

    def html(self, options: dict, node_noun: str, edge_noun: str, review_filters=None) -> str:
        self.net.options = options
        nodes, edges, _heading, _h, _w, options_json = self.net.get_network_data()
        used = sorted({r for e in edges for r in e.get("subr", [])})
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
            if "subr" in e:  # review ids -> (index into "rf", how many pieces of evidence)
                counts: dict[int, int] = defaultdict(int)
                for r in e["subr"]:
                    counts[position[r]] += 1
                # The indexes rise: each is stored as the step from the one before (map.js adds
                # them up), which keeps thousands of them short.
                rising = sorted(counts)
                e["subr"] = [x - (rising[i - 1] if i else 0) for i, x in enumerate(rising)]
                e["subn"] = [counts[x] for x in rising]
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
        return _render_map_page(self.kind, self.title, self.subtitle, payload, self.assets)


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


def _year_options(years: set[str]) -> list[list[str]]:
    known = sorted((y for y in years if y != "unknown"), key=lambda y: (len(y), y))
    out = [[y, y] for y in known]
    if "unknown" in years:
        out.append(["unknown", "Year not known"])
    return out


# --------------------------------------------------------------------------- agency map


def _agency_map(index: _Index, assets: str | None = None) -> str:
    agencies = index.by_label["Agency"]
    reviews_with_links: set[str] = set()
    # (a, b, status) with a < b -> list of link edges
    groups: dict[tuple[str, str, str], list[tuple[str, str, dict]]] = defaultdict(list)
    for u, v, d in index.links:
        a, b = sorted((u, v))
        groups[(a, b, _s(d.get("status")) or "broken")].append((u, v, d))
        reviews_with_links.add(_s(d.get("review_id")))
    n_broken = sum(len(x) for k, x in groups.items() if k[2] == "broken")
    n_effective = sum(len(x) for k, x in groups.items() if k[2] != "broken")
    n_reviews = len(index.review_ids)
    b = _MapBuilder(
        "agencies",
        "Where communication between agencies broke down",
        f"{_plural(len(agencies), 'agency', 'agencies')} \u00b7 {_plural(n_broken, 'broken link')} and "
        f"{_plural(n_effective, 'effective link')} from {_plural(n_reviews, 'review')}",
        assets,
    )
    b.intro = [
        "Each circle is an agency; its size is the number of reviews involving it and its colour its sector.",
        "A red line is communication between two agencies that broke down; a dashed green line communication "
        "that worked. The thicker the line, the more links the reviews describe.",
        f"Click a line to read the reviews behind it and the words they used (the {LINE_QUOTE_CAP} newest when there "
        "are more; the board pack's agency pages list more). Click a circle for the agency.",
    ]
    pair_pos: dict[str, int] = defaultdict(int)
    for a, c, _status in groups:
        pair_pos[f"{a}\x00{c}"] += 1

    # Nodes: ordered round a circle by sector, then name, before physics tidies them.
    order = sorted(agencies, key=lambda n: (index.sector(n), index.name(n)))
    pos = _circle(order, _ring_radius(len(order), 110.0, 260.0))
    max_reviews = max([len(index.involves.get(n, {})) for n in agencies] + [1])
    link_counts: dict[str, dict[str, int]] = defaultdict(lambda: {"broken": 0, "effective": 0})
    links_of: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    for u, v, d in index.links:
        st = "broken" if _s(d.get("status")) == "broken" else "effective"
        for n in (u, v):
            link_counts[n][st] += 1
            links_of[n].append((u, v, d))
    def newest_links(links: list[tuple[str, str, dict]], cap: int) -> list[tuple[str, str, dict]]:
        return _take_turns(links, index, lambda e: _s(e[2].get("review_id")), lambda e: _s(e[2].get("id")), cap)

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
        detail = {
            "kind": "Agency",
            "title": name,
            "facts": [
                ["Sector", sector],
                ["Reviews involving it", f"{len(involved):,}"],
                ["Broken links", f"{counts['broken']:,}"],
                ["Effective links", f"{counts['effective']:,}"],
            ],
            "lists": [
                _list("Communication links", link_items, total=len(links_of.get(n, [])), rest=_export_hint(name)),
                _list("Reviews involving this agency", items, total=len(involved), rest=_export_hint(name)),
            ],
        }
        has_broken = counts["broken"] > 0
        b.node(
            n,
            name,
            shape="dot",
            colour=_node_colour(sector_colour(sector), "#7a0c0c" if has_broken else "#333333"),
            size=12 + 30 * math.sqrt(len(involved) / max_reviews),
            pos=pos[n],
            borderWidth=3 if has_broken else 1,
            font={"size": 16},
            f={"sector": [sector]},
            search=f"{name} {sector}",
            detail=detail,
        )

    max_links = max([len(x) for x in groups.values()] + [1])
    min_spec, min_default = _min_filter([len(x) for x in groups.values()], AGENCY_LINE_BUDGET, "link")
    seen_pairs: dict[str, int] = defaultdict(int)
    for (a, c, status), links in sorted(groups.items(), key=lambda kv: (kv[0][2] == "broken", kv[0][0], kv[0][1])):
        broken = status == "broken"
        pair = f"{a}\x00{c}"
        seen_pairs[pair] += 1
        if pair_pos[pair] > 1:  # a pair with both kinds of link: bend the two lines apart
            smooth = {"enabled": True, "type": "curvedCW" if broken else "curvedCCW", "roundness": 0.18}
        else:
            smooth = False
        subr, reviews, directions = [], set(), defaultdict(int)

        def arrow(u: str, v: str, d: dict) -> str:
            return f"{index.name(u)} \u2192 {index.name(v)}" if d.get("directed", True) else f"{index.name(u)} \u2194 {index.name(v)}"

        for u, v, d in links:
            rid = _s(d.get("review_id"))
            reviews.add(rid)
            directions[arrow(u, v, d)] += 1
            subr.append(rid)
        # The newest few carry their words; the counts above cover every link.
        items = []
        for u, v, d in newest_links(links, LINE_QUOTE_CAP):
            b.use_review(index, _s(d.get("review_id")))
            items.append({"review": _s(d.get("review_id")), "quote": _s(d.get("quote")), "note": _evidence_note(d, arrow(u, v, d)),
                          **_curated(d)})
        hint = (f"the newest reviews first, one link from each; the full list is on the agency pages of the board pack (sgraph report) "
                f"and in sgraph export agency {json.dumps(index.name(a), ensure_ascii=False)}")
        base = 4.0 if broken else 2.5
        b.edge(
            a,
            c,
            colour=BROKEN if broken else EFFECTIVE,
            width=_link_width(base, 12.0, len(links), max_links),
            dashes=False if broken else _dashes(_link_width(base, 12.0, len(links), max_links)),
            smooth=smooth,
            f={"status": [status if broken else "effective"], "sector": sorted({index.sector(a), index.sector(c)})},
            reviews=subr,
            wb=base,
            wm=12.0,
            guard=True,
            # Lines under the default "at least" threshold do not shape the layout.
            physics=len(links) >= min_default,
            detail={
                "kind": ("Broken" if broken else "Effective") + " communication",
                "title": f"{index.name(a)} \u2014 {index.name(c)}",
                "facts": [
                    ["Status", "broken" if broken else "effective"],
                    ["Links", f"{len(links):,}"],
                    ["Reviews", f"{len(reviews):,}"],
                    ["Direction", "; ".join(f"{k}: {v}" for k, v in sorted(directions.items()))],
                ],
                "lists": [_list("Evidence", items, cap=None, total=len(links), rest=hint)],
            },
        )

    sectors = sorted({index.sector(n) for n in agencies})
    _sector_legend(b, sectors)
    _link_legend(b)
    b.legend_notes = ["Circle size: reviews involving the agency. Line width: number of links.",
                      "Thick dark border: the agency has at least one broken link."]
    years = {index.review_year(r) for r in reviews_with_links}
    themes = sorted({t for r in reviews_with_links for t in index.review_themes.get(r, [])})
    b.filters = [
        {"key": "status", "label": "Links", "type": "checks", "match": "any",
         "options": [["broken", "Broken"], ["effective", "Effective"]]},
        {"key": "sector", "label": "Sector", "type": "select", "all": "All sectors", "options": [[s, s] for s in sectors]},
        {"key": "year", "label": "Year", "type": "select", "all": "All years", "options": _year_options(years)},
        {"key": "review", "label": "Review", "type": "select", "all": "All reviews",
         "options": [index.review_option(r) for r in sorted(reviews_with_links)]},
        {"key": "theme", "label": "Theme", "type": "select", "all": "All themes", "options": [[t, t] for t in themes]},
    ]
    if min_spec:
        b.filters.append(min_spec)
    return b.html(
        _options(iterations=400, spring=200, gravity=-120), "agencies", "links",
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


def _review_map(index: _Index, rid: str, assets: str | None = None) -> str:
    if rid not in index.review_node:
        known = ", ".join(index.review_ids[:8]) + (", ..." if len(index.review_ids) > 8 else "")
        raise UsageError(f"There is no review '{rid}' in the graph (reviews: {known or 'none'}).")
    rnode = index.review_node[rid]
    info = index.review_info(rid)
    edges = index.by_review.get(rid, [])
    by_type: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    for e in edges:
        by_type[_s(e[2].get("type"))].append(e)
    links = by_type["COMMUNICATION"]
    n_broken = sum(1 for *_x, d in links if _s(d.get("status")) == "broken")
    b = _MapBuilder(
        "review",
        f"Review {rid}: {info.get('title', '')}".rstrip(": ").strip(),
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
        "The square is the review. Around it: its cases (triangles), family members (turquoise), the agencies "
        "involved (circles by sector), missed opportunities (orange diamonds) and learning themes (hexagons).",
        "Red lines between agencies are communication that broke down; dashed green lines communication that worked.",
        "Click anything to read the evidence from the review.",
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
        rnode, _short(rid, 40), shape="square", colour=_node_colour(REVIEW_COLOUR, "#111111"), size=28, pos=pos[rnode],
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
            number = mos.index(n) + 1 if n in mos else 0
            b.node(n, f"Missed opportunity {number}", shape="diamond", colour=_node_colour(MISSED_COLOUR, "#7f2704"), size=13,
                   pos=pos[n], f={"kind": [kind]}, font={"size": 13}, search=f"missed opportunity {number} {_s(d.get('text'))}",
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
                    "facts": [[k2, v2] for k2, v2 in (("Status", "broken" if broken else "effective"), ("Case", _s(d.get("case"))),
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
        {"key": "kind", "label": "Show", "type": "checks", "match": "all",
         "options": [["case", "Cases"], ["family", "Family"], ["agency", "Agencies"], ["missed", "Missed opportunities"],
                     ["theme", "Themes"]]},
        {"key": "status", "label": "Links", "type": "checks", "match": "any",
         "options": [["broken", "Broken"], ["effective", "Effective"]]},
    ]
    return b.html(_options(iterations=300, spring=110, gravity=-60), "items", "lines")


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
            rn, _short(rid, 24), shape="square", colour=_node_colour(REVIEW_COLOUR, "#111111"), size=10, pos=pos[rn],
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
                   detail={"kind": "Review raises theme", "title": f"{rid} \u2192 {index.name(t)}",
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
        {"key": "year", "label": "Year", "type": "select", "all": "All years", "options": _year_options(years)},
    ]
    if show_reviews:
        b.filters.append({"key": "review", "label": "Review", "type": "select", "all": "All reviews",
                          "options": [index.review_option(r) for r in review_order]})
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
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<nav class="crumbs"><a href="{root}index.html">Board pack</a></nav>
<main>
{body}
</main>
</body>
</html>
"""

_h = html.escape


def _page(title: str, body: str, depth: int) -> str:
    css = _template_text("report.css")
    return _PAGE.format(title=_h(title), css=css, body=body, root="../" * depth)


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
    if rid not in index.review_slug:
        return _h(rid)
    return f'<a href="{"../" * depth}reviews/{index.review_slug[rid]}.html">{_h(rid)}</a>'


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
    agencies: dict[str, list[str]] = defaultdict(list)
    for u, v, _d in by_type.get("MENTIONS_AGENCY", []):
        agencies[u].append(v)
    events = [(v, index.props(v)) for _u, v, _d in by_type.get("HAS_EVENT", [])]
    events.sort(key=lambda e: (_s(e[1].get("date_from")), _s(e[1].get("date_to")), e[1].get("start") or 0, _s(e[1].get("id"))))
    return [(n, d, sorted(agencies.get(n, []), key=index.name)) for n, d in events]


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


def _timeline_panel(index: _Index, by_type: dict[str, list[tuple[str, str, dict]]]) -> dict:
    """The review map's side-panel list of the same events (map.js shows it as text only)."""
    items = []
    for _n, d, agencies in _timeline_events(index, by_type):
        extra = ", ".join(index.name(a) for a in agencies)
        items.append({"title": f"{_s(d.get('date_text'))} ({_date_range_text(d)})", "quote": _s(d.get("text")),
                      "note": _evidence_note(d, f"agencies: {extra}" if extra else "")})
    return _list("Timeline", items, cap=None)


def _review_page(index: _Index, rid: str) -> str:
    info = index.review_info(rid)
    rn = index.review_node[rid]
    rd = index.props(rn)
    by_type: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    for u, v, d in index.by_review.get(rid, []):
        by_type[_s(d.get("type"))].append((u, v, d))
    slug = index.review_slug[rid]
    parts = [f"<h1>{_h(info.get('title') or rid)}</h1>",
             f'<p class="lead"><a class="button" href="../maps/review-{slug}.html">Open the map of this review</a></p>']
    facts = [("Review", rid), ("Title", info.get("title", "")), ("Type", info.get("type", "")), ("Board", info.get("board", "")),
             ("Year", info.get("year", "")), ("Source file", info.get("source", "")), ("SHA-256", _s(rd.get("sha256"))),
             ("Length (characters)", _s(rd.get("text_length")))]
    parts.append('<dl class="facts">' + "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in facts if v) + "</dl>")
    parts.append(_timeline_section(index, by_type))

    links = sorted(by_type["COMMUNICATION"], key=lambda x: (_s(x[2].get("status")) != "broken", _s(x[2].get("id"))))
    parts.append(f"<h2>Communication between agencies ({len(links)})</h2>")
    parts.append(_table(["From", "To", "Status", "Evidence"], [
        [_agency_link(index, u), _agency_link(index, v), _status(d.get("status")), _quote(d.get("quote"), _evidence_note(d))]
        for u, v, d in links]))

    mos = [v for _u, v, _d in by_type["HAS_MISSED_OPPORTUNITY"]]
    parts.append(f"<h2>Missed opportunities ({len(mos)})</h2>")
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

    inv = by_type["INVOLVES"]
    parts.append(f"<h2>Agencies involved ({len(inv)})</h2>")
    parts.append(_table(["Agency", "Sector", "Mentions", "First mention"], [
        [_agency_link(index, v), _h(index.sector(v)), _h(_s(d.get("mentions"))), _quote(d.get("quote"), _evidence_note(d))]
        for _u, v, d in sorted(inv, key=lambda x: index.name(x[1]))]))

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
    return _page(f"Review {rid}: {info.get('title', '')}", "\n".join(parts), 1)


def _first_rows(rows: list, cap: int | None, what: str, name: str, where: str = "") -> tuple[list, str]:
    """The first ``cap`` rows and, when some are left out, a note saying so and where they are
    (``where``, HTML; by default the agency's export)."""
    if cap is None or len(rows) <= cap:
        return rows, ""
    where = where or f'every one, with its source: <code>sgraph export agency {_h(json.dumps(name, ensure_ascii=False))}</code>'
    return rows[:cap], f'<p class="note">Showing the {cap:,} newest of {len(rows):,} {_h(what)}; {where}.</p>'



def _agency_page(index: _Index, n: str, cap: int | None = AGENCY_PAGE_CAP) -> str:
    name, sector = index.name(n), index.sector(n)
    involved = index.involves.get(n, {})
    parts = [f"<h1>{_h(name)}</h1>", f'<p class="lead">Sector: {_h(sector)} &middot; involved in {_plural(len(involved), "review")}</p>']
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
    parts.append(_table(["Review", "Title", "Year", "Mentions", "First mention"], [
        [_review_link(index, rid), _h(index.review_info(rid).get("title", "")), _h(index.review_info(rid).get("year", "")),
         _h(_s(involved[rid].get("mentions"))), _quote(involved[rid].get("quote"), _evidence_note(involved[rid]))]
        for rid in shown]))
    return _page(f"Agency: {name}", "\n".join(parts), 1)


def _index_page(index: _Index) -> str:
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
        "<h2>Maps</h2>",
        '<ul class="maps">'
        '<li><a href="maps/agencies.html">Agency communication map</a> &mdash; where communication between agencies broke down, across all reviews.</li>'
        '<li><a href="maps/themes.html">Learning theme map</a> &mdash; themes, the reviews raising them and the agencies the learning is for.</li>'
        "</ul>",
        '<p class="note">Maps open in the browser without a network connection. Each review also has its own map (below). '
        "Keep the folder whole: the maps share the scripts in its <code>assets</code> folder.</p>",
    ]
    parts.append(_recurring_section(index))
    parts.append(f"<h2>Reviews ({len(index.review_ids)})</h2>")
    parts.append(_table(["Review", "Title", "Year", "Type", "Board", "Broken links", "Effective links", "Map", "Source file"], [
        [_review_link(index, rid, 0), _h(index.review_info(rid).get("title", "")), _h(index.review_info(rid).get("year", "")),
         _h(index.review_info(rid).get("type", "")), _h(index.review_info(rid).get("board", "")), str(broken.get(rid, 0)),
         str(effective.get(rid, 0)), f'<a href="maps/review-{index.review_slug[rid]}.html">map</a>',
         _h(index.review_info(rid).get("source", ""))]
        for rid in index.review_ids]))
    agencies = sorted(index.by_label["Agency"], key=lambda n: (-by_agency_b.get(n, 0), index.name(n)))
    parts.append(f"<h2>Agencies ({len(agencies)})</h2>")
    parts.append(_table(["Agency", "Sector", "Reviews involving it", "Broken links", "Effective links"], [
        [_agency_link(index, n, 0), _h(index.sector(n)), str(len(index.involves.get(n, {}))), str(by_agency_b.get(n, 0)),
         str(by_agency_e.get(n, 0))] for n in agencies]))
    themes = sorted(index.by_label["Theme"], key=lambda t: (-len(index.raises.get(t, {})), index.name(t)))
    themes = [t for t in themes if index.raises.get(t)]
    parts.append(f"<h2>Learning themes ({len(themes)})</h2>")
    parts.append(_table(["Theme", "Reviews raising it", "Recurring", "Reviews"], [
        [_h(index.name(t)), str(len(index.raises[t])), "yes" if len(index.raises[t]) >= 2 else "no",
         ", ".join(_review_link(index, r, 0) for r in sorted(index.raises[t])[:30]) + (" &hellip;" if len(index.raises[t]) > 30 else "")]
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
             '<p class="note">Learning points that say the same thing in different reviews (similar wording, '
             "see docs/recurring.md), grouped into lessons; the most widespread first, each in the words of its "
             "most representative learning point.</p>"]

    def reviews(rids: list[str]) -> str:
        shown = ", ".join(_review_link(index, r, 0) for r in rids[:RECURRING_REVIEWS_SHOWN])
        return shown + (" &hellip;" if len(rids) > RECURRING_REVIEWS_SHOWN else "")

    def years(a: object, b: object) -> str:
        if a is None:
            return ""
        return _h(str(a)) if a == b else f"{_h(str(a))}&ndash;{_h(str(b))}"

    parts.append(_table(["Lesson", "Reviews", "First–last year", "Themes"], [
        [_h(le.text), f"{len(le.reviews)}: {reviews(le.reviews)}", years(le.first_year, le.last_year),
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


def write_report(graph: nx.MultiDiGraph, out_dir: str | os.PathLike[str], force: bool = False) -> Path:
    """Write the board pack into ``out_dir`` and return its path.

    ``index.html`` links ``maps/agencies.html``, ``maps/themes.html``, ``maps/review-<id>.html``
    and a page per review (``reviews/``) and per agency (``agencies/``). Everything is static and
    opens from the file system. The pack is written to a temporary folder next to ``out_dir`` and
    renamed into place; an existing non-empty ``out_dir`` is replaced only with ``force`` and only
    if it is a board pack sgraph wrote.

    Size at scale (the choice made): every review keeps its map, but the maps of the pack share
    ONE copy of vis-network and map.js in ``assets/``, loaded with a relative
    ``<script src="../assets/...">``, and one style sheet (their Content-Security-Policy allows
    ``'self' file:`` scripts and no inline script: ``'self'`` alone does not match file://
    everywhere). A map written alone (``sgraph map``, :func:`agency_map_html` ...) stays one
    self-contained file. Agency pages list at most :data:`AGENCY_PAGE_CAP` rows per section
    (newest reviews first) under the full counts, with a table of link counts per other agency;
    every item is in ``sgraph export agency NAME``. Not chosen: capping which reviews get a map
    (the pack would lose maps) or inlining everything (each map carried the ~480 kB library).

    Measured on ``sgraph synth --seed 0`` corpora (2 CPUs): 2,000 reviews give a pack of
    ~640 MB written in ~45-60 s (was ~2.2 GB in ~66 s: 2,000 maps inlining the library and
    agency pages of up to 28 MB); 200 reviews ~74 MB in ~5 s (was 235 MB in ~12 s). What is left
    is the reviews' own facts: a review map is ~230 kB on average and its page ~90 kB.
    """
    out = Path(out_dir)
    _check_out_dir(out, force)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the board pack folder ({exc.strerror}).") from None
    index = _Index(graph)
    assets = f"../{ASSETS_DIR}/"
    try:
        _write(tmp / _MARKER, "This folder is a board pack written by 'sgraph report'; 'sgraph report --force' may replace it.\n")
        _write_assets(tmp / ASSETS_DIR)
        _write(tmp / "index.html", _index_page(index))
        _write(tmp / "maps" / "agencies.html", _agency_map(index, assets))
        _write(tmp / "maps" / "themes.html", _theme_map(index, assets=assets))
        for rid in index.review_ids:
            slug = index.review_slug[rid]
            _write(tmp / "maps" / f"review-{slug}.html", _review_map(index, rid, assets))
            _write(tmp / "reviews" / f"{slug}.html", _review_page(index, rid))
        for n in index.by_label["Agency"]:
            _write(tmp / "agencies" / f"{index.agency_slug[index.name(n)]}.html", _agency_page(index, n))
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
