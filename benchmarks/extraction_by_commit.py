"""Extraction throughput (read + extract, MB of text per CPU second) of several commits.

Each commit's ``graph_model`` is exported with ``git archive`` into a temporary folder and
measured in a fresh process on the same corpus, the way ``benchmarks/run.py`` measures
extraction (``time.process_time`` around ``read_document`` and ``extract``). Each commit
is measured ``--runs`` times, round-robin so that a change in the machine's load hits
every commit alike, and the best run is kept.

    python benchmarks/extraction_by_commit.py 6755385 HEAD --corpus /tmp/sgraph-bench/corpus-200-seed0

The corpus is made by ``sgraph synth DIR --reviews 200 --seed 0`` (or by ``benchmarks/run.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from graph_model.extract import extract
from graph_model.read import read_document
from graph_model.taxonomy import load_taxonomy

tax = load_taxonomy()
per = {}
for f in sorted(p for p in Path(sys.argv[2]).iterdir() if p.suffix in (".txt", ".docx", ".pdf")):
    c0 = time.process_time(); doc = read_document(f); c1 = time.process_time(); extract(doc, tax); c2 = time.process_time()
    s = per.setdefault(f.suffix[1:], [0.0, 0.0, 0.0])
    s[0] += len(doc.text.encode("utf-8")) / 1e6; s[1] += c1 - c0; s[2] += c2 - c1
mb, read, ext = (sum(v[i] for v in per.values()) for i in range(3))
print(json.dumps({"mb_per_cpu_s": round(mb / (read + ext), 3), "extract_only": round(mb / ext, 3),
                  "read_share": round(read / (read + ext), 3), "cpu_s": round(read + ext, 2),
                  "by_format": {k: round(v[0] / (v[1] + v[2]), 3) for k, v in sorted(per.items())}}))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("commits", nargs="+", help="commits to measure, in the order to report them")
    ap.add_argument("--corpus", required=True, help="folder of documents (a synthetic corpus)")
    ap.add_argument("--runs", type=int, default=2, help="runs per commit; the best is kept (default 2)")
    args = ap.parse_args(argv)
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="sgraph-commits-") as tmp:
        roots = {}
        for commit in args.commits:
            root = Path(tmp) / commit.replace("/", "_")
            root.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "graph_model"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
            roots[commit] = root
        for run in range(args.runs):
            for commit, root in roots.items():
                load = os.getloadavg()[0]
                out = subprocess.run([sys.executable, "-c", _CHILD, str(root), args.corpus],
                                     check=True, capture_output=True, text=True).stdout
                fig = {**json.loads(out.strip().splitlines()[-1]), "load": round(load, 2), "run": run + 1}
                print(commit, json.dumps(fig), flush=True)
                if commit not in best or fig["mb_per_cpu_s"] > best[commit]["mb_per_cpu_s"]:
                    best[commit] = fig
    print("\nbest of", args.runs)
    for commit in args.commits:
        print(commit, json.dumps(best[commit]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
