"""The board pack's size, file count and writing time for a stored graph (BENCHMARKS.md).

    python benchmarks/board_pack.py --home /tmp/h300 --out /tmp/pack300

Loads the workspace's graph once (not timed), then times ``maps.write_report`` alone: wall
time, and the CPU time of this process and of the worker processes it started
(``--workers N`` passes ``workers=N``; by default the pack chooses).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="The workspace whose graph to write the pack of.")
    ap.add_argument("--out", required=True, help="Where to write the pack (replaced if it is a pack).")
    ap.add_argument("--workers", type=int, default=None, help="Worker processes for the review files (0: none).")
    args = ap.parse_args()

    from graph_model import maps, pipeline

    t0 = time.perf_counter()
    graph = pipeline.stored_graph(Path(args.home))
    loaded = time.perf_counter() - t0
    kw = {} if args.workers is None else {"workers": args.workers}
    load0 = os.getloadavg()[0]
    t1, c1, k1 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = maps.write_report(graph, args.out, force=True, **kw)
    except TypeError:  # code from before the workers parameter
        out = maps.write_report(graph, args.out, force=True)
    wrote, cpu, k2 = time.perf_counter() - t1, time.process_time() - c1, resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (k2.ru_utime + k2.ru_stime) - (k1.ru_utime + k1.ru_stime)
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    by_dir: dict[str, int] = {}
    for p in files:
        top = p.relative_to(out).parts[0] if len(p.relative_to(out).parts) > 1 else "."
        by_dir[top] = by_dir.get(top, 0) + p.stat().st_size
    print(json.dumps({"reviews": sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "Review"),
                      "load_s": round(loaded, 1), "write_s": round(wrote, 1),
                      "cpu_main_s": round(cpu, 1), "cpu_workers_s": round(workers_cpu, 1),
                      "peak_rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "peak_rss_worker_mb": k2.ru_maxrss // 1024, "bytes": size, "mb": round(size / 1e6, 1),
                      "files": len(files), "by_folder_mb": {k: round(v / 1e6, 1) for k, v in sorted(by_dir.items())},
                      "loadavg_before_after": [round(load0, 1), round(os.getloadavg()[0], 1)]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
