"""Benchmarks of safeguarding-graph on a synthetic national corpus.

Generates a deterministic corpus (graph_model.synth), then measures and prints:

- extraction throughput, single process: MB of text per CPU second (per core), documents/s;
- ``pipeline.build`` wall time and peak memory for 200 and N reviews, jobs=1 and jobs=2
  (each build runs in a fresh subprocess; peak memory = max RSS of the main process and
  of its largest worker);
- embedded store load time (if graph_model.embedded exists);
- Neo4j load rate in elements/s (if NEO4J_URI is set and graph_model.neo4j_store exists);
- median latency of every shipped Cypher query (graph_model.queries) in the embedded
  store and in Neo4j;
- agency map size and time to a settled picture in headless Chromium (if graph_model.maps
  exists and Playwright can start /usr/bin/chromium);
- extraction accuracy against the generator's ground truth (agencies and links), and
  precision and recall of similarity linking (SIMILAR_TO, recurring lessons) against its
  lesson families, with the time similarity takes.

Every section prints "skipped: <reason>" when it cannot run, so the script never rots.
Figures are written to benchmarks/results.json.

    python benchmarks/run.py              # 200 and 2,000 reviews
    python benchmarks/run.py --small      # 50 reviews, for CI (a couple of minutes)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = {
    "extraction_mb_per_s_per_core": (">=", 10.0),
    "build_seconds_2000": ("<", 60.0),
    "build_peak_mb": ("<", 2048.0),
    "neo4j_elements_per_s": (">=", 25_000.0),
    "query_median_ms": ("<", 50.0),
    "agency_map_mb": ("<", 2.0),
    "agency_map_settled_s": ("<", 3.0),
}


def say(text: str = "") -> None:
    print(text, flush=True)


def skipped(results: dict, section: str, reason: str) -> None:
    results[section] = {"skipped": reason}
    say(f"  skipped: {reason}")


def code_version() -> dict:
    """The commit and the state of the files measured (the tree may hold uncommitted work)."""
    import hashlib

    out: dict = {}
    try:
        out["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                       cwd=ROOT, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "graph_model"], capture_output=True,
                               text=True, cwd=ROOT, timeout=10).stdout.split("\n")
        out["uncommitted"] = sorted(line[3:] for line in dirty if line.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    for name in ("read.py", "extract.py", "taxonomy.py", "build.py", "pipeline.py"):
        f = ROOT / "graph_model" / name
        if f.exists():
            out.setdefault("sha256", {})[name] = hashlib.sha256(f.read_bytes()).hexdigest()[:12]
    return out


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "ram_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
    }


# ---------------------------------------------------------------------------------------
# Corpus


def corpus(workdir: Path, n: int, seed: int) -> tuple[Path, dict]:
    from graph_model.synth import GroundTruth, generate_corpus

    out = workdir / f"corpus-{n}-seed{seed}"
    if (out / "ground_truth.json").exists():
        truth = GroundTruth.load(out)
        if len(truth.reviews) == n:
            chars = sum(r["chars"] for r in truth.reviews.values())
            return out, {"reviews": n, "bytes": truth.total_bytes, "text_chars": chars, "seconds": None,
                         "reused": True}
        shutil.rmtree(out)
    truth = generate_corpus(out, n, seed=seed)
    chars = sum(r["chars"] for r in truth.reviews.values())
    formats: dict[str, int] = {}
    for r in truth.reviews.values():
        formats[r["format"]] = formats.get(r["format"], 0) + 1
    return out, {"reviews": n, "bytes": truth.total_bytes, "text_chars": chars, "formats": formats,
                 "seconds": round(truth.seconds, 2)}


# ---------------------------------------------------------------------------------------
# Extraction throughput (single process, in this process)


def extraction(corpus_dir: Path, limit_seconds: float = 240.0) -> dict:
    from graph_model.extract import extract
    from graph_model.read import read_document
    from graph_model.synth import GroundTruth, score
    from graph_model.taxonomy import load_taxonomy

    truth = GroundTruth.load(corpus_dir)
    tax = load_taxonomy()
    files = sorted(truth.files)
    per_fmt: dict[str, dict[str, float]] = {}
    records = []
    load0 = os.getloadavg()[0]
    wall0 = time.perf_counter()
    for f in files:
        fmt = f.suffix[1:]
        w0, c0 = time.perf_counter(), time.process_time()
        doc = read_document(f)
        c1 = time.process_time()
        rec = extract(doc, tax)
        w2, c2 = time.perf_counter(), time.process_time()
        records.append(rec)
        # Kept only to score them below: out of the cyclic collector's sight, as in a build's
        # worker, which sends each review away and freezes what it keeps (pipeline.py). Its
        # full passes over the records kept so far were a sixth of the CPU measured here.
        gc.freeze()
        s = per_fmt.setdefault(fmt, {"docs": 0, "mb": 0.0, "read_cpu": 0.0, "extract_cpu": 0.0, "wall": 0.0})
        s["docs"] += 1
        s["mb"] += len(doc.text.encode("utf-8")) / 1e6
        s["read_cpu"] += c1 - c0
        s["extract_cpu"] += c2 - c1
        s["wall"] += w2 - w0
        if time.perf_counter() - wall0 > limit_seconds:
            break
    gc.unfreeze()
    out: dict = {"docs": len(records), "by_format": {}}
    tot = {"docs": 0, "mb": 0.0, "read_cpu": 0.0, "extract_cpu": 0.0, "wall": 0.0}
    for fmt, s in sorted(per_fmt.items()):
        for k in tot:
            tot[k] += s[k]
        out["by_format"][fmt] = _throughput(s)
    out.update(_throughput(tot))
    out["accuracy"] = score(records, truth)
    out["load_1min_before_after"] = [round(load0, 2), round(os.getloadavg()[0], 2)]  # the machine is shared
    return out


def _throughput(s: dict) -> dict:
    cpu = s["read_cpu"] + s["extract_cpu"]
    return {
        "docs": s["docs"],
        "text_mb": round(s["mb"], 2),
        "cpu_s": round(cpu, 2),
        "wall_s": round(s["wall"], 2),
        "mb_per_cpu_s": round(s["mb"] / cpu, 3) if cpu else None,
        "extract_only_mb_per_cpu_s": round(s["mb"] / s["extract_cpu"], 3) if s["extract_cpu"] else None,
        "read_share": round(s["read_cpu"] / cpu, 3) if cpu else None,
        "docs_per_s": round(s["docs"] / s["wall"], 2) if s["wall"] else None,
    }


# ---------------------------------------------------------------------------------------
# pipeline.build in a fresh subprocess


def _build_child(corpus_dir: str, home: str, jobs: int) -> None:
    """Run in a subprocess: build, then print one JSON line of figures."""
    from graph_model import pipeline
    from graph_model.synth import GroundTruth, score

    files = [str(p) for p in sorted(GroundTruth.load(corpus_dir).files)]
    w0, c0 = time.perf_counter(), time.process_time()
    result = pipeline.build(files, home=home, jobs=jobs, embedded=False)
    wall = time.perf_counter() - w0
    cpu = time.process_time() - c0
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_mb = children.ru_maxrss / 1024
    truth = GroundTruth.load(corpus_dir)
    records = result.records
    accuracy = score(records, truth)
    print(json.dumps({
        "wall_s": round(wall, 2), "main_cpu_s": round(cpu, 2),
        # CPU seconds of the worker processes (user + system): less sensitive to other load than wall time.
        "workers_cpu_s": round(children.ru_utime + children.ru_stime, 2),
        "peak_main_mb": round(self_mb, 1), "peak_worker_mb": round(children_mb, 1),
        "nodes": result.graph.number_of_nodes(), "relationships": result.graph.number_of_edges(),
        "accuracy": accuracy,
        "similarity": _similarity(records, result.graph, truth),
    }))


def _similarity(records, graph, truth) -> dict:
    """Similarity linking (graph_model.recurring) on the built graph: its time (done again
    here, on its own, to time it alone: this includes tokenising the learning points, which
    build's workers do during extraction), the recurring lessons' time, and precision and
    recall against the generator's lesson families (synth.score_similarity)."""
    from graph_model import recurring
    from graph_model.synth import score_similarity

    points = sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "LearningPoint")
    t0 = time.perf_counter()
    pairs = recurring.add_similar_to(graph)
    t1 = time.perf_counter()
    lessons = recurring.recurring_lessons(graph)
    t2 = time.perf_counter()
    figures = score_similarity(records, graph, truth)
    return {"learning_points": points, "similar_pairs": pairs, "similarity_s": round(t1 - t0, 2),
            "recurring_lessons": len(lessons), "lessons_s": round(t2 - t1, 2),
            "threshold": recurring.SIMILARITY_THRESHOLD, "cluster_threshold": recurring.CLUSTER_THRESHOLD,
            "max_neighbours": recurring.MAX_NEIGHBOURS, **figures}


def build(corpus_dir: Path, home: Path, jobs: int, timeout: float) -> dict:
    if home.exists():
        shutil.rmtree(home)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_build", str(corpus_dir), str(home), str(jobs)]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["subprocess_wall_s"] = round(time.perf_counter() - t0, 2)
    figures["load_1min_before_after"] = [round(load0, 2), round(os.getloadavg()[0], 2)]  # the machine is shared
    figures["peak_mb"] = max(figures["peak_main_mb"], figures["peak_worker_mb"])
    figures["peak_total_mb_upper_bound"] = round(figures["peak_main_mb"] + jobs * figures["peak_worker_mb"], 1) if jobs > 1 else figures["peak_main_mb"]
    return figures


# ---------------------------------------------------------------------------------------
# Queries (graph_model.queries)


def _timed(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2),
            "max_ms": round(max(times), 2), "runs": repeat}


def params_from_graph(graph) -> dict:
    """Parameter values that exist in the benchmark graph (a review id, a link id, ...)."""
    values: dict = {"min_reviews": 2, "agency": "Health Visiting", "agency_a": "GP", "agency_b": "Health Visiting",
                    "theme": "Information sharing"}
    if graph is None:
        return values
    # The review is one with timeline events (review-timeline timed on a review without
    # any measured nothing): the first, in id order, with the median number of events among
    # the reviews that have some, so the figure stands for a typical review.
    events: dict[str, int] = {}
    for _u, _v, d in graph.edges(data=True):
        if d.get("type") == "HAS_EVENT" and d.get("review_id"):
            events[d["review_id"]] = events.get(d["review_id"], 0) + 1
    if events:
        typical = statistics.median_low(sorted(events.values()))
        values["review_id"] = min(r for r, n in events.items() if n == typical)
    else:
        for n, d in graph.nodes(data=True):
            if d.get("label") == "Review":
                values.setdefault("review_id", d.get("id") or str(n).split(":", 1)[-1])
                break
    for _u, _v, d in graph.edges(data=True):
        if d.get("type") == "COMMUNICATION" and d.get("id"):
            values.setdefault("link_id", d["id"])
            break
    return values


def query_params(query, known: dict) -> dict:
    """The parameters to time ``query`` with: its header's example values
    (``query.example_params()``: every parameter, ``limit`` included), with the ones the
    benchmark graph has a value for (a real review id, link id, ...) replaced by that value."""
    return {name: known.get(name, value) for name, value in query.example_params().items()}


def query_latency(handle, graph, repeat: int) -> dict:
    """Median latency of every query in graph_model.queries.list_queries() on ``handle``
    (an embedded or Neo4j backend), with parameters taken from the benchmark graph (else
    the query's own example)."""
    from graph_model import queries as queries_mod

    known = params_from_graph(graph)
    out: dict = {}
    for query in queries_mod.list_queries():
        params = query_params(query, known)
        try:
            rows = queries_mod.run_query(query.name, params, handle)  # warm-up
            # The 1-minute load average as each query's runs start: on the shared 2 cores the
            # Neo4j medians follow it (agency-learning 29-32 ms idle, 50-52 at load 2.5-2.8,
            # 65-68 at load 3.4-3.9 in one probe), so a figure near the line is read with it.
            load1 = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
            fig = _timed(lambda q=query.name, pr=params: queries_mod.run_query(q, pr, handle), repeat)
            fig["load_average_1m"] = load1
            fig["rows"] = len(rows)
            fig["params"] = params
            out[query.name] = fig
        except Exception as exc:  # one query failing must not stop the others
            out[query.name] = {"error": f"{type(exc).__name__}: {exc}"[:300], "params": params}
    if hasattr(os, "getloadavg"):  # the machine may be shared: say how busy it was
        out["_load_average"] = [round(x, 2) for x in os.getloadavg()]
    return out


# ---------------------------------------------------------------------------------------
# Agency map in headless Chromium


def agency_map(graph, workdir: Path, skip_browser: bool) -> dict:
    from graph_model import maps

    t0 = time.perf_counter()
    page_html = maps.agency_map_html(graph)
    out: dict = {"render_s": round(time.perf_counter() - t0, 2), "bytes": len(page_html.encode("utf-8"))}
    out["mb"] = round(out["bytes"] / 1e6, 3)
    path = workdir / "agency-map.html"
    path.write_text(page_html, encoding="utf-8")
    out["file"] = str(path)
    if skip_browser:
        out["browser"] = {"skipped": "--skip-browser"}
        return out
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        out["browser"] = {"skipped": f"{chromium} does not exist"}
        return out
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        out["browser"] = {"skipped": "playwright (python) is not installed"}
        return out
    runs = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            try:
                for _ in range(3):
                    # The map's Content-Security-Policy forbids eval, which wait_for_function
                    # needs; the benchmark's own probe is exempted, the map's scripts are not.
                    page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
                    errors: list[str] = []
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    t0 = time.perf_counter()
                    page.goto(path.as_uri(), wait_until="load", timeout=60_000)
                    page.wait_for_function(
                        "document.body && document.body.getAttribute('data-ready') === '1'",
                        polling="raf", timeout=60_000,
                    )
                    wall = time.perf_counter() - t0
                    in_page = page.evaluate("performance.now()") / 1000
                    physics = page.evaluate(
                        "window.sgMap ? window.sgMap.network.physics.options.enabled : null"
                    )
                    counts = page.evaluate(
                        "window.sgMap ? [window.sgMap.nodes.length, window.sgMap.edges.length] : null"
                    )
                    runs.append({"wall_s": round(wall, 3), "in_page_s": round(in_page, 3),
                                 "physics_on_after": physics, "nodes_edges": counts, "page_errors": errors[:3]})
                    page.close()
            finally:
                browser.close()
    except Exception as exc:
        out["browser"] = {"skipped": f"Chromium could not run the map: {type(exc).__name__}: {str(exc)[:200]}"}
        return out
    out["browser"] = {"runs": runs, "settled_s_median": round(statistics.median(r["wall_s"] for r in runs), 3)}
    return out


# ---------------------------------------------------------------------------------------
# Embedded store and Neo4j


def embedded_store(graph, workdir: Path) -> tuple[dict, object | None]:
    """Write ``graph`` as the embedded store and open it: figures, and the open backend."""
    from graph_model import embedded as emb

    target = workdir / "bench-embedded.falkordb"
    if target.exists():
        target.unlink()
    t0 = time.perf_counter()
    emb.write_store(graph, target)
    seconds = time.perf_counter() - t0
    elements = graph.number_of_nodes() + graph.number_of_edges()
    out = {"seconds": round(seconds, 2), "elements": elements, "elements_per_s": round(elements / seconds),
           "store_mb": round(target.stat().st_size / 1e6, 1)}
    handle = None
    try:
        o0 = time.perf_counter()
        handle = emb.EmbeddedBackend(target)
        out["open_s"] = round(time.perf_counter() - o0, 2)  # a query command pays this each time
    except Exception as exc:
        out["open_error"] = f"{type(exc).__name__}: {exc}"[:200]
    return out, handle


def neo4j_load(graph) -> tuple[dict, object | None]:
    if not os.environ.get("NEO4J_URI"):
        return {"skipped": "NEO4J_URI is not set"}, None
    from graph_model import neo4j_store as store

    backend = store.Neo4jBackend.from_env()
    # Empty the project's labels first, untimed: the figure is the load into an empty
    # database (deleting a previous 1.5-million-element graph takes about a minute).
    w0 = time.perf_counter()
    store.wipe_project(backend)
    wipe_s = time.perf_counter() - w0
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    t0, c0 = time.perf_counter(), time.process_time()
    summary = store.load(graph, wipe=True, backend=backend)
    seconds = time.perf_counter() - t0
    written = summary.elements_written
    return {"seconds": round(seconds, 2), "elements": written, "elements_per_s": round(written / seconds),
            "loader_reported_elements_per_s": round(summary.elements_per_second),
            "batches": summary.batches, "python_cpu_s": round(time.process_time() - c0, 2),
            "wipe_before_s": round(wipe_s, 2),
            "load_average": [round(x, 2) for x in load0] if load0 else None}, backend


# ---------------------------------------------------------------------------------------
# Verdicts


# Throughput targets are set for the national corpus: at a few dozen reviews start-up
# and warm-up dominate (a Neo4j load of 50 reviews is mostly its first transactions), so
# a figure below them says nothing. The small run (CI) reports them without a verdict.
AT_SCALE_ONLY = {"extraction_mb_per_s_per_core", "neo4j_elements_per_s", "build_seconds_2000", "build_peak_mb"}
SCALE_REVIEWS = 1000  # below this many reviews, AT_SCALE_ONLY targets are not judged


def verdicts(results: dict, big: int) -> dict:
    v: dict = {}

    def check(key: str, value, label: str) -> None:
        op, target = TARGETS[key]
        if value is None:
            v[label] = {"value": None, "target": f"{op} {target}", "verdict": "NOT MEASURED"}
            return
        if key in AT_SCALE_ONLY and big < SCALE_REVIEWS:
            v[label] = {"value": value, "target": f"{op} {target} at {SCALE_REVIEWS:,}+ reviews",
                        "verdict": f"(n/a at {big})"}
            return
        ok = value >= target if op == ">=" else value < target
        v[label] = {"value": value, "target": f"{op} {target}", "verdict": "MET" if ok else "MISSED"}

    ex = results.get("extraction", {})
    check("extraction_mb_per_s_per_core", ex.get("mb_per_cpu_s"), "extraction MB/s per core")
    builds = results.get("build", {})
    for key, fig in builds.items():
        if isinstance(fig, dict) and "wall_s" in fig and key.startswith(f"{big}-"):
            check("build_seconds_2000", fig["wall_s"], f"build {key} seconds")
            check("build_peak_mb", fig["peak_mb"], f"build {key} peak MB (largest process)")
    neo = results.get("neo4j", {})
    check("neo4j_elements_per_s", neo.get("elements_per_s"), "Neo4j load elements/s")
    for target in ("embedded", "neo4j"):
        qs = results.get(f"queries_{target}", {})
        if isinstance(qs, dict) and "skipped" not in qs:
            for name, fig in qs.items():
                if isinstance(fig, dict) and "median_ms" in fig:
                    check("query_median_ms", fig["median_ms"], f"query {name} ({target}) median ms")
    m = results.get("agency_map", {})
    check("agency_map_mb", m.get("mb"), "agency map MB")
    check("agency_map_settled_s", (m.get("browser") or {}).get("settled_s_median"), "agency map settled s")
    return v


# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviews", type=int, default=2000, help="size of the big corpus (default 2000)")
    ap.add_argument("--small", action="store_true", help="50 reviews only (CI: a couple of minutes)")
    ap.add_argument("--skip-neo4j", action="store_true")
    ap.add_argument("--skip-browser", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", default="1,2", help="worker counts for the build (default 1,2)")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "sgraph-bench"))
    ap.add_argument("--out", default=None,
                    help="results file (default benchmarks/results.json; with --small WORKDIR/results-small.json)")
    ap.add_argument("--build-timeout", type=float, default=3600)
    ap.add_argument("--only", default=None,
                    help="comma-separated sections to (re)run: extraction, build, embedded, neo4j, map; "
                         "the others keep their figures from the existing results file")
    ap.add_argument("--_build", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._build:
        _build_child(args._build[0], args._build[1], int(args._build[2]))
        return 0

    workdir = Path(args.workdir)
    if args.out is None:  # --small (CI) must not overwrite the recorded figures
        args.out = str(workdir / "results-small.json" if args.small else ROOT / "benchmarks" / "results.json")
    workdir.mkdir(parents=True, exist_ok=True)
    big = 50 if args.small else args.reviews
    sizes = sorted({big} if args.small or big <= 200 else {200, big})
    jobs_list = [int(j) for j in args.jobs.split(",") if j.strip()]
    sections = {"extraction", "build", "embedded", "neo4j", "map"}
    only = set(args.only.split(",")) if args.only else None
    if only and only - sections:
        ap.error(f"unknown section(s) for --only: {', '.join(sorted(only - sections))}")

    def want(section: str) -> bool:
        return only is None or section in only

    previous: dict = {}
    if only and Path(args.out).exists():
        previous = json.loads(Path(args.out).read_text(encoding="utf-8"))
    results: dict = {**previous}
    run_info = {"command": " ".join(["python", "benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
                     "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
                     "code": code_version(),
                     "sizes": sizes}
    if only and previous:
        # The other sections keep their figures and the machine / code they were taken on.
        results.setdefault("partial_reruns", []).append({"sections": sorted(only), **run_info})
    else:
        results.update(run_info)
    say(f"Machine: {run_info['machine']['nproc']} cores, {run_info['machine']['cpu']}, "
        f"{run_info['machine']['ram_gb']} GB RAM, Python {run_info['machine']['python']}")

    def save() -> None:
        results["verdicts"] = verdicts(results, big)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")

    # Corpora
    say("\n== Corpus (graph_model.synth)")
    corpora: dict[int, Path] = {}
    results["corpus"] = {}
    for n in sizes:
        path, fig = corpus(workdir, n, args.seed)
        corpora[n] = path
        results["corpus"][str(n)] = fig
        say(f"  {n} reviews: {fig['bytes'] / 1e6:.1f} MB on disk, {fig['text_chars'] / 1e6:.1f} M characters of text, "
            f"generated in {fig['seconds']} s" + (" (reused)" if fig.get("reused") else ""))
    save()

    # Extraction throughput, on the smaller corpus
    if want("extraction"):
        say("\n== Extraction throughput (single process)")
        try:
            ex = extraction(corpora[sizes[0]])
            results["extraction"] = ex
            say(f"  {ex['docs']} documents, {ex['text_mb']} MB of text: {ex['mb_per_cpu_s']} MB/s per core "
                f"(extract alone {ex['extract_only_mb_per_cpu_s']} MB/s; reading {ex['read_share']:.0%} of the time), "
                f"{ex['docs_per_s']} documents/s")
            for fmt, f in ex["by_format"].items():
                say(f"    {fmt}: {f['docs']} docs, {f['mb_per_cpu_s']} MB/s per core, {f['docs_per_s']} docs/s")
            acc = ex["accuracy"]
            say(f"  accuracy: agencies P={acc['agencies']['precision']} R={acc['agencies']['recall']}; "
                f"links P={acc['links']['precision']} R={acc['links']['recall']}")
        except Exception as exc:
            skipped(results, "extraction", f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        save()

        # Builds
    if want("build"):
        say("\n== pipeline.build (fresh subprocess each; embedded store excluded)")
        results["build"] = {}
        for n in sizes:
            for jobs in jobs_list:
                key = f"{n}-jobs{jobs}"
                try:
                    fig = build(corpora[n], workdir / f"home-{n}", jobs, args.build_timeout)
                    results["build"][key] = fig
                    say(f"  {n} reviews, jobs={jobs}: {fig['wall_s']} s (CPU: main {fig['main_cpu_s']} s, "
                        f"workers {fig.get('workers_cpu_s')} s), peak {fig['peak_mb']:.0f} MB "
                        f"(main {fig['peak_main_mb']:.0f} MB, largest worker {fig['peak_worker_mb']:.0f} MB); "
                        f"{fig['nodes']} nodes, {fig['relationships']} relationships")
                except Exception as exc:
                    results["build"][key] = {"skipped": f"{type(exc).__name__}: {exc}"[:300]}
                    say(f"  {key}: skipped: {exc}")
                save()
        acc = next((f["accuracy"] for k, f in results["build"].items() if k.startswith(f"{big}-") and "accuracy" in f), None)
        if acc:
            results["accuracy"] = acc
            say(f"\n== Accuracy vs ground truth ({big} reviews)")
            say(f"  agencies: precision {acc['agencies']['precision']}, recall {acc['agencies']['recall']}")
            say(f"  links:    precision {acc['links']['precision']}, recall {acc['links']['recall']}, "
                f"direction right {acc['links']['direction_right']}")
            for fmt, f in acc["links_by_format"].items():
                say(f"    links in {fmt}: precision {f['precision']}, recall {f['recall']}")
            say(f"  learning points: {acc['learning_points']}; missed opportunities: {acc['missed_opportunities']}")
        for key, f in results["build"].items():
            sim = f.get("similarity")
            if sim and key.endswith(f"-jobs{jobs_list[0]}"):
                results.setdefault("similarity", {})[key.split("-")[0]] = sim
                say(f"  similarity linking ({key.split('-')[0]} reviews, {sim['learning_points']} learning points, "
                    f"threshold {sim['threshold']}, lessons at {sim['cluster_threshold']}): "
                    f"{sim['similar_pairs']} SIMILAR_TO in {sim['similarity_s']} s done again alone (tokenising included), "
                    f"{sim['recurring_lessons']} recurring lessons in {sim['lessons_s']} s")
                say(f"    links:   precision {sim['links']['precision']}, recall {sim['links']['recall']} "
                    f"(at most {sim['max_neighbours']} per point); lessons: precision {sim['lessons']['precision']}, "
                    f"recall {sim['lessons']['recall']} ({sim['true_pairs']} same-family pairs across reviews; "
                    f"{sim['narrative_links']} links between narrative paragraphs not judged)")

    # The big graph, for the store, queries and map
    handle = None
    graph = None
    home = workdir / f"home-{big}"
    try:
        from graph_model import pipeline

        if want("embedded") or want("neo4j") or want("map"):  # only they read it
            graph = pipeline.stored_graph(home)
            say(f"\n(big graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} relationships)")
    except Exception as exc:
        say(f"\n(no big graph: {exc})")

    if want("embedded"):
        say("\n== Embedded store")
        if graph is None:
            skipped(results, "embedded", "no graph was built")
        else:
            try:
                fig, handle = embedded_store(graph, workdir)
                results["embedded"] = fig
                say(f"  load: {fig['seconds']} s for {fig['elements']} elements "
                    f"({fig['elements_per_s']}/s), {fig['store_mb']} MB")
            except Exception as exc:
                skipped(results, "embedded", f"{type(exc).__name__}: {exc}"[:300])
        say("\n== Queries (embedded)")
        if "skipped" in results.get("embedded", {}) or handle is None:
            skipped(results, "queries_embedded", "no embedded store could be opened")
        else:
            try:
                results["queries_embedded"] = query_latency(handle, graph, repeat=7)
            finally:
                handle.close()  # its server process, now: not left to the interpreter's shutdown
            for name, fig in results["queries_embedded"].items():
                say(f"  {name}: {fig}")
        save()

    if want("neo4j"):
        say("\n== Neo4j")
        driver = None
        if args.skip_neo4j:
            skipped(results, "neo4j", "--skip-neo4j")
        elif graph is None:
            skipped(results, "neo4j", "no graph was built")
        else:
            try:
                fig, driver = neo4j_load(graph)
                results["neo4j"] = fig
                say(f"  {fig}" if "skipped" in fig else f"  load: {fig['seconds']} s for {fig['elements']} elements "
                    f"= {fig['elements_per_s']} elements/s")
            except Exception as exc:
                skipped(results, "neo4j", f"{type(exc).__name__}: {exc}"[:300])
        say("\n== Queries (Neo4j)")
        if "skipped" in results.get("neo4j", {}):
            skipped(results, "queries_neo4j", "Neo4j was not loaded")
        else:
            # Right after a load of 2.5 million elements the server is still busy (its heap
            # is full of the load's garbage): queries timed at once were 2-3x slower and
            # erratic (agency-learning 69-147 ms, 28-33 ms a few minutes later). It is given
            # NEO4J_SETTLE_S seconds first (default 60; 0 with --small), as a server in use
            # would have had.
            settle = float(os.environ.get("NEO4J_SETTLE_S", "0" if args.small else "60"))
            say(f"  (waiting {settle:g} s for the server to settle after the load)")
            time.sleep(settle)
            results["queries_neo4j"] = query_latency(driver, graph, repeat=7)
            results["queries_neo4j"]["_settle_s"] = settle
            for name, fig in results["queries_neo4j"].items():
                say(f"  {name}: {fig}")
        save()

    if want("map"):
        say("\n== Agency map")
        if graph is None:
            skipped(results, "agency_map", "no graph was built")
        else:
            try:
                fig = agency_map(graph, workdir, args.skip_browser)
                results["agency_map"] = fig
                if "skipped" in fig:
                    say(f"  skipped: {fig['skipped']}")
                else:
                    b = fig["browser"]
                    settled = b.get("settled_s_median")
                    say(f"  {fig['mb']} MB, rendered in {fig['render_s']} s; settled in Chromium: "
                        + (f"{settled} s (median of {len(b['runs'])})" if settled is not None else f"skipped: {b['skipped']}"))
            except Exception as exc:
                skipped(results, "agency_map", f"{type(exc).__name__}: {exc}"[:300])
        save()

    say("\n== Verdicts")
    for label, v in results["verdicts"].items():
        say(f"  {v['verdict']:<12} {label}: {v['value']} (target {v['target']})")
    say(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
