"""Agency export at scale: time, size and page estimate of the digest, and the appendix's count.

    python benchmarks/export_digest.py --home /tmp/h2000 --agency Police [--old /tmp/base-checkout]

Runs ``python -m graph_model export agency AGENCY`` once per format (wall clock of the whole
command, as a user waits for it) in this checkout, and with ``--old`` in another checkout
(the code before the digest, which wrote one file of every item), one after the other. Prints
a JSON report: seconds per format, the Markdown digest's words, the .docx digest's estimated
pages, the number of items in the appendix CSV and in the old export's CSV.

The page estimate (there is no Word here): every table row is as tall as its tallest cell,
a cell paragraph of n characters takes ceil(n / (5 x cell width in cm)) lines (10 pt Calibri
sets about 5.3 characters per cm; 5 leaves room for cell margins), a paragraph outside tables
takes ceil(n / 80) lines plus one for its spacing, a heading 3 lines; a page holds 45 lines
(Letter or A4 with 2.54 cm margins holds about 50 lines of 10 pt text at Word's default line
spacing; 45 allows for the space between paragraphs and the cell padding).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINES_PER_PAGE = 45
CHARS_PER_CM = 5.0
CHARS_PER_LINE = 80


def estimate_docx_pages(path: Path) -> dict:
    import docx

    document = docx.Document(str(path))
    lines = 0
    words = 0
    for p in document.paragraphs:
        words += len(p.text.split())
        if p.style.name.startswith(("Heading", "Title")):
            lines += 3
        else:
            lines += math.ceil(len(p.text) / CHARS_PER_LINE) + 1
    rows = 0
    for table in document.tables:
        for row in table.rows:
            rows += 1
            tallest = 1
            for cell in row.cells:
                width = (cell.width.cm if cell.width else 16.0) or 16.0
                per_line = max(1, int(CHARS_PER_CM * width))
                n = sum(max(1, math.ceil(len(p.text) / per_line)) for p in cell.paragraphs)
                words += sum(len(p.text.split()) for p in cell.paragraphs)
                tallest = max(tallest, n)
            lines += tallest
    return {"pages": math.ceil(lines / LINES_PER_PAGE), "lines": lines, "table_rows": rows, "words": words}


def _run(checkout: Path, args: list[str]) -> dict:
    """Wall clock and CPU (user + system) seconds of one command. On a busy machine the CPU
    time is the steadier figure: wall clock includes the time spent waiting for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "graph_model", *args], cwd=checkout, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {' '.join(args)} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": round(took, 2), "cpu": round(cpu, 2), "max_rss_mb": round(after.ru_maxrss / 1024)}


def _csv_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--agency", default="Police")
    ap.add_argument("--old", help="a checkout of the code before the digest")
    ap.add_argument("--formats", default="md,html,csv,json,docx")
    a = ap.parse_args()
    here = Path(__file__).resolve().parent.parent
    report: dict = {"agency": a.agency, "new": {}, "old": {}}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for fmt in a.formats.split(","):
            report["new"][fmt] = _run(here, ["export", "agency", a.agency, "--format", fmt, "--out", str(out / f"new.{fmt}"), "--home", a.home])
            print(f"new {fmt}: {report['new'][fmt]}", file=sys.stderr, flush=True)
            if a.old:
                report["old"][fmt] = _run(Path(a.old), ["export", "agency", a.agency, "--format", fmt, "--out", str(out / f"old.{fmt}"), "--home", a.home])
                print(f"old {fmt}: {report['old'][fmt]}", file=sys.stderr, flush=True)
        sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
        report["bytes"] = sizes
        if (out / "new.md").exists():
            report["digest_md_words"] = len((out / "new.md").read_text(encoding="utf-8").split())
            report["appendix_md_words"] = len((out / "new.appendix.md").read_text(encoding="utf-8").split())
        if (out / "old.md").exists():
            report["old_md_words"] = len((out / "old.md").read_text(encoding="utf-8").split())
        if (out / "new.docx").exists():
            report["digest_docx"] = estimate_docx_pages(out / "new.docx")
        if (out / "new.appendix.csv").exists():
            report["appendix_csv_items"] = _csv_rows(out / "new.appendix.csv")
        if (out / "old.csv").exists():
            report["old_csv_items"] = _csv_rows(out / "old.csv")
        if (out / "new.json").exists():
            data = json.loads((out / "new.json").read_text(encoding="utf-8"))
            report["json_items"] = data["summary"]["items"]
            report["digest_rows"] = {
                k: (len(v) if isinstance(v, list) else v) for k, v in data["digest"].items()
            }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
