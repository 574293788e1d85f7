"""Neo4j: the loader, read-back, the query library against a real server, and the errors.

Tests marked ``neo4j`` use the ``neo4j_backend`` fixture (tests/conftest.py): they are
skipped without NEO4J_URI and fail in CI without it. They delete and reload this project's
labels in that database. Start a throwaway server with::

    scripts/neo4j-dev-server start && eval "$(scripts/neo4j-dev-server env)"
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import threading
from pathlib import Path

import pytest
from test_totals import REWRITTEN, SYNTH, assert_same_as_counting

import graph_model.cli  # noqa: F401  (registers every command)
from graph_model import embedded, neo4j_store, pipeline, queries
from graph_model.build import graph_to_data
from graph_model.commands import main as cli_main
from graph_model.errors import DatabaseError, UsageError
from graph_model.schema import LABELS, TOTALS, TOTALS_LABELS, TOTALS_REL_TYPES
from graph_model.synth import generate_corpus
from graph_model.totals import add_totals

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
IN14_FILE = "001_58071196eda5a159.txt"
FIRST_FILE = "000_d5bcbe7d1a8f4ecb.txt"


class Boom(Exception):
    """Raised from the progress callback to simulate a load killed part-way."""


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return pipeline.build([str(SEEDS)], home=tmp_path_factory.mktemp("neo4j-seeds"), jobs=1)


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    """The seeds with IN14 (seeds/001) given one more key learning point."""
    folder = tmp_path_factory.mktemp("changed-seeds")
    for f in SEEDS.iterdir():
        shutil.copy(f, folder / f.name)
    path = folder / IN14_FILE
    text = path.read_text(encoding="utf-8")
    marker = "# **IMPROVING PRACTICE**"
    assert marker in text
    extra = (
        "- 5. The GP and Health Visiting must share information about the family with Children's Social Care "
        "when concerns about abuse are raised.\n\n"
    )
    path.write_text(text.replace(marker, extra + marker), encoding="utf-8")
    return pipeline.build([str(folder)], home=tmp_path_factory.mktemp("changed-home"), jobs=1)


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """The seeds without seeds/000."""
    folder = tmp_path_factory.mktemp("four-seeds")
    for f in SEEDS.iterdir():
        if f.name != FIRST_FILE:
            shutil.copy(f, folder / f.name)
    return pipeline.build([str(folder)], home=tmp_path_factory.mktemp("four-home"), jobs=1)


def dump(backend) -> dict:
    return graph_to_data(neo4j_store.read_graph(backend))


def element_ids(backend) -> dict[tuple[str, str], str]:
    """(label or type, key) → Neo4j element id, for every node and relationship of the project."""
    out = {}
    for label in LABELS:
        key = neo4j_store.NODE_TYPES[label].key
        for r in backend.run(f"MATCH (n:`{label}`) RETURN n.`{key}` AS k, elementId(n) AS e", {}):
            out[(label, r["k"])] = r["e"]
    for r in backend.run("MATCH ()-[x]->() WHERE x.review_id IS NOT NULL RETURN type(x) AS t, x.id AS k, elementId(x) AS e", {}):
        out[(r["t"], r["k"])] = r["e"]
    return out


def without_totals(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in TOTALS.get(item.get("label") or item.get("type"), ())}


def clean_load(backend, graph, **kw):
    return neo4j_store.load(graph, wipe=True, backend=backend, **kw)


def owner(item: dict) -> str | None:
    if item.get("label") == "Review":
        return item["id"]
    return item.get("review_id")


# --------------------------------------------------------------------------- the query library


@pytest.mark.neo4j
@pytest.mark.parametrize("name", [q.name for q in queries.list_queries()])
def test_every_query_gives_the_same_rows_as_embedded(neo4j_backend, seeds, name):
    neo4j_store.load(seeds.graph, prune=True, backend=neo4j_backend)  # exactly the seeds, whatever ran before
    q = queries.get_query(name)
    with embedded.EmbeddedBackend(seeds.home / pipeline.EMBEDDED_DIR) as emb:
        expected = queries.run_query(name, q.example_params(), emb)
    got = queries.run_query(name, q.example_params(), neo4j_backend)
    assert got.columns == expected.columns
    assert got == expected  # in order: every query ends with an ORDER BY that fixes it
    assert got  # the example parameters find something in the seeds


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    corpus = generate_corpus(tmp_path_factory.mktemp("neo4j-synth") / "corpus", **SYNTH)
    return pipeline.build([str(corpus.out_dir)], home=tmp_path_factory.mktemp("neo4j-synth-home"), jobs=1)


@pytest.mark.neo4j
@pytest.mark.parametrize("corpus", ["seeds", "synth"])
def test_rewritten_queries_give_the_counting_queries_rows_in_neo4j(neo4j_backend, request, corpus):
    """tests/test_totals.py's oracle, in Neo4j: each query that reads totals gives exactly the
    rows of the query that counted (tests/data/counting-queries), for every parameter set."""
    built = request.getfixturevalue(corpus)
    neo4j_store.load(built.graph, prune=True, backend=neo4j_backend)
    for name in REWRITTEN:
        assert_same_as_counting(neo4j_backend, name)


def strip_totals(backend) -> None:
    """Take every total out of the database (what the recount must put back)."""
    for where, props in TOTALS.items():
        if where in TOTALS_LABELS or where in TOTALS_REL_TYPES:
            continue
        removes = ", ".join(f"n.`{p}`" for p in props)
        backend.run(f"MATCH (n:`{where}`) REMOVE {removes}", {})
    for label in TOTALS_LABELS:
        backend.run(f"MATCH (n:`{label}`) DELETE n", {})
    for rtype in TOTALS_REL_TYPES:
        backend.run(f"MATCH ()-[r:`{rtype}`]->() DELETE r", {})


@pytest.mark.neo4j
@pytest.mark.parametrize("corpus", ["seeds", "synth"])
def test_cypher_recount_gives_the_python_totals(neo4j_backend, request, corpus):
    """cypher/totals/recount.cypher, run on a database holding the graph without its totals,
    puts back exactly the totals graph_model/totals.py computed at build."""
    built = request.getfixturevalue(corpus)
    clean_load(neo4j_backend, built.graph)
    strip_totals(neo4j_backend)
    assert dump(neo4j_backend) != graph_to_data(built.graph)
    neo4j_store.recount_totals(neo4j_backend)
    assert dump(neo4j_backend) == graph_to_data(built.graph)


def totals_of_the_database(backend) -> dict:
    """What graph_model/totals.py makes of the reviews the database holds."""
    g = neo4j_store.read_graph(backend)
    add_totals(g)
    return graph_to_data(g)


@pytest.mark.neo4j
def test_load_counts_the_totals_over_the_whole_database(neo4j_backend, seeds, four, changed):
    """A load of some reviews into a database holding others: the totals count them all,
    not only the loaded graph's."""
    clean_load(neo4j_backend, seeds.graph)
    assert neo4j_store.load(four.graph, backend=neo4j_backend).recounted  # seeds/000 stays
    held = dump(neo4j_backend)
    assert held == totals_of_the_database(neo4j_backend)
    # the loader wrote the four reviews' totals on the shared nodes; the recount made them
    # the five reviews' again
    shared = ("Agency", "Theme", "LearningKind")
    assert [n for n in held["nodes"] if n["label"] in shared] == [
        n for n in graph_to_data(seeds.graph)["nodes"] if n["label"] in shared
    ]
    assert [n for n in held["nodes"] if n["label"] in shared] != [
        n for n in graph_to_data(four.graph)["nodes"] if n["label"] in shared
    ]
    assert neo4j_store.load(changed.graph, backend=neo4j_backend).recounted  # IN14 changed, the rest kept
    assert dump(neo4j_backend) == totals_of_the_database(neo4j_backend) == graph_to_data(changed.graph)


@pytest.mark.neo4j
def test_neo4j_scheme_uri_works_too(neo4j_backend, seeds):
    cfg = neo4j_backend.config
    uri = cfg.uri.replace("bolt://", "neo4j://", 1) if cfg.uri.startswith("bolt://") else cfg.uri
    other = neo4j_store.Neo4jBackend(neo4j_store.Neo4jConfig(uri, cfg.username, cfg.password, cfg.database))
    try:
        assert other.run("RETURN 1 AS one", {}) == [{"one": 1}]
    finally:
        other.close()


# --------------------------------------------------------------------------- loading


@pytest.mark.neo4j
def test_read_graph_gives_back_the_built_graph(neo4j_backend, seeds):
    summary = clean_load(neo4j_backend, seeds.graph)
    assert summary.created == sorted(summary.created) and len(summary.created) == 5
    assert dump(neo4j_backend) == graph_to_data(seeds.graph)
    assert sum(summary.node_counts.values()) == seeds.graph.number_of_nodes()
    assert sum(summary.relationship_counts.values()) == seeds.graph.number_of_edges()


@pytest.mark.neo4j
def test_loading_twice_leaves_the_same_graph(neo4j_backend, seeds):
    first = clean_load(neo4j_backend, seeds.graph)
    before, ids = dump(neo4j_backend), element_ids(neo4j_backend)
    second = neo4j_store.load(seeds.graph, backend=neo4j_backend)
    assert (second.created, second.updated) == ([], [])
    assert second.skipped == sorted(first.created)
    assert second.relationships_written == 0
    assert (second.node_counts, second.relationship_counts) == (first.node_counts, first.relationship_counts)
    assert dump(neo4j_backend) == before
    assert element_ids(neo4j_backend) == ids  # nothing was rewritten


@pytest.mark.neo4j
def test_a_changed_review_is_the_only_one_rewritten(neo4j_backend, seeds, changed):
    clean_load(neo4j_backend, seeds.graph)
    before, ids_before = dump(neo4j_backend), element_ids(neo4j_backend)
    summary = neo4j_store.load(changed.graph, backend=neo4j_backend)
    assert (summary.created, summary.updated) == ([], ["IN14"])
    assert summary.skipped == ["000-d5bcbe7d1a8f4ecb", "002-2b128cb0abd04d34", "Child X", "SILR15b"]
    after, ids_after = dump(neo4j_backend), element_ids(neo4j_backend)
    assert after == graph_to_data(changed.graph)
    assert after != before

    def by_review(data, review):
        # less the totals, which count across reviews (a learning point's best SIMILAR_TO score)
        nodes = [without_totals(n) for n in data["nodes"] if owner(n) == review]
        rels = [r for r in data["relationships"] if r.get("review_id") == review]
        return nodes, rels

    for review in summary.skipped:
        assert by_review(after, review) == by_review(before, review), review
    assert by_review(after, "IN14") != by_review(before, "IN14")
    # the other reviews' nodes and relationships (and the shared nodes) are the very same
    # records as before, not rewritten copies
    untouched = {key: eid for key, eid in ids_before.items() if not str(key[1]).startswith("IN14")}
    assert {k: ids_after.get(k) for k in untouched} == untouched


@pytest.mark.neo4j
@pytest.mark.parametrize("kill_after", [1, 2, 4, 9, 15])
def test_a_killed_load_then_rerun_equals_a_clean_load(neo4j_backend, seeds, kill_after):
    clean_load(neo4j_backend, seeds.graph, batch_size=50)
    clean = dump(neo4j_backend)
    counts = neo4j_store.counts(neo4j_backend)
    neo4j_store.wipe_project(neo4j_backend)
    killer = _killed_after(kill_after)
    with pytest.raises(Boom):
        neo4j_store.load(seeds.graph, batch_size=50, progress=killer, backend=neo4j_backend)
    # nothing written so far counts as complete
    assert all(h is None for h in neo4j_store.stored_review_hashes(neo4j_backend).values())
    again = neo4j_store.load(seeds.graph, batch_size=50, backend=neo4j_backend)
    assert sorted(again.created + again.updated) == sorted(r["id"] for r in clean["nodes"] if r["label"] == "Review")
    assert dump(neo4j_backend) == clean
    assert neo4j_store.counts(neo4j_backend) == counts


def _killed_after(batches: int):
    """A load progress callback that raises Boom at the ``batches``-th batch."""
    calls = []

    def killer(done, total):
        calls.append(done)
        if len(calls) == batches:
            raise Boom

    return killer


@pytest.mark.neo4j
@pytest.mark.parametrize("kill_after", [1, 3])
def test_a_killed_update_then_rerun_equals_a_clean_load(neo4j_backend, seeds, changed, kill_after):
    clean_load(neo4j_backend, changed.graph)
    clean = dump(neo4j_backend)
    clean_load(neo4j_backend, seeds.graph)
    killer = _killed_after(kill_after)
    with pytest.raises(Boom):
        neo4j_store.load(changed.graph, batch_size=20, progress=killer, backend=neo4j_backend)
    neo4j_store.load(changed.graph, batch_size=20, backend=neo4j_backend)
    assert dump(neo4j_backend) == clean


@pytest.mark.neo4j
def test_wipe_deletes_only_this_projects_labels(neo4j_backend, seeds, capsys):
    clean_load(neo4j_backend, seeds.graph)
    clean = dump(neo4j_backend)
    neo4j_backend.run("CREATE (:SgraphTestOther {name: 'keep'})-[:SGRAPH_TEST_KNOWS]->(:SgraphTestOther {name: 'too'})", {})
    try:
        summary = neo4j_store.load(seeds.graph, wipe=True, backend=neo4j_backend)
        assert summary.wiped and len(summary.created) == 5
        assert dump(neo4j_backend) == clean
        assert neo4j_backend.run("MATCH (n:SgraphTestOther) RETURN count(n) AS n", {}) == [{"n": 2}]
        assert cli_main(["load", "--wipe", "--quiet", "--home", str(seeds.home)]) == 0
        err = capsys.readouterr().err
        assert "Wiped" in err and "5 review(s) created" in err
        assert dump(neo4j_backend) == clean
        neo4j_store.wipe_project(neo4j_backend)
        nodes, rels = neo4j_store.counts(neo4j_backend)
        assert set(nodes.values()) == {0} and set(rels.values()) == {0}
        assert neo4j_backend.run("MATCH (n:SgraphTestOther) RETURN count(n) AS n", {}) == [{"n": 2}]
    finally:
        neo4j_backend.run("MATCH (n:SgraphTestOther) DETACH DELETE n", {})


def similar_to_in_neo4j(backend) -> list[tuple[str, str, str, float]]:
    rows = backend.run(
        "MATCH (a:LearningPoint)-[s:SIMILAR_TO]->(b:LearningPoint) RETURN a.id AS a, b.id AS b, s.id AS id, s.score AS score",
        {},
    )
    return sorted((r["a"], r["b"], r["id"], r["score"]) for r in rows)


def similar_to_in_graph(graph) -> list[tuple[str, str, str, float]]:
    return sorted(
        (graph.nodes[u]["id"], graph.nodes[v]["id"], d["id"], d["score"])
        for u, v, d in graph.edges(data=True)
        if d["type"] == "SIMILAR_TO"
    )


@pytest.mark.neo4j
def test_similar_to_follows_a_changed_or_removed_review(neo4j_backend, seeds, changed, four):
    """SIMILAR_TO belongs to no review (no review_id): a load that changes any review
    rewrites all of them, so they are always the graph's, and one that changes nothing
    writes nothing."""
    clean_load(neo4j_backend, seeds.graph)
    assert similar_to_in_neo4j(neo4j_backend) == similar_to_in_graph(seeds.graph)
    assert len(similar_to_in_graph(seeds.graph)) == 13  # on the seeds as extracted since issue 17
    # IN14 changes: the scores of other reviews' pairs move with it (the corpus's word weights).
    assert similar_to_in_graph(changed.graph) != similar_to_in_graph(seeds.graph)
    assert neo4j_store.load(changed.graph, backend=neo4j_backend).updated == ["IN14"]
    assert similar_to_in_neo4j(neo4j_backend) == similar_to_in_graph(changed.graph)
    assert neo4j_store.load(seeds.graph, backend=neo4j_backend).updated == ["IN14"]
    assert similar_to_in_neo4j(neo4j_backend) == similar_to_in_graph(seeds.graph)
    # 000 is removed: its links go, and the others are the four reviews' own.
    neo4j_store.load(four.graph, prune=True, backend=neo4j_backend)
    assert similar_to_in_neo4j(neo4j_backend) == similar_to_in_graph(four.graph)
    assert not any(a.startswith("000-") for a, _b, _i, _s in similar_to_in_neo4j(neo4j_backend))
    again = neo4j_store.load(four.graph, backend=neo4j_backend)
    assert again.relationships_written == 0 and again.updated == []
    # One lost by hand is put back by the next load, though no review changed.
    neo4j_backend.run("MATCH ()-[s:SIMILAR_TO]->() WITH s ORDER BY s.id LIMIT 1 DELETE s", {})
    repaired = neo4j_store.load(four.graph, backend=neo4j_backend)
    assert repaired.updated == [] and repaired.relationships_written == len(similar_to_in_graph(four.graph))
    assert dump(neo4j_backend) == graph_to_data(four.graph)


@pytest.mark.neo4j
def test_absent_reviews_stay_unless_pruned(neo4j_backend, seeds, four):
    clean_load(neo4j_backend, seeds.graph)
    kept = neo4j_store.load(four.graph, backend=neo4j_backend)
    assert kept.pruned == [] and len(kept.skipped) == 4
    assert "000-d5bcbe7d1a8f4ecb" in neo4j_store.stored_review_hashes(neo4j_backend)
    pruned = neo4j_store.load(four.graph, prune=True, backend=neo4j_backend)
    assert pruned.pruned == ["000-d5bcbe7d1a8f4ecb"]
    # its own nodes are gone, and so are agencies and themes nothing else uses
    assert dump(neo4j_backend) == graph_to_data(four.graph)


@pytest.mark.neo4j
def test_cli_load_and_doctor(neo4j_backend, seeds, capsys):
    neo4j_store.wipe_project(neo4j_backend)
    assert cli_main(["load", "--quiet", "--batch-size", "100", "--home", str(seeds.home)]) == 0
    err = capsys.readouterr().err
    assert "5 review(s) created, 0 updated, 0 unchanged and skipped" in err
    assert cli_main(["load", "--quiet", "--home", str(seeds.home)]) == 0
    assert "0 review(s) created, 0 updated, 5 unchanged and skipped" in capsys.readouterr().err
    assert cli_main(["doctor"]) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Reachable:       yes" in text and "5.26" in text
    total = len(neo4j_store.required_constraints())
    assert f"Constraints:     {total} of {total} present" in text
    assert os.environ["NEO4J_PASSWORD"] not in text
    report = neo4j_store.doctor(neo4j_backend)
    assert report.ok and report.constraints_missing == [] and report.edition


@pytest.mark.neo4j
def test_load_speed_is_reported(neo4j_backend, seeds):
    summary = clean_load(neo4j_backend, seeds.graph)
    # Into an empty database every element is written, the totals' relationships too, and
    # the graph's totals are the database's: no recount.
    assert any(d["type"] in TOTALS_REL_TYPES for _u, _v, d in seeds.graph.edges(data=True))
    assert summary.elements_written == seeds.graph.number_of_nodes() + seeds.graph.number_of_edges()
    assert not summary.recounted
    assert dump(neo4j_backend) == graph_to_data(seeds.graph)
    assert summary.elements_per_second > 0


# --------------------------------------------------------------------------- errors (one sentence, no password)


def _one_sentence(capsys, secret: str | None = None) -> str:
    out = capsys.readouterr()
    err = out.err.strip()
    assert err.startswith("Error: "), err
    assert "\n" not in err and "Traceback" not in err
    if secret:
        assert secret not in out.out + out.err
    return err


@pytest.mark.neo4j
def test_wrong_password(neo4j_backend, seeds, monkeypatch, capsys):
    wrong = "wrong-" + os.environ["NEO4J_PASSWORD"][::-1] + "-x"
    monkeypatch.setenv("NEO4J_PASSWORD", wrong)
    assert cli_main(["query", "run", "reviews-overview", "--neo4j"]) == 1
    assert "refused the user name or password" in _one_sentence(capsys, wrong)
    assert cli_main(["load", "--quiet", "--home", str(seeds.home)]) == 1
    assert "refused the user name or password" in _one_sentence(capsys, wrong)
    assert cli_main(["doctor"]) == 1
    assert "refused the user name or password" in _one_sentence(capsys, wrong)


@pytest.mark.neo4j
def test_unknown_database(neo4j_backend, monkeypatch, capsys):
    monkeypatch.setenv("NEO4J_DATABASE", "sgraphnosuchdb")
    assert cli_main(["query", "run", "reviews-overview", "--neo4j"]) == 1
    err = _one_sentence(capsys, os.environ["NEO4J_PASSWORD"])
    assert "has no database called 'sgraphnosuchdb'" in err


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])
def test_server_down(monkeypatch, capsys, scheme):
    monkeypatch.setenv("NEO4J_URI", f"{scheme}://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-never-shown")
    assert cli_main(["query", "run", "reviews-overview", "--neo4j"]) == 1
    assert "Cannot reach Neo4j at" in _one_sentence(capsys, "s3cret-never-shown")


def test_server_that_never_answers_times_out(monkeypatch, capsys):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # accept, then say nothing
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{listener.getsockname()[1]}")
        monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
        monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-never-shown")
        monkeypatch.setenv("SGRAPH_NEO4J_TIMEOUT", "1")
        assert cli_main(["query", "run", "reviews-overview", "--neo4j"]) == 1
        assert "did not answer within 1 seconds" in _one_sentence(capsys, "s3cret-never-shown")
    finally:
        stop.set()
        thread.join()
        for c in held:
            c.close()
        listener.close()


@pytest.mark.neo4j
def test_syntax_error_names_the_file(neo4j_backend, tmp_path, capsys):
    f = tmp_path / "typo.cypher"
    f.write_text("// name: typo\nMATCH (r:Review RETURN r.id AS id;\n", encoding="utf-8")
    assert cli_main(["query", "file", str(f), "--neo4j"]) == 1
    err = _one_sentence(capsys, os.environ["NEO4J_PASSWORD"])
    assert err.startswith(f"Error: {f}: Neo4j rejected the Cypher as invalid")


@pytest.mark.neo4j
def test_missing_parameter(neo4j_backend, tmp_path, capsys):
    assert cli_main(["query", "run", "agency-learning", "--neo4j"]) == 2
    assert "needs parameter 'agency'" in _one_sentence(capsys, os.environ["NEO4J_PASSWORD"])
    f = tmp_path / "p.cypher"
    f.write_text("MATCH (r:Review {id: $review}) RETURN r.year AS year\n", encoding="utf-8")
    assert cli_main(["query", "file", str(f), "--neo4j"]) == 2
    assert "needs parameter 'review'" in _one_sentence(capsys)
    # and if a parameter still reaches the server unset, Neo4j's refusal is one sentence too
    with pytest.raises(DatabaseError, match="parameter the query uses was not given"):
        neo4j_backend.run("RETURN $nothing AS x", {}, source="p.cypher")


@pytest.mark.neo4j
def test_errors_inside_queries_api(neo4j_backend):
    with pytest.raises(UsageError, match="Did you mean"):
        queries.run_query("reviews-overveiw", {}, neo4j_backend)
    with pytest.raises(UsageError, match="must be a whole number"):
        queries.run_query("recurring-themes", {"min_reviews": "many"}, neo4j_backend)


# --------------------------------------------------------------------------- settings


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    for var in neo4j_store.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path / ".config" / "sgraph" / "neo4j.env"


def test_settings_file_must_be_private(no_env, capsys):
    no_env.parent.mkdir(parents=True)
    no_env.write_text("NEO4J_URI=bolt://127.0.0.1:7687\nNEO4J_USERNAME=neo4j\nNEO4J_PASSWORD=filepw-123\n")
    no_env.chmod(0o644)
    with pytest.raises(DatabaseError, match="chmod 600"):
        neo4j_store.load_config()
    assert cli_main(["query", "run", "reviews-overview", "--neo4j"]) == 1
    assert "mode 0644" in _one_sentence(capsys, "filepw-123")
    no_env.chmod(0o600)
    cfg = neo4j_store.load_config()
    assert (cfg.uri, cfg.username, cfg.password, cfg.database) == ("bolt://127.0.0.1:7687", "neo4j", "filepw-123", None)
    assert cfg.source == str(no_env)
    assert "filepw-123" not in repr(cfg)
    assert stat.S_IMODE(no_env.stat().st_mode) == 0o600


def test_environment_wins_over_the_file(no_env, monkeypatch):
    no_env.parent.mkdir(parents=True)
    no_env.write_text("export NEO4J_URI='neo4j://file:7687'\nNEO4J_PASSWORD=\"frompw\"\nNEO4J_DATABASE=filedb\n")
    no_env.chmod(0o600)
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://env.example:7687")
    cfg = neo4j_store.load_config()
    assert (cfg.uri, cfg.password, cfg.database, cfg.username) == ("neo4j+s://env.example:7687", "frompw", "filedb", "neo4j")


def test_missing_or_bad_settings(no_env, monkeypatch):
    with pytest.raises(DatabaseError, match="Neo4j is not configured"):
        neo4j_store.load_config()
    monkeypatch.setenv("NEO4J_URI", "http://localhost:7474")
    with pytest.raises(DatabaseError, match="is not a Neo4j address"):
        neo4j_store.load_config()
    for uri in ("bolt://h:7687", "neo4j://h", "neo4j+s://h.databases.neo4j.io", "bolt+ssc://h"):
        monkeypatch.setenv("NEO4J_URI", uri)
        assert neo4j_store.load_config().uri == uri


def test_safe_uri_hides_credentials():
    assert neo4j_store.safe_uri("neo4j://bob:pw123@host:7687/x") == "neo4j://host:7687/x"
    assert neo4j_store.safe_uri("bolt://host:7687") == "bolt://host:7687"
