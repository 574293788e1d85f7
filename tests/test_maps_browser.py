"""The maps in a real headless Chromium (Playwright), with every network request blocked.

For each kind of map: no console errors, no request to anything but the file itself, the
canvas is drawn, clicking a line shows its evidence in the side panel, and a filter hides
what it should. Hostile document text (script tags, onerror images, javascript: links,
quotes) must appear literally in the side panel and never run.

Needs Chromium at /usr/bin/chromium: skipped without it, except under CI=true, where a
missing browser is a failure (CI installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_maps import (  # noqa: F401
    CHILD_X,
    HOSTILE_IMG,
    HOSTILE_LINK,
    HOSTILE_QUOTE,
    HOSTILE_SCRIPT,
    SEEDS,
    chrono_graph,
    hostile_graph,
    ranked_graph,
)

from graph_model import maps
from graph_model.pipeline import build

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def _no_browser(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        _no_browser(f"headless Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the playwright Python package is not installed")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    except Exception as exc:  # pragma: no cover - depends on the machine
        pw.stop()
        _no_browser(f"Chromium at {CHROMIUM} does not start: {exc}")
    yield b
    b.close()
    pw.stop()


class Page:
    """A page opened from a file, with every non-file request aborted and recorded."""

    def __init__(self, browser, path: Path, fragment: str = ""):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

        def route(r):
            url = r.request.url
            if url.startswith("file:"):
                r.continue_()
            else:
                self.requests.append(url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(Path(path).resolve().as_uri() + (f"#{fragment}" if fragment else ""))

    def wait_ready(self) -> None:
        self.page.wait_for_selector("body[data-ready='1']", timeout=30_000)

    def js(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def visible_edges(self) -> int:
        return self.js("() => window.sgMap.edges.get({filter: (e) => !e.hidden}).length")

    def visible_nodes(self) -> int:
        return self.js("() => window.sgMap.nodes.get({filter: (n) => !n.hidden}).length")

    def panel(self) -> str:
        return self.page.inner_text("#panel-body")

    def click_edge(self, edge_id: str) -> bool:
        """Click a straight line at its middle (canvasToDOM of the midpoint of its ends' positions).

        If a node is drawn within a few pixels of the middle, points a little either side of it
        are tried; False if none is clear of nodes.
        """
        point = self.js(
            """(id) => {
                const net = window.sgMap.network, e = window.sgMap.edges.get(id);
                const p = net.getPositions([e.from, e.to]);
                const r = document.getElementById('network').getBoundingClientRect();
                for (const t of [0.5, 0.42, 0.58, 0.35, 0.65]) {
                    const at = {x: p[e.from].x + t * (p[e.to].x - p[e.from].x), y: p[e.from].y + t * (p[e.to].y - p[e.from].y)};
                    const dom = net.canvasToDOM(at);
                    let clear = net.getEdgeAt(dom) === id;
                    for (const dx of [-6, 0, 6]) for (const dy of [-6, 0, 6])
                        if (net.getNodeAt({x: dom.x + dx, y: dom.y + dy}) !== undefined) clear = false;
                    if (clear) return [r.left + dom.x, r.top + dom.y];
                }
                return null;
            }""",
            edge_id,
        )
        if not point:
            return False
        self.page.mouse.click(point[0], point[1])
        return True

    def click_node(self, node_id: str) -> None:
        x, y = self.js(
            """(id) => {
                const net = window.sgMap.network, dom = net.canvasToDOM(net.getPositions([id])[id]);
                const r = document.getElementById('network').getBoundingClientRect();
                return [r.left + dom.x, r.top + dom.y];
            }""",
            node_id,
        )
        self.page.mouse.click(x, y)

    def click_first_edge(self, candidates: list[str]) -> str:
        for eid in candidates:
            if self.click_edge(eid):
                return eid
        raise AssertionError(f"none of the lines {candidates} could be clicked at its middle")

    def drawn_pixels(self) -> int:
        return self.js(
            """() => {
                const c = document.querySelector('#network canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                return n;
            }"""
        )

    def close(self) -> None:
        self.page.close()


@contextmanager
def agency_map_page(browser, graph, tmp_path: Path) -> Iterator[Page]:
    """The agency map of ``graph`` written to ``tmp_path``, open and drawn; closed after."""
    path = tmp_path / "agencies.html"
    path.write_text(maps.agency_map_html(graph), encoding="utf-8")
    p = Page(browser, path)
    try:
        p.wait_ready()
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def seed_maps(tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    g = build([SEEDS], home=out / "ws", embedded=False).graph
    files = {
        "agencies": out / "agencies.html",
        "themes": out / "themes.html",
        "review": out / "review.html",
    }
    files["agencies"].write_text(maps.agency_map_html(g), encoding="utf-8")
    files["themes"].write_text(maps.theme_map_html(g), encoding="utf-8")
    files["review"].write_text(maps.review_map_html(g, CHILD_X), encoding="utf-8")
    return g, files


def broken_quotes(g, a: str, b: str) -> set[str]:
    return {
        d["quote"] for u, v, d in g.edges(data=True)
        if d["type"] == "COMMUNICATION" and d["status"] == "broken" and {u, v} == {a, b}
    }


def check_clean(p: Page) -> None:
    assert p.errors == []
    assert p.requests == []


def test_agency_map_in_a_browser(browser, seed_maps):
    g, files = seed_maps
    p = Page(browser, files["agencies"])
    try:
        p.wait_ready()
        assert p.js("() => window.sgMap.nodes.length") == 14  # the seeds' agencies, the Coroner among them
        assert p.visible_edges() == 5  # one line per pair: GP–CSC's broken and effective links are one
        assert p.drawn_pixels() > 5_000
        assert p.js("() => window.sgMap.network.physics.options.enabled") is False  # switched off once stable

        broken = p.js("() => window.sgMap.edges.get({filter: (e) => e.f.status[0] === 'broken' && !e.smooth}).map((e) => e.id)")
        eid = p.click_first_edge(broken)
        assert p.page.get_attribute("#panel-body", "data-selected") == eid
        edge = p.js("(id) => window.sgMap.edges.get(id)", eid)
        text = p.panel()
        quotes = broken_quotes(g, edge["from"], edge["to"])
        assert quotes and all(q in text for q in quotes)
        assert "communication between two agencies" in text.lower() and "broken links" in text.lower()
        assert "Source file: 004_cd261efeb7acd646.txt" in text  # review title and source file shown

        # Filters: links, sector, year.
        p.page.uncheck("#flt-status input[value=effective]")
        assert p.visible_edges() == 4
        p.page.check("#flt-status input[value=effective]")
        # GP–CSC is one line: red while its broken link counts, green and dashed with effective links only.
        gp_line = "() => { const e = window.sgMap.edges.get({filter: (x) => x.to === 'Agency:GP'})[0]; return [e.color.color, !!e.dashes]; }"
        assert p.js(gp_line) == [maps.BROKEN, False]
        p.page.uncheck("#flt-status input[value=broken]")
        assert p.visible_edges() == 2
        assert p.js(gp_line) == [maps.EFFECTIVE, True]
        p.page.check("#flt-status input[value=broken]")
        p.page.select_option("#flt-sector", "police")
        assert p.visible_edges() == 1  # Police–CSC, effective
        p.page.select_option("#flt-sector", "")
        p.page.select_option("#flt-year-from", "2018")
        p.page.select_option("#flt-year-to", "2018")
        assert p.visible_edges() == 1  # SILR15b's link only
        p.page.select_option("#flt-year-from", "")
        p.page.select_option("#flt-year-to", "")
        p.page.select_option("#flt-review", CHILD_X)
        assert p.visible_edges() == 4
        p.page.click("#reset")
        assert p.visible_edges() == 5

        # Search selects the matching agency.
        p.page.fill("#search", "health visit")
        assert p.page.inner_text("#search-count") == "1 match"
        p.page.press("#search", "Enter")
        assert p.js("() => window.sgMap.network.getSelectedNodes()") == ["Agency:Health Visiting"]
        assert "Health Visiting" in p.panel()
        check_clean(p)
    finally:
        p.close()


def test_review_map_in_a_browser(browser, seed_maps):
    g, files = seed_maps
    p = Page(browser, files["review"])
    try:
        p.wait_ready()
        assert p.drawn_pixels() > 5_000
        total = p.visible_edges()
        broken = p.js("() => window.sgMap.edges.get({filter: (e) => e.f && e.f.status && e.f.status[0] === 'broken' && !e.smooth}).map((e) => e.id)")
        assert len(broken) >= 3
        eid = p.click_first_edge(broken)
        edge = p.js("(id) => window.sgMap.edges.get(id)", eid)
        assert any(q in p.panel() for q in broken_quotes(g, edge["from"], edge["to"]))

        # The map starts with agencies and links: missed opportunities, family and themes are a tick away.
        mo_nodes = p.js("() => window.sgMap.nodes.get({filter: (n) => n.id.startsWith('MissedOpportunity:')}).map((n) => n.id)")
        assert mo_nodes and p.js("(ids) => ids.every((id) => window.sgMap.nodes.get(id).hidden)", mo_nodes)
        for kind in ("missed", "family", "theme"):
            p.page.check(f"#flt-kind input[value={kind}]")
        total = p.visible_edges()
        assert not p.js("(ids) => ids.some((id) => window.sgMap.nodes.get(id).hidden)", mo_nodes)
        # Each is named by its first words and the agency that missed it, in violet, not a red.
        labels = p.js("(ids) => ids.map((id) => window.sgMap.nodes.get(id).label)", mo_nodes)
        assert any(lab.endswith("\n(GP)") for lab in labels) and not any(lab.startswith("Missed opportunity") for lab in labels)
        assert p.js("(id) => window.sgMap.nodes.get(id).color.background", mo_nodes[0]) == maps.MISSED_COLOUR
        touching = p.js(
            "(ids) => window.sgMap.edges.get({filter: (e) => ids.includes(e.from) || ids.includes(e.to)}).length", mo_nodes
        )
        assert touching
        # Hiding missed opportunities hides them and every line touching them.
        p.page.uncheck("#flt-kind input[value=missed]")
        assert p.visible_edges() == total - touching
        assert p.js("(ids) => ids.every((id) => window.sgMap.nodes.get(id).hidden)", mo_nodes)
        p.page.uncheck("#flt-status input[value=broken]")
        assert p.visible_edges() == total - touching - 4

        p.click_node("Review:Child X")
        text = p.panel()
        assert "004_cd261efeb7acd646.txt" in text
        assert "Timeline (6)" in text and "14 th September 2015 (2015-09-14)" in text
        check_clean(p)
    finally:
        p.close()


def test_review_page_timeline_in_a_browser(browser, seed_maps, tmp_path):
    """The pack's shared review page draws Child X's page from its data file."""
    g, _files = seed_maps
    pack = maps.write_report(g, tmp_path / "pack")
    p = Page(browser, pack / "reviews" / "review.html", "Child-X")
    try:
        p.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        assert p.page.title() == "Learning Summary – Child X (2016)"
        assert p.page.inner_text("h1") == "Learning Summary – Child X"
        # Agencies and their links come first.
        heads = p.js("() => Array.from(document.querySelectorAll('main h2')).map((e) => e.textContent)")
        assert heads[:3] == ["Agencies involved (9)", "Communication between agencies (5)", "Timeline (6)"]
        # The chronology strip across the top: the dated events in date order.
        strip = p.js("() => Array.from(document.querySelectorAll('nav.chronology li:not(.missed) .when')).map((e) => e.textContent)")
        assert strip == ["January 2014", "summer 2015", "July / August 2015", "September 2015", "September 2015",
                         "14 th September 2015"]
        assert p.js("() => document.querySelector('nav.chronology').getBoundingClientRect().top") < p.js(
            "() => document.querySelector('h2').getBoundingClientRect().top")
        when = p.js("() => Array.from(document.querySelectorAll('ol.timeline li .when')).map((e) => e.textContent)")
        assert when == ["January 2014", "summer 2015", "July / August 2015", "September 2015", "September 2015",
                        "14 th September 2015"]
        events = p.js("() => Array.from(document.querySelectorAll('ol.timeline li .event')).map((e) => e.textContent)")
        assert events[4].startswith("Mother's presentation to A&E for Child X's incident in September 2015")
        assert p.js("() => getComputedStyle(document.querySelector('ol.timeline')).listStyleType") == "none"  # report.css
        check_clean(p)
    finally:
        p.close()


def test_theme_map_in_a_browser(browser, seed_maps):
    g, files = seed_maps
    p = Page(browser, files["themes"])
    try:
        p.wait_ready()
        assert p.drawn_pixels() > 5_000
        # The "at least" filter starts where at most THEME_LINE_BUDGET agency lines show; 1 shows all.
        assert p.js("() => window.sgMap.edges.get({filter: (e) => e.subr && !e.hidden}).length") <= maps.THEME_LINE_BUDGET
        p.page.select_option("#flt-min", "1")
        assert p.visible_edges() == p.js("() => window.sgMap.edges.length")
        total = p.visible_edges()
        once = p.js("() => window.sgMap.edges.get({filter: (e) => e.f.recurrence[0] === 'once'}).length")
        p.page.uncheck("#flt-recurrence input[value=once]")
        assert 0 < once and p.visible_edges() == total - once
        p.page.click("#reset")
        p.page.select_option("#flt-theme", "Safe sleep")
        shown = p.js("() => window.sgMap.edges.get({filter: (e) => !e.hidden}).map((e) => e.from + '>' + e.to)")
        assert shown and all("Theme:Safe sleep" in s for s in shown)
        p.page.click("#reset")

        p.click_node("Theme:Information sharing")
        text = p.panel()
        assert "Information sharing" in text and "Reviews raising it (5)" in text
        lines = p.js("() => window.sgMap.edges.get({filter: (e) => e.from === 'Theme:Information sharing' && !e.smooth}).map((e) => e.id)")
        eid = p.click_first_edge(lines)
        assert p.page.get_attribute("#panel-body", "data-selected") == eid
        assert "Learning" in p.panel()
        check_clean(p)
    finally:
        p.close()


def test_hostile_text_never_runs(browser, hostile_graph, tmp_path):  # noqa: F811
    rid = f"H1 {HOSTILE_SCRIPT}"
    pack = maps.write_report(hostile_graph, tmp_path / "pack")
    slugs = sorted(x.stem for x in (pack / "maps" / "data").glob("*.js"))
    pages = [(pack / "maps" / "agencies.html", ""), (pack / "maps" / "themes.html", ""),
             *[(pack / "maps" / "review.html", slug) for slug in slugs]]
    for path, slug in pages:
        p = Page(browser, path, slug)
        try:
            p.wait_ready()
            # Click every line and node there is, and search for the hostile text.
            for eid in p.js("() => window.sgMap.edges.getIds()"):
                p.click_edge(eid)
            for nid in p.js("() => window.sgMap.nodes.getIds()")[:40]:
                p.click_node(nid)
            p.page.fill("#search", HOSTILE_IMG)
            p.page.press("#search", "Enter")
            assert p.js("() => window.__pwned") is None
            assert p.js("() => document.querySelectorAll('#panel img, #panel script, #panel a, #filters img').length") == 0
            # The text is shown literally.
            if path.name == "agencies.html":
                line = p.js("() => window.sgMap.edges.get({filter: (e) => e.subn && e.subn.reduce((x, y) => x + y, 0) === 2}).map((e) => e.id)")
                p.js("(id) => window.sgMap.show(id)", line[0])
                text = p.panel()
                assert HOSTILE_QUOTE.replace("\u2028", "").split(" end")[0][:60] in text
                assert HOSTILE_IMG in text and HOSTILE_LINK in text
                assert f"Review {HOSTILE_SCRIPT}" in text  # the review's title
            if slug.startswith("H1"):
                for kind in ("missed", "family", "theme"):  # everything on the map
                    p.page.check(f"#flt-kind input[value={kind}]")
                p.click_node(f"Review:{rid}")
                assert HOSTILE_SCRIPT in p.page.inner_text("#map-title")
                assert "window.__pwned" in p.panel()
            assert p.js("() => window.__pwned") is None
            check_clean(p)
        finally:
            p.close()
    review_pages = [(pack / "reviews" / "review.html", slug) for slug in slugs]
    for path, slug in [(pack / "index.html", ""), *review_pages, *[(x, "") for x in sorted((pack / "agencies").glob("*.html"))]]:
        p = Page(browser, path, slug)
        try:
            if slug:
                p.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert p.js("() => window.__pwned") is None
            assert p.js("() => document.querySelectorAll('img, iframe').length") == 0
            # The scripts are the pack's own: pack.js (sortable tables); a review page's loader and its data.
            scripts = [("" if path.parent == pack else "../") + "assets/pack.js"]
            if slug:
                scripts += ["../assets/review-page.js", f"data/{slug}.js"]
            assert p.js("() => Array.from(document.scripts).map((s) => s.getAttribute('src'))") == scripts
            if slug.startswith("H1"):
                assert HOSTILE_IMG in p.page.inner_text("body") and HOSTILE_SCRIPT in p.page.title()
            check_clean(p)
        finally:
            p.close()


def test_review_page_places_missed_opportunities_on_the_chronology(browser, chrono_graph, tmp_path):  # noqa: F811
    """CHRONO_DOC (test_maps): the strip in date order, each missed opportunity (violet) after the
    event it follows in the text; the one before every dated event is said not to be on it."""
    pack = maps.write_report(chrono_graph, tmp_path / "pack")
    (slug,) = [p.stem for p in (pack / "reviews" / "data").glob("*.js")]
    p = Page(browser, pack / "reviews" / "review.html", slug)
    try:
        p.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        strip = p.js("""() => Array.from(document.querySelectorAll('nav.chronology li')).map((li) =>
            [li.className, li.querySelector('.when').textContent, li.querySelector('.what').textContent.split(' ').slice(0, 3).join(' ')])""")
        assert strip == [["", "May 2018", "Earlier, in May"], ["", "March 2019", "In March 2019,"],
                         ["missed", "Missed opportunity", "The health visitor"], ["", "January 2020", "In January 2020,"],
                         ["missed", "Missed opportunity", "The police did"], ["", "June 2020", "In June 2020,"]]
        # Violet, not a red (report.css).
        colour = p.js("() => getComputedStyle(document.querySelector('nav.chronology li.missed'), '::before').backgroundColor")
        assert colour == "rgb(123, 94, 167)"
        assert "Not on the strip: 1 missed opportunity" in p.page.inner_text("nav.chronology")
        # Its link scrolls to the page's list of missed opportunities (the review stays: the
        # address still names it), as an event's scrolls to the timeline.
        p.page.set_viewport_size({"width": 1400, "height": 400})
        p.page.click("nav.chronology li.missed a")
        assert abs(p.js("() => document.getElementById('missed').getBoundingClientRect().top")) < 2
        p.page.click("nav.chronology li:not(.missed) a", force=True)
        assert abs(p.js("() => document.getElementById('timeline').getBoundingClientRect().top")) < 2
        assert p.js("() => window.location.hash") == "#" + slug and p.page.get_attribute("body", "data-failed") is None
        check_clean(p)
    finally:
        p.close()


def test_capped_maps_and_shared_scripts_in_a_browser(browser, tmp_path):
    """A graph big enough for the caps: the panel says "Showing 5 of 125"; the compact data (line
    reviews as steps, filter values as option positions, shared texts) drives the filters as
    before; the board pack's maps run on the shared assets/ scripts from file:// with every
    network request blocked, and their CSP still refuses inline script."""
    from test_maps import BIG_LINKS, BIG_REVIEWS, big_records

    from graph_model.build import build_graph

    g = build_graph(big_records())
    pack = maps.write_report(g, tmp_path / "pack")
    alone = tmp_path / "agencies.html"
    alone.write_text(maps.agency_map_html(g), encoding="utf-8")
    total = BIG_REVIEWS * BIG_LINKS
    for path in (alone, pack / "maps" / "agencies.html"):
        p = Page(browser, path)
        try:
            p.wait_ready()
            assert p.drawn_pixels() > 5_000
            line = p.js("() => window.sgMap.edges.get({filter: (e) => e.f.status[0] === 'broken'})[0].id")
            p.js("(id) => window.sgMap.show(id)", line)
            text = p.panel()
            assert f"Broken links: evidence ({total})" in text and f"Showing {maps.LINE_QUOTE_CAP} of {total}" in text
            assert 'sgraph export agency "' in text
            assert text.count("the GP did not tell CSC") == maps.LINE_QUOTE_CAP
            assert p.js("(id) => window.sgMap.edges.get(id).subn.reduce((x, y) => x + y, 0)", line) == total
            # Years 2010-2014 (review i: 2010 + i % 5); R03 (2013) alone has the Police–Schools line.
            p.page.select_option("#flt-year-from", "2013")
            p.page.select_option("#flt-year-to", "2013")
            assert p.visible_edges() == 2
            p.page.select_option("#flt-year-from", "2012")
            p.page.select_option("#flt-year-to", "2012")
            assert p.visible_edges() == 1
            p.page.select_option("#flt-year-from", "")
            p.page.select_option("#flt-year-to", "")
            p.page.select_option("#flt-review", "R04")
            assert p.visible_edges() == 1
            p.page.select_option("#flt-review", "R03")
            assert p.visible_edges() == 2
            p.page.select_option("#flt-review", "")
            p.page.select_option("#flt-theme", "Information sharing")
            assert p.visible_edges() == 2
            check_clean(p)
        finally:
            p.close()

    p = Page(browser, pack / "maps" / "themes.html")
    try:
        p.wait_ready()
        p.js("() => window.sgMap.show('Theme:Information sharing')")
        assert f"Showing {maps.THEME_REVIEW_CAP} of {BIG_REVIEWS}" in p.panel()
        line = p.js("() => window.sgMap.edges.get({filter: (e) => e.to === 'Agency:GP'})[0].id")
        p.js("(id) => window.sgMap.show(id)", line)
        text = p.panel()
        assert f"Showing {maps.THEME_LINE_CAP} of {2 * BIG_REVIEWS}" in text
        assert "Every agency should share information about the family promptly" in text  # a shared text, put back
        check_clean(p)
    finally:
        p.close()

    p = Page(browser, pack / "maps" / "review.html", "R03")
    try:
        p.wait_ready()
        assert p.page.inner_text("#map-title") == "Review R03 (2013)"  # from the review's data file
        assert p.drawn_pixels() > 5_000
        assert p.js("() => typeof vis") == "object"  # loaded from ../assets/ over file://
        # ... and so is the style sheet: the header is laid out by map.css.
        assert p.js("() => getComputedStyle(document.querySelector('.map-header')).display") == "flex"
        check_clean(p)
        # The pack maps' policy allows script files only: injected inline script does not run.
        ran = p.js("""() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';
                             document.body.appendChild(s); return window.__inline === 1; }""")
        assert ran is False
        assert any("Content Security Policy" in e for e in p.errors)
    finally:
        p.close()


# --------------------------------------------------------------------------- where communication broke down most


def test_index_ranks_the_pairs_and_a_row_opens_the_line(browser, ranked_graph, tmp_path):  # noqa: F811
    """ranked_graph's answer: GP–CSC 3 broken links, Police–Schools 2, CSC–Police 1."""
    pack = maps.write_report(ranked_graph, tmp_path / "pack")
    p = Page(browser, pack / "index.html")
    try:
        def pairs() -> list[str]:
            return p.js("() => Array.from(document.querySelectorAll('table.breakdowns tbody td.pair')).map((td) => td.textContent)")

        assert pairs() == ["Children's Social Care – GP", "Police – Schools", "Children's Social Care – Police"]
        # Sortable: "Share of the pair's links broken" puts Police–Schools (100%) first, again reverses.
        p.page.click("table.breakdowns th:nth-child(8) button")
        assert pairs()[0] == "Police – Schools"
        p.page.click("table.breakdowns th:nth-child(8) button")
        assert pairs()[0] == "Children's Social Care – Police"  # 33%
        p.page.click("table.breakdowns th:nth-child(4) button")
        assert pairs()[0] == "Children's Social Care – GP"
        check_clean(p)
        # Choosing a row (anywhere but a link) opens the agency map on that line, with its evidence.
        p.page.click("table.breakdowns tbody tr:first-child td:nth-child(4)")
        p.page.wait_for_url("**/maps/agencies.html#a=*")
        p.wait_ready()
        text = p.panel()
        assert "Children's Social Care \u2014 GP" in text
        assert "The GP did not share the bruising with CSC." in text and "CSC did not tell the GP of the plan." in text
        assert "Who did not tell whom" in text and "GP \u2192 Children's Social Care: 2" in text
        assert "2016: 1; 2019: 2" in text  # broken links per year
        line = p.page.get_attribute("#panel-body", "data-selected")
        assert p.js("() => window.sgMap.network.getSelectedEdges()") == [line]
        # The rest fades: Police and Schools are not part of the line.
        opacity = p.js("() => Object.fromEntries(window.sgMap.nodes.get().map((n) => [n.id, n.opacity]))")
        assert opacity["Agency:GP"] == opacity["Agency:Children's Social Care"] == 1
        assert opacity["Agency:Police"] < 0.5 and opacity["Agency:Schools"] < 0.5
        check_clean(p)
    finally:
        p.close()


def test_matrix_cell_opens_its_evidence(browser, ranked_graph, tmp_path):  # noqa: F811
    pack = maps.write_report(ranked_graph, tmp_path / "pack")
    p = Page(browser, pack / "index.html")
    try:
        cell = "table.matrix a[title=\"Schools \u2192 Police: 1 broken link\"]"
        assert p.page.inner_text(cell) == "1"
        p.page.click(cell)
        p.page.wait_for_url("**/maps/agencies.html#a=*")
        p.wait_ready()
        text = p.panel()
        assert "Police \u2014 Schools" in text
        assert "The school did not tell the police." in text and "The police did not tell the school." in text
        check_clean(p)
    finally:
        p.close()


def test_agency_map_arrows_focus_and_fit(browser, ranked_graph, tmp_path):  # noqa: F811
    with agency_map_page(browser, ranked_graph, tmp_path) as p:
        # One line per pair, with an arrowhead per direction the reviews give, as drawn by vis-network.
        heads = p.js("""() => Object.fromEntries(window.sgMap.edges.get().map((e) => {
            const o = window.sgMap.network.body.edges[e.id].options.arrows;
            return [e.from.slice(7) + '|' + e.to.slice(7), [o.from.enabled, o.to.enabled]];
        }))""")
        assert heads == {"Children's Social Care|GP": [True, True], "Children's Social Care|Police": [True, False],
                         "Police|Schools": [True, True]}
        # GP→CSC twice, CSC→GP once: the larger head at CSC (the line's "from" end).
        scale = p.js("""() => { const e = window.sgMap.edges.get({filter: (x) => x.to === 'Agency:GP'})[0];
                              return [e.arrows.from.scaleFactor, e.arrows.to.scaleFactor]; }""")
        assert scale[0] > scale[1]
        # Focus: clicking Police dims all but Police and its partners (CSC, Schools); GP fades.
        p.click_node("Agency:Police")
        opacity = p.js("() => Object.fromEntries(window.sgMap.nodes.get().map((n) => [n.id.slice(7), n.opacity]))")
        assert opacity == {"Police": 1, "Children's Social Care": 1, "Schools": 1, "GP": opacity["GP"]} and opacity["GP"] < 0.5
        faded = p.js("() => window.sgMap.edges.get().filter((e) => e.color.opacity < 0.5).map((e) => e.to.slice(7))")
        assert faded == ["GP"]
        # A click on empty canvas brings everything back.
        p.page.mouse.click(*p.js("() => { const r = document.getElementById('network').getBoundingClientRect(); return [r.left + 5, r.top + 5]; }"))
        assert p.js("() => window.sgMap.nodes.get().every((n) => n.opacity === 1)")

        # Every filter change and reset fits the view again: zoom in by a search, then filter.
        fitted = p.js("() => window.sgMap.network.getScale()")
        p.page.fill("#search", "schools")
        p.page.press("#search", "Enter")
        assert abs(p.js("() => window.sgMap.network.getScale()") - 1.2) < 1e-6
        p.page.uncheck("#flt-status input[value=effective]")
        after_filter = p.js("() => window.sgMap.network.getScale()")
        assert abs(after_filter - 1.2) > 0.01
        p.page.press("#search", "Enter")
        p.page.click("#reset")
        assert abs(p.js("() => window.sgMap.network.getScale()") - fitted) < 1e-3
        # Every agency in view after the reset.
        inside = p.js("""() => { const net = window.sgMap.network, r = document.getElementById('network').getBoundingClientRect();
            return window.sgMap.nodes.getIds().every((id) => { const b = net.getBoundingBox(id);
                const a = net.canvasToDOM({x: b.left, y: b.top}), z = net.canvasToDOM({x: b.right, y: b.bottom});
                return a.x >= 0 && a.y >= 0 && z.x <= r.width && z.y <= r.height; }); }""")
        assert inside
        check_clean(p)


def test_agency_map_year_range_and_trend(browser, tmp_path):
    """The year filter is a range (from-to); the side panel draws the broken links per year of
    the agency or pair in focus. big_records: review Ri is of year 2010 + i % 5 with BIG_LINKS
    broken GP→CSC links; R03 (2013) alone also has an effective Police→Schools link."""
    from test_maps import BIG_LINKS, BIG_REVIEWS, big_records

    from graph_model.build import build_graph

    g = build_graph(big_records())
    per_year = {y: BIG_LINKS * sum(1 for i in range(BIG_REVIEWS) if 2010 + i % 5 == y) for y in range(2010, 2015)}
    with agency_map_page(browser, g, tmp_path) as p:
        fitted = p.js("() => window.sgMap.network.getScale()")
        # A range: 2013 onwards keeps the Police–Schools line (R03, 2013); to 2012 drops it.
        p.page.select_option("#flt-year-from", "2013")
        assert p.visible_edges() == 2
        p.page.select_option("#flt-year-from", "")
        p.page.select_option("#flt-year-to", "2012")
        assert p.visible_edges() == 1
        # A "from" after the "to" moves the "to" along.
        p.page.select_option("#flt-year-from", "2014")
        assert p.page.input_value("#flt-year-to") == "2014" and p.visible_edges() == 1
        p.page.select_option("#flt-year-from", "2011")
        p.page.select_option("#flt-year-to", "2013")
        assert p.visible_edges() == 2
        # Every change of the range fits the view again (zoomed in by a search first).
        p.page.fill("#search", "schools")
        p.page.press("#search", "Enter")
        assert abs(p.js("() => window.sgMap.network.getScale()") - 1.2) < 1e-6
        p.page.select_option("#flt-year-to", "2014")
        assert abs(p.js("() => window.sgMap.network.getScale()") - 1.2) > 0.01
        p.page.click("#reset")
        assert p.page.input_value("#flt-year-from") == "" and p.page.input_value("#flt-year-to") == ""
        assert abs(p.js("() => window.sgMap.network.getScale()") - fitted) < 1e-3

        # The trend of the pair in focus: bars for 2010-2014, as the reviews' years give.
        gp = p.js("() => window.sgMap.edges.get({filter: (e) => e.to === 'Agency:GP' || e.from === 'Agency:GP'})[0].id")
        p.js("(id) => window.sgMap.openLine(id)", gp)
        want = ", ".join(f"{y}: {per_year[y]}" for y in range(2010, 2015))
        assert p.page.get_attribute("#trend", "data-counts") == want
        bars = p.js("() => Array.from(document.querySelectorAll('#trend rect')).map((r) => [r.getAttribute('data-year'), +r.getAttribute('data-count'), +r.getAttribute('height')])")
        assert [b[:2] for b in bars] == [[str(y), per_year[y]] for y in range(2010, 2015)]
        top = max(per_year.values())
        assert all((b[2] == 42) == (b[1] == top) for b in bars)  # the tallest bar is the year with most
        # The years outside the chosen range go pale; the counts stay.
        p.page.select_option("#flt-year-from", "2012")
        fills = p.js("() => Array.from(document.querySelectorAll('#trend rect')).map((r) => r.getAttribute('fill'))")
        assert fills[:2] == ["#e8b4b4"] * 2 and fills[2:] == ["#d62728"] * 3
        assert p.page.get_attribute("#trend", "data-counts") == want
        # An agency in focus: CSC has the GP's broken links; Schools only R03's effective one.
        p.page.click("#reset")
        p.click_node("Agency:Children's Social Care")
        assert p.page.get_attribute("#trend", "data-counts") == want
        p.click_node("Agency:Schools")
        assert p.page.get_attribute("#trend", "data-counts") == "2010: 0, 2011: 0, 2012: 0, 2013: 0, 2014: 0"
        assert "Broken links per year" in p.panel() and "No broken links in the reviews the filters keep." in p.panel()
        check_clean(p)


def test_agency_trend_adds_up_a_known_answer(browser, ranked_graph, tmp_path):  # noqa: F811
    """ranked_graph: GP–CSC broken 2016: 1, 2019: 2; CSC–Police broken 2019: 1. CSC in focus: 2016: 1, 2019: 3."""
    with agency_map_page(browser, ranked_graph, tmp_path) as p:
        p.click_node("Agency:Children's Social Care")
        assert p.page.get_attribute("#trend", "data-counts") == "2016: 1, 2017: 0, 2018: 0, 2019: 3"
        assert "4 in all; most in 2019 (3)" in p.panel()
        line = p.js("() => window.sgMap.edges.get({filter: (e) => e.to === 'Agency:GP'})[0].id")
        p.js("(id) => window.sgMap.openLine(id)", line)
        assert p.page.get_attribute("#trend", "data-counts") == "2016: 1, 2017: 0, 2018: 0, 2019: 2"
        # Only the review filter's choice counts: B2 (2019) alone.
        p.page.select_option("#flt-review", "B2")
        assert p.page.get_attribute("#trend", "data-counts") == "2016: 0, 2017: 0, 2018: 0, 2019: 2"
        check_clean(p)


@pytest.fixture(scope="module")
def synth300_graph(tmp_path_factory):
    """The 300-review synthetic corpus's agencies and links, from its ground truth (not extracted:
    the agency map depends on which agencies and links there are, not on the documents' words)."""
    from test_maps import record

    from graph_model.build import build_graph
    from graph_model.synth import generate_corpus

    out = tmp_path_factory.mktemp("synth300") / "corpus"
    truth = generate_corpus(out, n_reviews=300, formats=("txt",))
    records = []
    for rid, r in sorted(truth.reviews.items()):
        links = tuple((x["source"], x["target"], x["status"], f"{x['source']} and {x['target']} ({x['status']}).")
                      for x in r["links"])
        records.append(record(rid, year=r["year"], agencies=tuple(r["agencies"]), links=links))
    return build_graph(records)


def test_agency_labels_readable_at_300_reviews(browser, synth300_graph, tmp_path):
    with agency_map_page(browser, synth300_graph, tmp_path) as p:
        n = p.js("() => window.sgMap.nodes.length")
        assert n >= 20  # the synthetic corpus names 21 agencies
        px = p.js("""() => { const net = window.sgMap.network, s = net.getScale();
            return window.sgMap.nodes.getIds().map((id) => net.body.nodes[id].options.font.size * s); }""")
        assert min(px) >= maps.MIN_LABEL_PX, sorted(px)[:3]
        # ... and still after a filter change fits the view again.
        p.page.select_option("#flt-min", "1")
        px = p.js("""() => { const net = window.sgMap.network, s = net.getScale();
            return window.sgMap.nodes.getIds().map((id) => net.body.nodes[id].options.font.size * s); }""")
        assert min(px) >= maps.MIN_LABEL_PX
        # The heaviest lines carry their counts.
        labels = p.js("() => window.sgMap.edges.get({filter: (e) => !e.hidden && e.label}).map((e) => e.label)")
        assert len(labels) == maps.COUNTED_LINES and all(lab.endswith(" broken") for lab in labels)
        check_clean(p)
