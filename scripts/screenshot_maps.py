#!/usr/bin/env python3
"""Screenshot the board pack built from the seed documents (for the README and for eyeballing).

    python scripts/screenshot_maps.py                 # index-breakdowns, matrix, agency-map, review-page
    python scripts/screenshot_maps.py --all           # also theme-map.png and review-map.png
    python scripts/screenshot_maps.py --home .sgraph  # the graph 'sgraph build' stored instead
    python scripts/screenshot_maps.py --pack board-pack --out /tmp/shots  # a pack written before
    python scripts/screenshot_maps.py --only review-page.png        # just these PNGs

Writes the board pack to a temporary folder, opens its pages in headless Chromium
(/usr/bin/chromium, or --chromium PATH) with every network request blocked, waits until each
map has settled, opens the pair with most broken links on the agency map so the side panel
shows its evidence, and saves PNGs into visualisations/screenshots/.
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

OPEN_WORST_PAIR = """() => {
    const first = document.querySelector('#panel ol.ranking button.pair');
    if (first) first.click();
    return first ? first.getAttribute('data-line') : null;
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
    ap.add_argument("--pack", help="Screenshot this board pack (sgraph report --out DIR) instead of writing one.")
    ap.add_argument("--out", default=str(ROOT / "visualisations" / "screenshots"), help="Folder for the PNGs.")
    ap.add_argument("--all", action="store_true", help="Also the theme map and the map of the review (--review).")
    ap.add_argument("--review", default="Child X", help="The review for review-page.png and review-map.png.")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="The Chromium executable.")
    ap.add_argument("--only", help="Comma-separated PNG names to take (of those above); the rest are left as they are.")
    ap.add_argument("--width", type=int, default=1500)
    ap.add_argument("--height", type=int, default=950)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        if args.pack:
            pack = Path(args.pack)
            slugs = sorted(p.stem for p in (pack / "reviews" / "data").glob("*.js"))
            slug = args.review if args.review in slugs else slugs[0]
        else:
            g = seed_graph(args.home)
            pack = maps.write_report(g, Path(tmp) / "pack")
            index = maps._Index(g)
            rid = args.review if args.review in index.review_slug else index.review_ids[0]
            slug = index.review_slug[rid]
        shots = [  # (PNG, page, what to do first, element to capture or None for the window)
            ("index-breakdowns.png", "index.html", None, None),
            ("matrix.png", "index.html", None, "table.matrix"),
            ("agency-map.png", "maps/agencies.html", OPEN_WORST_PAIR, None),
            ("review-page.png", f"reviews/review.html#{slug}", None, None),
        ]
        if args.all:
            shots += [("theme-map.png", "maps/themes.html", None, None),
                      ("review-map.png", f"maps/review.html#{slug}", None, None)]
        if args.only:
            wanted = set(args.only.split(","))
            shots = [s for s in shots if s[0] in wanted]
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS, headless=True)
        for name, rel, action, element in shots:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else (blocked.append(r.request.url), r.abort()))
            path, _hash, fragment = rel.partition("#")
            page.goto((pack / path).resolve().as_uri() + (f"#{fragment}" if fragment else ""))
            if rel.startswith("reviews/review.html"):
                page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            if rel.startswith("maps/"):
                page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            if action:
                page.evaluate(action)
            page.wait_for_timeout(300)
            if element:
                page.locator(element).screenshot(path=str(out / name))
            else:
                page.screenshot(path=str(out / name))
            page.close()
            print(out / name)
        browser.close()
    if blocked:
        print(f"warning: the page tried to load {len(blocked)} remote resource(s): {blocked[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
