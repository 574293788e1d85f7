"""The Cypher query library and the embedded (FalkorDBLite) store, on the five seed documents.

Expected rows were checked against the seed documents in seeds/ (the Child X learning
summary, 004, is the only seed naming communication breakdowns between agencies); where a
figure depends on rule-based extraction only, the query is checked against an independent
count over the networkx graph instead.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

import graph_model.cli  # noqa: F401  (registers every command)
from graph_model import embedded, neo4j_store, pipeline, queries
from graph_model.commands import main as cli_main
from graph_model.errors import DatabaseError, InputError, UsageError

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CHILD_X_FILE = "004_cd261efeb7acd646.txt"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    home = tmp_path_factory.mktemp("seeds-home")
    result = pipeline.build([str(SEEDS)], home=home, jobs=1)
    return result


@pytest.fixture(scope="module")
def graph(seeds) -> nx.MultiDiGraph:
    return seeds.graph


@pytest.fixture(scope="module")
def backend(seeds):
    be = embedded.EmbeddedBackend(seeds.home / pipeline.EMBEDDED_DIR)
    yield be
    be.close()


def run(name: str, backend, **params) -> list[dict]:
    return queries.run_query(name, params, backend)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# --------------------------------------------------------------------------- the library itself


def test_library_has_at_least_twelve_queries_with_headers():
    qs = queries.list_queries()
    assert len(qs) >= 12
    for q in qs:
        assert Path(q.path).stem == q.name, q.path
        assert q.description, q.name
        assert re.search(r"\bORDER BY\b", q.text), f"{q.name} has no ORDER BY"
        declared = {p.name for p in q.params}
        assert declared == set(queries.referenced_params(q.text)), q.name


def test_required_topics_are_covered():
    names = {q.name for q in queries.list_queries()}
    for name in (
        "broken-links-by-agency-pair",
        "breakdown-agencies",
        "agency-learning",
        "recurring-themes",
        "reviews-sharing-theme",
        "missed-opportunities-by-agency",
        "family-roles-missed",
        "reviews-with-both-agencies",
        "recommendations-all-vs-one",
        "link-evidence",
        "pair-evidence",
        "review-subgraph",
        "agencies-never-in-breakdown",
        "recurring-lessons",
        "theme-recurrence",
        "review-timeline",
    ):
        assert name in names


def test_schema_cypher_matches_schema_py():
    text = queries.schema_cypher_text()
    assert text == neo4j_store.schema_cypher(), "regenerate cypher/schema.cypher from neo4j_store.schema_cypher()"
    assert neo4j_store.check_schema_cypher(text) == []
    assert all("IF NOT EXISTS" in s for s in neo4j_store.split_statements(text))


def test_there_is_one_copy_of_every_query():
    """Both engines run the very same files: no per-engine folder, no dialect copy. The one
    folder holds Neo4j's recount of the totals, which the loader runs and analysts do not."""
    folder = ROOT / "cypher"
    assert [p.name for p in folder.iterdir() if p.is_dir()] == ["totals"]
    assert [p.name for p in (folder / "totals").iterdir()] == ["recount.cypher"]
    assert "recount-totals" not in {q.name for q in queries.list_queries()}
    stems = [p.stem for p in folder.rglob("*.cypher")]
    assert len(stems) == len(set(stems))
    for q in queries.list_queries():
        assert "dialect" not in q.text.lower(), q.name


# --------------------------------------------------------------------------- every query runs


@pytest.mark.parametrize("name", [q.name for q in queries.list_queries()])
def test_every_query_runs_deterministically(name, backend):
    q = queries.get_query(name)
    rows = queries.run_query(name, q.example_params(), backend)
    again = queries.run_query(name, q.example_params(), backend)
    assert rows == again
    assert rows, f"{name} returns no rows for its example parameters on the seeds"
    columns = list(rows[0])
    assert all(list(r) == columns for r in rows)
    for row in rows:  # plain values only, the same in both engines
        for value in row.values():
            assert value is None or isinstance(value, (str, int, float, bool)), (name, value)


# --------------------------------------------------------------------------- expected rows


def test_broken_links_by_agency_pair(backend, graph):
    rows = run("broken-links-by-agency-pair", backend)
    got = [
        (r["agency_a"], r["agency_b"], r["pair_breakdowns"], r["from_agency"], r["to_agency"], r["review_id"], r["year"], r["quote"])
        for r in rows
    ]
    # All four are findings of the Child X learning summary (seeds/004_...).
    assert got == [
        (
            "Adult Mental Health", "Adult Social Care", 1, "Adult Social Care", "Adult Mental Health", "Child X", 2016,
            "Sharing of information between Adult Social Care Mental Health and Northamptonshire Healthcare "
            "Foundation Trust Mental Health needs to be more effective.",
        ),
        (
            "Adult Mental Health", "Health Visiting", 1, "Adult Mental Health", "Health Visiting", "Child X", 2016,
            "No formal discharge plan provided to Health Visiting Team when mother was discharged from the mother "
            "and baby unit – even though Child X was Looked After Child.",
        ),
        (
            "Adult Mental Health", "Hospital and Paediatrics", 1, "Hospital and Paediatrics", "Adult Mental Health",
            "Child X", 2016,
            "Mother was agitated in hospital but referral not made to mental health - as consent is required from "
            "the individual to make referral to Adult Social Care Mental Health.",
        ),
        (
            "Children's Social Care", "GP", 1, "GP", "Children's Social Care", "Child X", 2016,
            "Child X seen by GP four days prior to presentation at A&E, but this did not result in a Child "
            "Protection referral to CSC.",
        ),
    ]
    text = squash((SEEDS / CHILD_X_FILE).read_text(encoding="utf-8"))
    for r in rows:
        assert squash(r["quote"]) in text
    ids = {d["id"] for _u, _v, d in graph.edges(data=True) if d["type"] == "COMMUNICATION" and d["status"] == "broken"}
    assert {r["link_id"] for r in rows} == ids


def test_link_and_pair_evidence(backend):
    pair = run("pair-evidence", backend, agency_a="GP", agency_b="Children's Social Care")
    assert [(r["status"], r["from_agency"], r["to_agency"], r["review_id"]) for r in pair] == [
        ("broken", "GP", "Children's Social Care", "Child X"),
        ("effective", "GP", "Children's Social Care", "Child X"),
    ]
    assert pair[1]["quote"] == "Duty Social Worker visited the home (unannounced) once telephone call from GP was received."
    # the same pair named the other way round gives the same links
    assert run("pair-evidence", backend, agency_a="Children's Social Care", agency_b="GP") == pair
    broken = pair[0]
    [link] = run("link-evidence", backend, link_id=broken["link_id"])
    assert link["status"] == "broken" and link["quote"] == broken["quote"]
    assert link["source"] == CHILD_X_FILE and link["section"] == "findings" and link["year"] == 2016
    assert link["quote_end"] - link["quote_start"] == len(link["quote"])
    assert run("link-evidence", backend, link_id="no such link") == []


def test_breakdown_agencies_and_never(backend, graph):
    rows = run("breakdown-agencies", backend)
    assert rows[0] == {
        "agency": "Adult Mental Health", "sector": "health", "breakdowns": 3, "as_sender": 1, "as_receiver": 2, "reviews": 1,
    }
    broken = [(u, v) for u, v, d in graph.edges(data=True) if d["type"] == "COMMUNICATION" and d["status"] == "broken"]
    ends = Counter(graph.nodes[n]["name"] for pair in broken for n in set(pair))
    assert {r["agency"]: r["breakdowns"] for r in rows} == dict(ends)
    never = run("agencies-never-in-breakdown", backend)
    all_agencies = {d["name"] for _n, d in graph.nodes(data=True) if d["label"] == "Agency"}
    assert {r["agency"] for r in never} == all_agencies - set(ends)
    # The police appear in four seeds (000, 002, Child X, SILR15b) and in no breakdown.
    assert never[0] == {"agency": "Police", "sector": "police", "reviews": 4}


def test_reviews_with_both_agencies(backend):
    rows = run("reviews-with-both-agencies", backend, agency_a="Police", agency_b="Children's Social Care")
    # SILR15b: "a referral was made by the police to children's social care" (an effective link).
    assert [(r["review_id"], r["year"], r["links"], r["broken_links"]) for r in rows] == [
        ("002-2b128cb0abd04d34", 2012, 0, 0),
        ("Child X", 2016, 0, 0),
        ("SILR15b", 2018, 1, 0),
    ]
    swapped = run("reviews-with-both-agencies", backend, agency_a="Children's Social Care", agency_b="Police")
    assert [r["review_id"] for r in swapped] == [r["review_id"] for r in rows]


def test_reviews_sharing_theme_safe_sleep(backend):
    rows = run("reviews-sharing-theme", backend, theme="Safe sleep")
    # Only the Derbyshire SILR (seeds/003) talks about safer sleep.
    assert [(r["review_id"], r["year"], r["board"]) for r in rows] == [
        ("SILR15b", 2018, "Derbyshire Safeguarding Children Board")
    ]
    assert run("reviews-sharing-theme", backend, theme="No such theme") == []


def test_reviews_sharing_theme_keeps_the_oldest_up_to_the_limit(backend):
    everyone = run("reviews-sharing-theme", backend, theme="Information sharing")
    assert len(everyone) >= 3
    assert [(r["year"], r["review_id"]) for r in everyone] == sorted((r["year"], r["review_id"]) for r in everyone)
    assert run("reviews-sharing-theme", backend, theme="Information sharing", limit=2) == everyone[:2]


def test_reviews_overview(backend):
    rows = run("reviews-overview", backend)
    assert [(r["review_id"], r["year"], r["broken_links"]) for r in rows] == [
        ("000-d5bcbe7d1a8f4ecb", 2015, 0),
        ("002-2b128cb0abd04d34", 2012, 0),
        ("Child X", 2016, 4),
        ("IN14", 2013, 0),
        ("SILR15b", 2018, 0),
    ]


def test_recurring_themes_against_graph(backend, graph):
    rows = run("recurring-themes", backend, min_reviews=2)
    per_theme: dict[str, list[int]] = {}
    for u, v, d in graph.edges(data=True):
        if d["type"] == "RAISES":
            per_theme.setdefault(graph.nodes[v]["name"], []).append(graph.nodes[u]["year"])
    expected = sorted(
        ((t, len(ys), min(ys), max(ys)) for t, ys in per_theme.items() if len(ys) >= 2), key=lambda x: (-x[1], x[0])
    )
    assert [(r["theme"], r["reviews"], r["first_year"], r["last_year"]) for r in rows] == expected
    # Information sharing runs through every seed, 2012 to 2018.
    assert ("Information sharing", 5, 2012, 2018) in expected
    assert run("recurring-themes", backend, min_reviews=99) == []


ESCALATION_000 = "000-d5bcbe7d1a8f4ecb/lp003"  # "... NSCB Resolving Professional Differences (Escalation Procedure) ..."


def test_recurring_lessons_strongest_pairs(backend):
    """The two strongest SIMILAR_TO pairs on the seeds: the escalation lesson of the 2015
    bulletin (000) and, in IN14 (2013), the same paragraph and the 'familiarise yourself
    with the ... Escalation Procedure' recommendation; each pair once from either side."""
    rows = run("recurring-lessons", backend, min_score=0.5)
    got = [(r["point"], r["review_id"], r["year"], r["similar_point"], r["similar_review_id"], r["similar_year"], r["score"])
           for r in rows]
    assert got == [
        (ESCALATION_000, "000-d5bcbe7d1a8f4ecb", 2015, "IN14/lp001", "IN14", 2013, 0.9708),
        ("IN14/lp001", "IN14", 2013, ESCALATION_000, "000-d5bcbe7d1a8f4ecb", 2015, 0.9708),
        (ESCALATION_000, "000-d5bcbe7d1a8f4ecb", 2015, "IN14/lp006", "IN14", 2013, 0.5407),
        ("IN14/lp006", "IN14", 2013, ESCALATION_000, "000-d5bcbe7d1a8f4ecb", 2015, 0.5407),
    ]
    assert rows[2]["similar_text"].startswith("Familiarise yourself with the NSCB Resolving Professional Differences")


def test_recurring_lessons_against_graph(backend, graph):
    """At the default min_score, every SIMILAR_TO of the graph, once from each side."""
    rows = run("recurring-lessons", backend, min_score=0.35)
    want = set()
    for u, v, d in graph.edges(data=True):
        if d["type"] == "SIMILAR_TO":
            a, b = graph.nodes[u]["id"], graph.nodes[v]["id"]
            want |= {(a, b, d["score"]), (b, a, d["score"])}
    assert len(want) == 26  # 13 pairs on the seeds as extracted since issue 17
    assert {(r["point"], r["similar_point"], r["score"]) for r in rows} == want
    assert all(r["review_id"] != r["similar_review_id"] for r in rows)
    assert run("recurring-lessons", backend, min_score=0.99) == []


def test_theme_recurrence(backend, graph):
    """Five themes are raised by all five seeds, one seed a year (2012, 2013, 2015, 2016, 2018)."""
    rows = run("theme-recurrence", backend, min_reviews=5)
    themes = ["Escalation and professional challenge", "Information sharing", "Management oversight and supervision",
              "Neglect and assessment tools", "Planning and written agreements"]
    assert [(r["theme"], r["year"], r["reviews"], r["all_years"]) for r in rows] == [
        (t, y, 1, 5) for t in themes for y in (2012, 2013, 2015, 2016, 2018)
    ]
    # Every theme and year, against graph_model.recurring.theme_recurrence over the networkx graph.
    from graph_model.recurring import theme_recurrence

    want = [(t, y, n, rec["reviews"]) for t, rec in theme_recurrence(graph).items() for y, n in rec["by_year"].items()
            if y is not None]
    assert [(r["theme"], r["year"], r["reviews"], r["all_years"]) for r in run("theme-recurrence", backend)] == want


def test_missed_opportunities_and_family_roles_against_graph(backend, graph):
    by_agency = Counter()
    for _u, v, d in graph.edges(data=True):
        if d["type"] == "MISSED_BY":
            by_agency[graph.nodes[v]["name"]] += 1
    rows = run("missed-opportunities-by-agency", backend)
    assert {r["agency"]: r["missed_opportunities"] for r in rows} == dict(by_agency)
    assert [r["missed_opportunities"] for r in rows] == sorted((r["missed_opportunities"] for r in rows), reverse=True)
    roles = run("family-roles-missed", backend)
    # Child X's missed opportunities are mostly about the mother's mental health.
    assert roles[0]["role"] == "mother"
    concerns = Counter(graph.nodes[v]["role"] for _u, v, d in graph.edges(data=True) if d["type"] == "CONCERNS")
    assert sum(r["missed_opportunities"] for r in roles) <= sum(concerns.values())


def test_recommendations_all_vs_one(backend, graph):
    rows = run("recommendations-all-vs-one", backend)
    lps = [d for _n, d in graph.nodes(data=True) if d["label"] == "LearningPoint"]
    assert sum(r["learning_points"] for r in rows) == len(lps)
    # The 2012 special practice review has six "All - ..." recommendations.
    assert {"kind": "recommendation", "addressed_to": "all agencies", "learning_points": 6, "reviews": 1} in rows


def test_agency_learning(backend, graph):
    rows = run("agency-learning", backend, agency="GP")
    items = Counter(r["item"] for r in rows)
    assert items["broken link"] == 1 and items["effective link"] == 1
    addressed = sum(1 for u, v, d in graph.edges(data=True) if d["type"] == "ADDRESSED_TO" and v == "Agency:GP")
    missed = sum(1 for u, v, d in graph.edges(data=True) if d["type"] == "MISSED_BY" and v == "Agency:GP")
    assert items["learning point"] == addressed and items["missed opportunity"] == missed
    assert all(r["review_id"] == "Child X" for r in rows)
    assert run("agency-learning", backend, agency="Nobody") == []


def test_review_timeline(backend):
    rows = run("review-timeline", backend, review_id="Child X")
    assert list(rows[0]) == [
        "date_from", "date_to", "date_text", "precision", "event", "agencies", "section", "quote_start", "event_id",
    ]
    # The dated events of the Child X learning summary (seeds/004_...), in date order.
    assert [(r["date_from"], r["date_to"], r["date_text"], r["precision"], r["event"], r["agencies"], r["section"], r["event_id"])
            for r in rows] == [
        ("2014-01-01", "2014-01-31", "January 2014", "month",
         "Health Visitor did assess mother's mental health in January 2014, but it is not clear what assessment tool was used.",
         "Health Visiting", "good_practice", "Child X/ev001"),
        ("2015-06-01", "2015-08-31", "summer 2015", "season", "Various incidents over the course of summer 2015", "",
         "methodology", "Child X/ev002"),
        ("2015-07-01", "2015-08-31", "July / August 2015", "range",
         "No Strategy Meetings undertaken (in July / August 2015) to share information in a multi-agency arena.", "",
         "findings", "Child X/ev003"),
        ("2015-09-01", "2015-09-30", "September 2015", "month",
         "Supervision not undertaken within relevant agencies to discuss the case and to unpick concerns until after the "
         "incident of concern (September 2015).", "", "findings", "Child X/ev004"),
        ("2015-09-01", "2015-09-30", "September 2015", "month",
         "Mother's presentation to A&E for Child X's incident in September 2015 was not in keeping with previous "
         "proportionate presentations.", "Emergency Department", "findings", "Child X/ev005"),
        ("2015-09-14", "2015-09-14", "14 th September 2015", "day", "Section 47 on 14 th September 2015 led to the Review.",
         "", "methodology", "Child X/ev006"),
    ]
    text = (SEEDS / CHILD_X_FILE).read_text(encoding="utf-8")
    assert all(r["event"] in text and r["date_text"] in r["event"] for r in rows)
    assert [r["quote_start"] for r in rows][3:5] == sorted(r["quote_start"] for r in rows[3:5])  # equal dates: text order
    assert [(r["date_text"], r["event_id"]) for r in run("review-timeline", backend, review_id="IN14")] == [("2013", "IN14/ev001")]
    assert run("review-timeline", backend, review_id="No such review") == []


@pytest.mark.parametrize("review_id", ["IN14", "Child X", "002-2b128cb0abd04d34"])
def test_review_subgraph_is_the_reviews_edges(backend, graph, review_id):
    rows = run("review-subgraph", backend, review_id=review_id)
    expected = sorted(
        (d["type"], u, v, d["id"]) for u, v, d in graph.edges(data=True) if d.get("review_id") == review_id
    )
    got = sorted((r["relationship"], f"{r['from_label']}:{r['from_key']}", f"{r['to_label']}:{r['to_key']}", r["rel_id"]) for r in rows)
    assert got == expected


def test_list_queries_take_a_limit(backend):
    """Queries that can return tens of thousands of rows take an optional $limit (default
    100): the rows are the first ones of the full, ordered result."""
    limited = {q.name for q in queries.list_queries() if q.param("limit")}
    assert {"agency-learning", "broken-links-by-agency-pair", "pair-evidence", "reviews-overview"} <= limited
    for name in limited:
        q = queries.get_query(name)
        assert q.param("limit").optional and q.default_params() == {"limit": 100}, name
        assert re.search(r"\bLIMIT \$limit\b", q.text), name
        args = {k: v for k, v in q.example_params().items() if k != "limit"}
        full = queries.run_query(name, {**args, "limit": 100000}, backend)
        assert queries.run_query(name, args, backend) == full[:100]
        assert queries.run_query(name, {**args, "limit": 2}, backend) == full[:2], name
        assert queries.run_query(name, {**args, "limit": 1}, backend) == full[:1], name
    # the four broken links of Child X: the pair counts are made before the rows are cut
    two = run("broken-links-by-agency-pair", backend, limit=2)
    assert [(r["agency_a"], r["agency_b"], r["pair_breakdowns"]) for r in two] == [
        ("Adult Mental Health", "Adult Social Care", 1),
        ("Adult Mental Health", "Health Visiting", 1),
    ]
    assert [r["review_id"] for r in run("reviews-overview", backend, limit=2)] == [
        "000-d5bcbe7d1a8f4ecb", "002-2b128cb0abd04d34",
    ]
    with pytest.raises(UsageError, match="'limit'.*at least 1"):
        run("reviews-overview", backend, limit=0)
    with pytest.raises(UsageError, match="'limit'.*whole number"):
        queries.run_query("reviews-overview", {"limit": "many"}, backend)


def test_defaults_must_name_a_declared_parameter():
    text = "// name: x\n// params: a=1\n// defaults: b=2\nRETURN $a AS a ORDER BY a\n"
    with pytest.raises(InputError, match="defaults line names 'b'"):
        queries.parse_query(text, "x.cypher")
    q = queries.parse_query(text.replace("b=2", "a=5"), "x.cypher")
    assert q.param("a").optional and q.default_params() == {"a": 5} and q.example_params() == {"a": 1}


# --------------------------------------------------------------------------- parameters


def test_unknown_query_names_the_closest():
    with pytest.raises(UsageError) as exc:
        queries.get_query("agency-learnin")
    assert "agency-learning" in str(exc.value)


def test_missing_mistyped_and_unknown_parameters(backend):
    with pytest.raises(UsageError, match=r"needs parameter 'agency'.*--param agency=\"Health Visiting\""):
        queries.run_query("agency-learning", {}, backend)
    with pytest.raises(UsageError, match=r"'min_reviews'.*whole number.*min_reviews=2"):
        queries.run_query("recurring-themes", {"min_reviews": "two"}, backend)
    with pytest.raises(UsageError, match="has no parameter 'agnecy'"):
        queries.run_query("agency-learning", {"agency": "GP", "agnecy": "GP"}, backend)
    # values from the command line are converted from text by the example's type
    assert queries.run_query("recurring-themes", {"min_reviews": "5"}, backend) == queries.run_query(
        "recurring-themes", {"min_reviews": 5}, backend
    )


def test_parse_params_spec_and_literals():
    ps = queries.parse_params_spec('agency="Health Visiting", min_reviews=2, share=0.5, strict=true, who=\'O\\\'Neil\'')
    assert [(p.name, p.example) for p in ps] == [
        ("agency", "Health Visiting"), ("min_reviews", 2), ("share", 0.5), ("strict", True), ("who", "O'Neil"),
    ]
    assert ps[0].example_text() == 'agency="Health Visiting"'
    assert queries.parse_params_spec("") == ()


def test_referenced_params_and_split_statements():
    text = "// $not_me\nMATCH (n {a: '$nor_me', b: $yes}) /* $no */ RETURN n.`$x` AS y, $also; RETURN 'a;b' AS s;"
    assert queries.referenced_params(text) == ["yes", "also"]
    assert neo4j_store.split_statements(text) == [
        "// $not_me\nMATCH (n {a: '$nor_me', b: $yes}) /* $no */ RETURN n.`$x` AS y, $also",
        "RETURN 'a;b' AS s",
    ]


def test_run_file(tmp_path, backend):
    f = tmp_path / "mine.cypher"
    f.write_text(
        '// name: mine\n// params: year=2016\nMATCH (r:Review) WHERE r.year = $year RETURN r.id AS id ORDER BY id;\n',
        encoding="utf-8",
    )
    assert queries.run_file(f, {"year": "2016"}, backend) == [{"id": "Child X"}]
    with pytest.raises(UsageError, match="needs parameter 'year'"):
        queries.run_file(f, {}, backend)
    bare = tmp_path / "bare.cypher"
    bare.write_text("MATCH (r:Review {id: $rid}) RETURN r.year AS year", encoding="utf-8")
    assert queries.run_file(bare, {"rid": "IN14"}, backend) == [{"year": 2013}]
    with pytest.raises(UsageError, match="needs parameter 'rid'"):
        queries.run_file(bare, {}, backend)
    with pytest.raises(InputError, match="no such query file"):
        queries.run_file(tmp_path / "nope.cypher", {}, backend)


def test_embedded_errors_are_one_sentence(tmp_path, backend):
    with pytest.raises(DatabaseError, match="cannot parse") as exc:
        backend.run("MATCH (n:Review RETURN n", {}, source="bad.cypher")
    assert str(exc.value).startswith("bad.cypher:") and "\n" not in str(exc.value)
    with pytest.raises(DatabaseError, match="read-only"):
        backend.run("MATCH (n:Review) SET n.year = 1 RETURN n.id", {}, source="w.cypher")
    with pytest.raises(DatabaseError, match="no embedded store"):
        embedded.EmbeddedBackend(tmp_path / "missing.falkordb")


# --------------------------------------------------------------------------- the store


def test_store_holds_the_whole_graph(backend, graph):
    labels = Counter(d["label"] for _n, d in graph.nodes(data=True))
    types = Counter(d["type"] for _u, _v, d in graph.edges(data=True))
    got_labels = {r["l"]: r["c"] for r in backend.run("MATCH (n) RETURN labels(n)[0] AS l, count(*) AS c")}
    got_types = {r["t"]: r["c"] for r in backend.run("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c")}
    assert got_labels == dict(labels)
    assert got_types == dict(types)
    # properties survive exactly (written as parameters)
    for label in ("Review", "LearningPoint", "MissedOpportunity"):
        key = "id"
        rows = backend.run(f"MATCH (n:{label}) RETURN n")
        for row in rows:
            node = row["n"]
            want = {k: v for k, v in graph.nodes[f"{label}:{node[key]}"].items() if k != "label"}
            assert {k: v for k, v in node.items() if k != "_label"} == want


def test_store_keeps_awkward_text_exactly(tmp_path):
    g = nx.MultiDiGraph()
    awkward = ['', 'say "hi", ok', "line one\nline two\r\nthree", "back\\slash \\n", "ünïcode – “q”", '"', "'"]
    for i, text in enumerate(awkward):
        g.add_node(f"Theme:t{i}", label="Theme", name=f"t{i}", description=text)
    g.add_node("Agency:A", label="Agency", name="A")  # no sector: null, not ''
    g.add_node("Agency:B", label="Agency", name="B", sector="")
    g.add_edge("Agency:A", "Agency:B", key="l1", type="COMMUNICATION", id="l1", review_id="r", status="broken",
               directed=True, quote=awkward[2], start=0, end=3, section="findings")
    path = tmp_path / "odd 'name'" / "embedded.falkordb"
    summary = embedded.write_store(g, path)
    assert (summary.nodes, summary.relationships) == (9, 1)
    with embedded.EmbeddedBackend(path) as be:
        got = {r["n"]: r["d"] for r in be.run("MATCH (t:Theme) RETURN t.name AS n, t.description AS d")}
        assert got == {f"t{i}": t for i, t in enumerate(awkward)}
        sectors = be.run("MATCH (a:Agency) RETURN a.name AS n, a.sector AS s ORDER BY n")
        assert sectors == [{"n": "A", "s": None}, {"n": "B", "s": ""}]
        assert be.run("MATCH ()-[l:COMMUNICATION]->() RETURN l.quote AS q, l.directed AS d") == [{"q": awkward[2], "d": True}]


def test_the_bulk_writer_keeps_every_value_type_and_chunking_does_not_change_the_store(tmp_path, graph):
    g = nx.MultiDiGraph()
    g.add_node("Review:r", label="Review", id="r", year=2019, text_length=0, broken_links=-3)
    g.add_node("LearningPoint:r/lp1", label="LearningPoint", id="r/lp1", review_id="r", text="x", all_agencies=False,
               best_score=0.8754, confidence=1.0, start=0, end=1)
    import numpy as np

    g.add_node("LearningPoint:r/lp2", label="LearningPoint", id="r/lp2", review_id="r", text="", all_agencies=np.bool_(True),
               best_score=np.float64(1e-9), best_rank=np.int64(7))
    g.add_edge("LearningPoint:r/lp1", "LearningPoint:r/lp2", key="s", type="SIMILAR_TO", id="s", score=0.5)
    g.add_edge("Review:r", "LearningPoint:r/lp1", key="h", type="HAS_LEARNING", id="h", review_id="r")
    path = tmp_path / "embedded.falkordb"
    embedded.write_store(g, path)
    with embedded.EmbeddedBackend(path) as be:
        assert be.run("MATCH (r:Review) RETURN r.year AS y, r.text_length AS t, r.broken_links AS b, r.board AS n") == [
            {"y": 2019, "t": 0, "b": -3, "n": None}
        ]
        points = be.run(
            "MATCH (p:LearningPoint) RETURN p.id AS id, p.text AS t, p.all_agencies AS a, p.best_score AS s, "
            "p.confidence AS c, p.start AS st, p.best_rank AS r ORDER BY id"
        )
        assert points == [
            {"id": "r/lp1", "t": "x", "a": False, "s": 0.8754, "c": 1.0, "st": 0, "r": None},
            {"id": "r/lp2", "t": "", "a": True, "s": 1e-9, "c": None, "st": None, "r": 7},
        ]
        assert [type(p["a"]) for p in points] == [bool, bool]
        assert be.run("MATCH (a)-[s:SIMILAR_TO]->(b) RETURN a.id AS a, b.id AS b, s.score AS s") == [
            {"a": "r/lp1", "b": "r/lp2", "s": 0.5}
        ]
        assert be.run("MATCH (r:Review)-[:HAS_LEARNING]->(p) RETURN p.id AS p") == [{"p": "r/lp1"}]
    # One command for everything, or a command for every few entities: the same store.
    small, large = tmp_path / "small.falkordb", tmp_path / "large.falkordb"
    embedded.write_store(graph, small, chunk_bytes=200)
    embedded.write_store(graph, large)
    dumps = []
    for p in (small, large):
        with embedded.EmbeddedBackend(p) as be:
            rows = be.run("MATCH (a)-[r]->(b) RETURN properties(a) AS a, type(r) AS t, properties(r) AS p, properties(b) AS b")
            rows += be.run("MATCH (n) RETURN labels(n) AS a, properties(n) AS p")
        dumps.append(sorted(json.dumps(r, sort_keys=True) for r in rows))
    assert dumps[0] == dumps[1] and len(dumps[0]) == graph.number_of_nodes() + graph.number_of_edges()


def test_a_nul_in_a_value_is_one_sentence_and_nothing_is_written(tmp_path):
    g = nx.MultiDiGraph()
    g.add_node("Theme:t", label="Theme", name="t", description="before\x00after")
    path = tmp_path / "embedded.falkordb"
    with pytest.raises(DatabaseError, match="a value holds a NUL character"):
        embedded.write_store(g, path)
    assert not list(tmp_path.iterdir())


def test_store_is_replaced_only_when_complete(tmp_path, graph):
    path = tmp_path / "embedded.falkordb"
    embedded.write_store(graph, path)
    before = path.read_bytes()
    bad = nx.MultiDiGraph(graph)
    bad.add_node("Nope:x", label="Nope")
    with pytest.raises(DatabaseError):
        embedded.write_store(bad, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["embedded.falkordb"]  # no temporary leftovers
    smaller = nx.MultiDiGraph(graph.subgraph([n for n, d in graph.nodes(data=True) if d["label"] != "Case"]))
    embedded.write_store(smaller, path)
    with embedded.EmbeddedBackend(path) as be:
        assert be.run("MATCH (c:`Case`) RETURN count(*) AS n") == [{"n": 0}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["embedded.falkordb"]


def test_indexes_are_generated_from_the_schema():
    from graph_model.schema import NODE_TYPES, QUERY_INDEXES

    stmts = embedded.index_statements()
    keys = [nt for nt in NODE_TYPES.values() if not nt.owned_by_review or nt.label == "Review"]
    assert stmts[: len(keys)] == [f"CREATE INDEX FOR (n:`{nt.label}`) ON (n.`{nt.key}`)" for nt in keys]
    assert {nt.label for nt in keys} == {"Review", "Agency", "Theme", "LearningKind"}
    assert "CREATE INDEX FOR (n:`Review`) ON (n.`year`)" in stmts
    assert not [s for s in stmts if "]-()" in s]  # no relationship index: see the next test
    assert len(stmts) == len(set(stmts)) and len(QUERY_INDEXES) == 5


def test_the_saved_store_keeps_only_the_indexes_queries_use(backend):
    """No index on a review's own nodes' key or review_id (FalkorDB rebuilds every index
    at each load, and no query reaches them by key)."""
    rows = backend.run("CALL db.indexes() YIELD label, properties RETURN label, properties ORDER BY label")
    assert {r["label"]: sorted(r["properties"]) for r in rows} == {
        "Agency": ["name"],
        "FamilyMember": ["role"],
        "LearningKind": ["name"],
        "LearningPoint": ["best_rank", "kind"],
        "Review": ["id", "year"],
        "Theme": ["name"],
    }


def test_undirected_pattern_counts_both_directions(backend):
    """FalkorDB reads an undirected pattern through a relationship index in one direction
    only; the store has no relationship index, so both directions count."""
    rows = backend.run(
        "MATCH (a:Agency)-[l:COMMUNICATION]-(:Agency) WHERE l.status = 'broken' "
        "RETURN a.name AS agency, count(l) AS n ORDER BY agency"
    )
    assert rows == [
        {"agency": "Adult Mental Health", "n": 3}, {"agency": "Adult Social Care", "n": 1},
        {"agency": "Children's Social Care", "n": 1}, {"agency": "GP", "n": 1},
        {"agency": "Health Visiting", "n": 1}, {"agency": "Hospital and Paediatrics", "n": 1},
    ]


def _chain_store(tmp_path) -> Path:
    """Agencies A..E with values 9..5 and one COMMUNICATION link A -> B."""
    g = nx.MultiDiGraph()
    for i, name in enumerate("ABCDE"):
        g.add_node(f"Agency:{name}", label="Agency", name=name, sector=str(9 - i))
    g.add_edge("Agency:A", "Agency:B", key="l1", type="COMMUNICATION", id="l1", review_id="r", status="broken")
    path = tmp_path / "chain.falkordb"
    embedded.write_store(g, path)
    return path


def test_embedded_engine_answers_what_ladybugdb_answered_wrongly(tmp_path):
    """The two silent wrong answers that ruled LadybugDB out (docs/embedded-engine.md), on the
    embedded engine: a path never repeats a relationship, and WITH ... ORDER BY ... LIMIT
    keeps the order before collect()."""
    with embedded.EmbeddedBackend(_chain_store(tmp_path)) as be:
        paths = be.run("MATCH p = (a:Agency {name: 'A'})-[:COMMUNICATION*1..3]-(b) RETURN b.name AS b, length(p) AS n")
        assert paths == [{"b": "B", "n": 1}]  # LadybugDB: also A at 2 and B at 3, walking the one link back and forth
        rows = be.run("MATCH (a:Agency) WITH a ORDER BY a.sector LIMIT 2 RETURN collect(a.name) AS names")
        assert rows == [{"names": ["E", "D"]}]  # LadybugDB: ['A', 'B'], the order ignored


def test_reading_never_changes_the_store(tmp_path):
    path = _chain_store(tmp_path)
    before = path.read_bytes()
    with embedded.EmbeddedBackend(path) as one, embedded.EmbeddedBackend(path) as two:
        assert one.run("MATCH (a:Agency) RETURN count(a) AS n") == [{"n": 5}]
        embedded.write_store(nx.MultiDiGraph(), path)  # a rebuild while both are open
        assert two.run("MATCH (a:Agency) RETURN count(a) AS n") == [{"n": 5}]  # what it opened
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.falkordb"]  # no registry, no log left
    with embedded.EmbeddedBackend(path) as three:
        assert three.run("MATCH (a:Agency) RETURN count(a) AS n") == [{"n": 0}]
    assert path.read_bytes() != before


def test_an_empty_result_keeps_its_columns(backend):
    rows = backend.run("MATCH (r:Review {id: $id}) RETURN r.id AS id, r.year AS year", {"id": "nope"})
    assert rows == [] and rows.columns == ["id", "year"]


# --------------------------------------------------------------------------- the command line


def test_cli_query_list_run_file(seeds, tmp_path, capsys):
    home = str(seeds.home)
    assert cli_main(["query", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in listed} == {q.name for q in queries.list_queries()}
    code = cli_main(["query", "run", "pair-evidence", "--param", "agency_a=GP", "--param",
                     "agency_b=Children's Social Care", "--format", "csv", "--embedded", "--home", home])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "status,from_agency,to_agency,review_id,year,link_id,section,quote"
    assert len(out) == 3
    assert cli_main(["query", "run", "reviews-overview", "--embedded", "--home", home]) == 0
    assert "SILR15b" in capsys.readouterr().out
    f = tmp_path / "q.cypher"
    f.write_text("// params: rid=\"IN14\"\nMATCH (r:Review {id: $rid}) RETURN r.year AS year;\n", encoding="utf-8")
    assert cli_main(["query", "file", str(f), "-p", "rid=IN14", "-f", "json", "--embedded", "--home", home]) == 0
    assert json.loads(capsys.readouterr().out) == [{"year": 2013}]


@pytest.mark.parametrize(
    "argv, code, words",
    [
        (["query", "run", "agency-learnin"], 2, "Did you mean agency-learning"),
        (["query", "run", "agency-learning"], 2, "needs parameter 'agency'"),
        (["query", "run", "recurring-themes", "-p", "min_reviews=lots"], 2, "must be a whole number"),
        (["query", "run", "recurring-themes", "-p", "min_reviews"], 2, "not of the form name=value"),
        (["query", "run", "recurring-themes", "-f", "xml"], 2, "Unknown format"),
    ],
)
def test_cli_usage_errors(seeds, capsys, argv, code, words):
    assert cli_main([*argv, "--home", str(seeds.home)]) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and words in err and "\n" not in err


def test_cli_syntax_error_names_the_file(seeds, tmp_path, capsys):
    f = tmp_path / "broken.cypher"
    f.write_text("MATCH (n:Review RETURN n;\n", encoding="utf-8")
    assert cli_main(["query", "file", str(f), "--embedded", "--home", str(seeds.home)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"Error: {f}:") and "\n" not in err


def test_cli_without_a_store(tmp_path, capsys):
    assert cli_main(["query", "run", "reviews-overview", "--embedded", "--home", str(tmp_path)]) == 1
    assert "run 'sgraph build" in capsys.readouterr().err


def test_help_has_examples(capsys):
    for argv in (["query", "--help"], ["query", "run", "--help"], ["query", "list", "--help"],
                 ["query", "file", "--help"], ["load", "--help"], ["doctor", "--help"]):
        assert cli_main(argv) == 0
        assert "Example: sgraph" in capsys.readouterr().out, argv


def test_library_is_read_from_its_folder(monkeypatch, tmp_path):
    folder = queries.library_dir()
    assert folder.joinpath("schema.cypher").is_file()
    names = [q.name for q in queries.list_queries()]
    copy = tmp_path / "cypher"
    shutil.copytree(ROOT / "cypher", copy)
    monkeypatch.setattr(queries, "library_dir", lambda: copy)
    monkeypatch.setattr(queries, "_cache", None)
    assert [q.name for q in queries.list_queries()] == names
    assert Path(queries.get_query("review-subgraph").path).resolve() == copy / "review-subgraph.cypher"


def test_the_engine_follows_neo4j_uri_unless_told(seeds, monkeypatch, capsys):
    """No flag: Neo4j when NEO4J_URI is set, else the embedded store; --embedded / --neo4j decide."""
    home = str(seeds.home)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    assert cli_main(["query", "run", "reviews-overview", "-f", "csv", "--home", home]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("000-d5bcbe7d1a8f4ecb,")
    # A configured server that is not there: chosen by default, so its error is reported ...
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", "not-used-here")
    monkeypatch.setenv("SGRAPH_NEO4J_TIMEOUT", "2")
    assert cli_main(["query", "run", "reviews-overview", "--home", home]) == 1
    assert capsys.readouterr().err == (
        "Error: Cannot reach Neo4j at bolt://127.0.0.1:9: is the server running and the address right?\n"
    )
    # ... and --embedded still reads the workspace's store.
    assert cli_main(["query", "run", "reviews-overview", "-f", "csv", "--embedded", "--home", home]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("000-d5bcbe7d1a8f4ecb,")
