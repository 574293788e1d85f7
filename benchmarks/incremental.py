"""What an analyst waits for (issue 20): start-up, stats, query run, adding one review.

    python benchmarks/incremental.py CORPUS HOME [--repeat 10] [--skip-build]

CORPUS is a folder of documents already built into HOME (``sgraph build CORPUS --home
HOME``). Each figure is the wall time of a fresh ``python -m graph_model ...`` process run
from this checkout (the minimum and median of ``--repeat`` runs for the quick commands),
with its CPU time (user + system, children included). Then one review is added to CORPUS
(a copy of its last .txt document under a new review code), CORPUS is built again into
HOME, the copy is removed and HOME built again: the two incremental builds' wall times and
the largest resident set of each (GNU time). The figures are printed as JSON.

Run it for old and new code one after the other on the same machine (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str], timeout: float = 7200) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (children), stderr of one ``python -m graph_model ARGV``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "graph_model", *argv], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr


def repeated(argv: list[str], n: int) -> dict:
    walls, cpus = [], []
    for _ in range(n):
        w, c, _err = run(argv)
        walls.append(w)
        cpus.append(c)
    return {"wall_min": round(min(walls), 3), "wall_median": round(statistics.median(walls), 3),
            "cpu_min": round(min(cpus), 3), "runs": n}


def timed_build(corpus: Path, home: Path) -> dict:
    gnu_time = "/usr/bin/time"
    argv = [sys.executable, "-m", "graph_model", "build", str(corpus), "--home", str(home), "-q"]
    started = time.perf_counter()
    if os.path.exists(gnu_time):
        done = subprocess.run([gnu_time, "-f", "maxrss %M", *argv], cwd=ROOT, capture_output=True, text=True)
    else:  # pragma: no cover
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"build failed: {done.stderr.strip()}")
    rss = re.search(r"maxrss (\d+)", done.stderr)
    said = [line for line in done.stderr.splitlines() if "maxrss" not in line]
    return {"wall": round(wall, 1), "max_rss_mb": round(int(rss.group(1)) / 1024) if rss else None, "said": said}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("home", type=Path)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--skip-build", action="store_true")
    args = ap.parse_args()
    out: dict = {}
    out["help"] = repeated(["--help"], args.repeat)
    out["query_list"] = repeated(["query", "list"], args.repeat)
    out["stats"] = repeated(["stats", "--home", str(args.home)], max(1, args.repeat // 5))
    for q in ("breakdown-agencies", "broken-links-by-agency-pair"):
        out[f"query_run_{q}"] = repeated(["query", "run", q, "--embedded", "--home", str(args.home)], max(1, args.repeat // 5))
    if not args.skip_build:
        last = sorted(args.corpus.glob("*.txt"))[-1]
        text = last.read_text(encoding="utf-8")
        code = re.search(r"\b([A-Z]+)(\d{4})\b", text.splitlines()[0])
        new_code = f"{code.group(1)}9{code.group(2)[1:]}" if code else "NEW9999"
        added = args.corpus / f"{new_code}.txt"
        added.write_text(text.replace(code.group(0), new_code) if code else text, encoding="utf-8")
        try:
            out["build_add_one"] = timed_build(args.corpus, args.home)
        finally:
            added.unlink()
        out["build_remove_it"] = timed_build(args.corpus, args.home)
    sizes = {p.name: p.stat().st_size for p in args.home.iterdir() if p.is_file()}
    cache = args.home / "cache"
    sizes["cache/"] = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) if cache.is_dir() else 0
    out["workspace_bytes"] = sizes
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
