"""Totals (graph_model/totals.py, docs/schema.md "Totals") and the queries that read them.

The oracle: ``tests/data/counting-queries/`` keeps the text each rewritten query had before
it read totals (it counted by walking every link, missed opportunity or learning point).
The new query must return exactly the rows the counting one returns (same columns, same
order) on the seeds and on a synthetic corpus. tests/test_neo4j.py does the same in Neo4j,
and checks the loader's Cypher recount against these Python totals.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from graph_model import embedded, pipeline, queries
from graph_model.schema import NODE_TYPES, REL_TYPES, TOTALS, TOTALS_LABELS, TOTALS_REL_TYPES
from graph_model.synth import generate_corpus
from graph_model.totals import add_totals

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
COUNTING = ROOT / "tests" / "data" / "counting-queries"

# A small synthetic corpus with enough links, missed opportunities and similar learning
# points for every rewritten query to return rows.
SYNTH = {"n_reviews": 14, "seed": 5, "formats": ("txt",), "max_report_chars": 9000}

REWRITTEN = sorted(p.stem for p in COUNTING.glob("*.cypher"))


def parameter_sets(name: str, backend) -> list[dict]:
    """The parameters to compare a query with: its example, and for the cut lists small and
    large limits (the cut is where reading totals could go wrong); for a query about one
    agency, every agency."""
    base = queries.get_query(name).example_params()
    sets = [base]
    if "limit" in base:
        sets += [{**base, "limit": n} for n in (1, 2, 5, 17, 5000)]
    if "agency" in base:
        agencies = [
            r["name"] for r in backend.run("MATCH (a:Agency) RETURN a.name AS name ORDER BY name", {})
        ]
        sets += [{**base, "agency": a, "limit": n} for a in agencies for n in (1, 3, 40, 5000)]
    if "min_score" in base:
        sets += [{**base, "min_score": s, "limit": n} for s in (0.0, 0.5, 0.9) for n in (1, 3, 40)]
    if "min_reviews" in base:
        sets += [{**base, "min_reviews": n} for n in (0, 2, 3, 1000)]
    return sets


def counting_text(name: str) -> str:
    return queries.strip_statement((COUNTING / f"{name}.cypher").read_text(encoding="utf-8"))


def assert_same_as_counting(backend, name: str) -> int:
    """The shipped query gives the counting query's rows for every parameter set; returns how
    many rows the example parameters give."""
    first = None
    for params in parameter_sets(name, backend):
        expected = backend.run(counting_text(name), params)
        got = queries.run_query(name, params, backend)
        assert got.columns == expected.columns, (name, params)
        assert got == expected, (name, params)
        if first is None:
            first = len(got)
    return first


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return pipeline.build([str(SEEDS)], home=tmp_path_factory.mktemp("totals-seeds"), jobs=1)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    corpus = generate_corpus(tmp_path_factory.mktemp("totals-synth") / "corpus", **SYNTH)
    return pipeline.build([str(corpus.out_dir)], home=tmp_path_factory.mktemp("totals-synth-home"), jobs=1)


@pytest.fixture(params=["seeds", "synth"])
def built(request):
    return request.getfixturevalue(request.param)


def test_the_counting_queries_are_the_shipped_ones_before_the_totals():
    assert REWRITTEN == sorted(
        [
            "agencies-never-in-breakdown",
            "agency-learning",
            "breakdown-agencies",
            "broken-links-by-agency-pair",
            "family-roles-missed",
            "link-status-by-agency-pair",
            "missed-opportunities-by-agency",
            "recommendations-all-vs-one",
            "recurring-lessons",
            "recurring-themes",
            "theme-recurrence",
        ]
    )
    for name in REWRITTEN:
        assert queries.strip_statement(queries.get_query(name).text) != counting_text(name), name


@pytest.mark.parametrize("name", REWRITTEN)
def test_rewritten_query_gives_the_counting_querys_rows_embedded(built, name):
    with embedded.EmbeddedBackend(built.home / pipeline.EMBEDDED_DIR) as be:
        rows = assert_same_as_counting(be, name)
    assert rows > 0  # the comparison is about real rows


def test_synthetic_corpus_exercises_every_rewritten_query(synth):
    """Every rewritten query returns rows on the synthetic corpus with its example parameters,
    and recurring-lessons has more candidate rows than its smaller limits cut to, so the
    comparisons above test the cut."""
    with embedded.EmbeddedBackend(synth.home / pipeline.EMBEDDED_DIR) as be:
        for name in REWRITTEN:
            assert queries.run_query(name, queries.get_query(name).example_params(), be), name
        every = be.run(counting_text("recurring-lessons"), {"min_score": 0.0, "limit": 100000})
    assert len(every) > 40


# --------------------------------------------------------------------------- the Python totals


def independent_totals(g: nx.MultiDiGraph) -> dict:
    """The totals, counted a second way (per node, from its own relationships)."""
    out: dict = {}
    for n, d in g.nodes(data=True):
        label = d["label"]
        if label == "Agency":
            broken_in = [
                e
                for _u, _v, e in g.in_edges(n, data=True)
                if e["type"] == "COMMUNICATION" and e["status"] == "broken"
            ]
            broken_out = [
                e
                for _u, _v, e in g.out_edges(n, data=True)
                if e["type"] == "COMMUNICATION" and e["status"] == "broken"
            ]
            missed = [e for _u, _v, e in g.in_edges(n, data=True) if e["type"] == "MISSED_BY"]
            out[n] = {
                "broken_links": len(broken_in) + len(broken_out),
                "broken_sent": len(broken_out),
                "broken_reviews": len({e["review_id"] for e in broken_in + broken_out}),
                "missed_opportunities": len(missed),
                "missed_reviews": len({e["review_id"] for e in missed}),
            }
        elif label == "Theme":
            raising = {u for u, _v, e in g.in_edges(n, data=True) if e["type"] == "RAISES"}
            years = sorted(g.nodes[u]["year"] for u in raising if g.nodes[u].get("year") is not None)
            out[n] = {"reviews": len(raising)}
            if years:
                out[n] |= {"first_year": years[0], "last_year": years[-1]}
        elif label == "FamilyMember":
            out[n] = {
                "missed_opportunities": sum(
                    1 for _u, _v, e in g.in_edges(n, data=True) if e["type"] == "CONCERNS"
                )
            }
        elif label == "LearningPoint":
            scores = [
                e["score"]
                for _u, _v, e in list(g.in_edges(n, data=True)) + list(g.out_edges(n, data=True))
                if e["type"] == "SIMILAR_TO"
            ]
            out[n] = {"best_score": max(scores), "best_links": scores.count(max(scores))} if scores else {}
    ranked = sorted(
        (-t["best_score"], g.nodes[n]["id"], n) for n, t in out.items() if t.get("best_score") is not None
    )
    for rank, (_score, _id, n) in enumerate(ranked, start=1):
        out[n]["best_rank"] = rank
    pairs: dict = {}
    for u, v, e in g.edges(data=True):
        if e["type"] == "COMMUNICATION":
            a, b = sorted([g.nodes[u]["name"], g.nodes[v]["name"]])
            p = pairs.setdefault((a, b), Counter())
            p[e["status"]] += 1
            p["review:" + e["review_id"]] = 1
    for (a, b), p in pairs.items():
        out[(a, b)] = {
            "broken": p["broken"],
            "effective": p["effective"],
            "reviews": sum(1 for k in p if k.startswith("review:")),
        }
    return out


def stored_totals(g: nx.MultiDiGraph) -> dict:
    out: dict = {}
    for n, d in g.nodes(data=True):
        if d["label"] in TOTALS and d["label"] not in TOTALS_LABELS:
            out[n] = {k: d[k] for k in TOTALS[d["label"]] if k in d}
    for u, v, e in g.edges(data=True):
        if e["type"] in TOTALS_REL_TYPES:
            out[(g.nodes[u]["name"], g.nodes[v]["name"])] = {k: e[k] for k in TOTALS[e["type"]]}
    return out


def test_totals_match_an_independent_count(built):
    g = built.graph
    assert stored_totals(g) == independent_totals(g)
    assert any(d.get("broken_links") for _n, d in g.nodes(data=True) if d["label"] == "Agency")


def test_learning_kinds_count_every_point_once(built):
    g = built.graph
    points = [d for _n, d in g.nodes(data=True) if d["label"] == "LearningPoint"]
    kinds = {d["name"]: d for _n, d in g.nodes(data=True) if d["label"] == "LearningKind"}
    assert set(kinds) == {p["kind"] for p in points}
    for name, k in kinds.items():
        assert sum(k[p] for p in ("all_agencies", "one_agency", "several_agencies", "no_agency")) == sum(
            1 for p in points if p["kind"] == name
        )


def test_add_totals_again_gives_the_same_graph(seeds):
    g = seeds.graph.copy()
    before = (sorted(g.nodes(data=True), key=str), sorted(g.edges(keys=True, data=True), key=str))
    add_totals(g)
    assert (sorted(g.nodes(data=True), key=str), sorted(g.edges(keys=True, data=True), key=str)) == before


def test_totals_are_in_the_schema():
    for where, props in TOTALS.items():
        allowed = NODE_TYPES[where].properties if where in NODE_TYPES else REL_TYPES[where].properties
        assert set(props) <= set(allowed), where
    for t in TOTALS_REL_TYPES:
        assert "review_id" not in REL_TYPES[t].properties
    for label in TOTALS_LABELS:
        assert not NODE_TYPES[label].owned_by_review


def test_totals_are_not_in_the_query_list():
    names = {q.name for q in queries.list_queries()}
    assert "recount-totals" not in names and "schema" not in names
    assert "MERGE" in queries.totals_cypher_text()
