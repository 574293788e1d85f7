"""The board pack's size, file count and writing time for a stored graph (BENCHMARKS.md).

    python benchmarks/board_pack.py --home /tmp/h300 --out /tmp/pack300

Loads the workspace's graph once (not timed), then times ``maps.write_report`` alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="The workspace whose graph to write the pack of.")
    ap.add_argument("--out", required=True, help="Where to write the pack (replaced if it is a pack).")
    args = ap.parse_args()

    from graph_model import maps, pipeline

    t0 = time.perf_counter()
    graph = pipeline.stored_graph(Path(args.home))
    loaded = time.perf_counter() - t0
    t1 = time.perf_counter()
    out = maps.write_report(graph, args.out, force=True)
    wrote = time.perf_counter() - t1
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    by_dir: dict[str, int] = {}
    for p in files:
        top = p.relative_to(out).parts[0] if len(p.relative_to(out).parts) > 1 else "."
        by_dir[top] = by_dir.get(top, 0) + p.stat().st_size
    print(json.dumps({"reviews": sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "Review"),
                      "load_s": round(loaded, 1), "write_s": round(wrote, 1), "bytes": size, "mb": round(size / 1e6, 1),
                      "files": len(files), "by_folder_mb": {k: round(v / 1e6, 1) for k, v in sorted(by_dir.items())},
                      "loadavg": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
