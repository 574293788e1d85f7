#!/usr/bin/env python3
"""Screenshot the maps built from the seed documents (for the README and for eyeballing).

    python scripts/screenshot_maps.py                 # visualisations/screenshots/agency-map.png
    python scripts/screenshot_maps.py --all           # also theme-map.png and review-map.png
    python scripts/screenshot_maps.py --home .sgraph  # the graph 'sgraph build' stored instead

Opens each map in headless Chromium (/usr/bin/chromium, or --chromium PATH) with every
network request blocked, waits until the layout has settled, selects the broken link with
the most evidence so the side panel shows its quotes, and saves a PNG.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_model import maps  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

SELECT_BUSIEST_BROKEN_LINE = """() => {
    const lines = window.sgMap.edges.get({filter: (e) => e.f && e.f.status && e.f.status[0] === 'broken'});
    lines.sort((a, b) => (b.subn ? b.subn.reduce((x, y) => x + y, 0) : 1) - (a.subn ? a.subn.reduce((x, y) => x + y, 0) : 1) || (a.id < b.id ? -1 : 1));
    if (!lines.length) return null;
    window.sgMap.network.selectEdges([lines[0].id]);
    window.sgMap.show(lines[0].id);
    return lines[0].id;
}"""


def seed_graph(home: str | None):
    from graph_model.build import build_graph
    from graph_model.pipeline import extract_files, stored_graph

    if home:
        return stored_graph(home)
    return build_graph(extract_files([ROOT / "seeds"], jobs=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", help="Use the graph stored in this workspace instead of extracting seeds/.")
    ap.add_argument("--out", default=str(ROOT / "visualisations" / "screenshots"), help="Folder for the PNGs.")
    ap.add_argument("--all", action="store_true", help="Also the theme map and the map of review 'Child X'.")
    ap.add_argument("--review", default="Child X", help="The review for review-map.png (with --all).")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="The Chromium executable.")
    ap.add_argument("--width", type=int, default=1500)
    ap.add_argument("--height", type=int, default=950)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    g = seed_graph(args.home)
    pages = {"agency-map.png": maps.agency_map_html(g)}
    if args.all:
        pages["theme-map.png"] = maps.theme_map_html(g)
        pages["review-map.png"] = maps.review_map_html(g, args.review)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS, headless=True)
        for name, html_text in pages.items():
            path = Path(tmp) / (name[:-4] + ".html")
            path.write_text(html_text, encoding="utf-8")
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else (blocked.append(r.request.url), r.abort()))
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            page.evaluate(SELECT_BUSIEST_BROKEN_LINE)
            page.wait_for_timeout(200)
            page.screenshot(path=str(out / name))
            page.close()
            print(f"{out / name} ({len(html_text.encode('utf-8')):,}-byte map)")
        browser.close()
    if blocked:
        print(f"warning: the page tried to load {len(blocked)} remote resource(s): {blocked[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
