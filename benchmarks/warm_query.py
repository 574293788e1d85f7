"""A query from the command line, cold and on a warm server; and start-up (issue 20 item 3).

    python benchmarks/warm_query.py HOME [--code CHECKOUT] [--repeat 10] [--query breakdown-agencies]

HOME is a built workspace. Each figure is the wall time of a fresh ``python -m
graph_model ...`` process run from CHECKOUT (default: this one; give an older checkout to
measure old code the same way), the minimum and median of the runs, with the CPU time of
that process (user + system; not the embedded engine's server, which is not its child).

* ``--help`` and ``query list`` (piped, as a script would read them): ``--repeat`` runs;
* ``query run QUERY --embedded`` with a private server (``--cold`` where the checkout has
  it): a third of ``--repeat`` runs, at least 3;
* where the checkout has a warm server: ``query serve`` (it loads the store once), then
  ``--repeat`` runs of the same ``query run``, answered by it, then ``query stop``.

The load average is printed before and after: on a shared machine the figures are only
comparable between runs made one after the other. The figures are printed as JSON.
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


def run(code: Path, argv: list[str], timeout: float = 3600) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and stdout of one ``python -m graph_model ARGV`` from ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "graph_model", *argv], cwd=code, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(code)},
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run.stderr = done.stderr  # type: ignore[attr-defined]
    return wall, cpu, done.stdout


def resident_mb(pid: int) -> dict:
    """Resident memory (MB) of process ``pid`` and of its children (the warm server's engine)."""
    def rss(p: int) -> float:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return {"keeper": round(rss(pid)), "children": [round(rss(c)) for c in children]}


def repeated(code: Path, argv: list[str], n: int) -> dict:
    walls, cpus, outs = [], [], set()
    for _ in range(n):
        w, c, out = run(code, argv)
        walls.append(w)
        cpus.append(c)
        outs.add(out)
    return {"wall_min": round(min(walls), 3), "wall_median": round(statistics.median(walls), 3),
            "cpu_min": round(min(cpus), 3), "cpu_median": round(statistics.median(cpus), 3), "runs": n,
            "same_output": len(outs) == 1, "_output": outs.pop()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("home", type=Path)
    ap.add_argument("--code", type=Path, default=ROOT)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--query", default="breakdown-agencies")
    args = ap.parse_args()
    code, home = args.code.resolve(), str(args.home)
    has_warm = (code / "graph_model" / "warm.py").exists()
    query = ["query", "run", args.query, "--embedded", "--home", home, "--format", "csv"]
    out: dict = {"code": str(code), "load_before": [round(x, 2) for x in os.getloadavg()]}
    out["help"] = repeated(code, ["--help"], args.repeat)
    out["query_list"] = repeated(code, ["query", "list"], args.repeat)
    out["query_run_cold"] = repeated(code, [*query, *(["--cold"] if has_warm else [])], max(3, args.repeat // 3))
    if has_warm:
        wall, cpu, _ = run(code, ["query", "serve", "--home", home, "--idle", "600"])
        out["query_serve"] = {"wall": round(wall, 3), "cpu": round(cpu, 3)}
        found = re.search(r"\(pid (\d+)", run.stderr)  # type: ignore[attr-defined]
        if found:
            out["warm_server_resident_mb"] = resident_mb(int(found.group(1)))
        try:
            out["query_run_warm"] = repeated(code, query, args.repeat)
        finally:
            run(code, ["query", "stop", "--home", home])
        out["warm_rows_equal_cold_rows"] = out["query_run_warm"]["_output"] == out["query_run_cold"]["_output"]
    for figures in out.values():
        if isinstance(figures, dict):
            figures.pop("_output", None)
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
