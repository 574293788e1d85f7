"""Recurring learning (graph_model.recurring): SIMILAR_TO links, lessons, theme recurrence,
``sgraph insights`` and the board pack's section, on the seeds and on hand-made points.

The seeds' escalation lesson: the 2015 NSCB bulletin (000, point 3) and Serious Case Review
IN14 (2013, key learning 1) carry the same paragraph ("... the NSCB Resolving Professional
Differences (Escalation Procedure) should be used to involve Line Managers ..."); IN14's
recommendation "Familiarise yourself with the NSCB Resolving Professional Differences
(Escalation Procedure) ..." says it again, and the 2012 newsletter (002) says it in other
words: "agencies to reinforce the use of the conflict resolution policy ... this must be
addressed and escalated".
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import networkx as nx
import pytest

import graph_model.cli  # noqa: F401  (registers every command)
from graph_model import pipeline, recurring
from graph_model.commands import main as cli_main
from graph_model.recurring import SimilarPair, recurring_lessons, similar_learning_pairs, theme_recurrence

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
B000, B002 = "000-d5bcbe7d1a8f4ecb", "002-2b128cb0abd04d34"
ESCALATION = [f"{B000}/lp003", f"{B002}/lp006", "IN14/lp001", "IN14/lp006"]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    home = tmp_path_factory.mktemp("recurring-home")
    return pipeline.build([str(SEEDS)], home=home, jobs=1, embedded=False)


@pytest.fixture(scope="module")
def graph(seeds) -> nx.MultiDiGraph:
    return seeds.graph


def similar(graph: nx.MultiDiGraph) -> dict[tuple[str, str], float]:
    return {
        (graph.nodes[u]["id"], graph.nodes[v]["id"]): d["score"]
        for u, v, d in graph.edges(data=True)
        if d["type"] == "SIMILAR_TO"
    }


def text(graph: nx.MultiDiGraph, lp: str) -> str:
    return graph.nodes[f"LearningPoint:{lp}"]["text"]


# --------------------------------------------------------------------------- the seeds


def test_escalation_recurs_in_three_seeds_worded_differently_in_one(graph):
    lesson = recurring_lessons(graph)[0]
    assert lesson.points == ESCALATION
    assert lesson.reviews == [B000, B002, "IN14"]
    assert (lesson.first_year, lesson.last_year) == (2012, 2015)
    assert lesson.representative == f"{B000}/lp003"
    assert lesson.themes == [
        "Escalation and professional challenge", "Management oversight and supervision", "Neglect and assessment tools"
    ]
    # The 002 seed names no board ("the Local Safeguarding Children Board" of no place).
    assert lesson.boards == ["NSCB"]
    # The differently worded one: no "professional differences", no "procedure" of that name.
    other = text(graph, f"{B002}/lp006")
    assert "conflict resolution policy" in other and "escalated" in other
    assert "Professional Differences" not in other
    for lp in (f"{B000}/lp003", "IN14/lp001", "IN14/lp006"):
        assert "Resolving Professional Differences" in text(graph, lp)
    links = similar(graph)
    assert links[(f"{B000}/lp003", "IN14/lp001")] == 0.9708
    assert links[(f"{B000}/lp003", "IN14/lp006")] == 0.5407
    assert links[(f"{B000}/lp003", f"{B002}/lp006")] == 0.3613
    assert links[(f"{B002}/lp006", "IN14/lp006")] == 0.3568
    # The same review's two escalation points are never linked to each other.
    assert ("IN14/lp001", "IN14/lp006") not in links


def test_every_lesson_of_the_seeds(graph):
    got = [(le.points, le.first_year, le.last_year) for le in recurring_lessons(graph)]
    assert got == [
        (ESCALATION, 2012, 2015),
        ([f"{B000}/lp004", f"{B002}/lp010", "IN14/lp007"], 2012, 2015),  # the procedures' chapter on strategy discussions
        ([f"{B002}/lp001", "Child X/lp002"], 2012, 2016),  # information sharing
        ([f"{B002}/lp017", "Child X/lp005"], 2012, 2016),  # management oversight absent
        ([f"{B000}/lp006", "IN14/lp002"], 2013, 2015),  # communicate with other agencies
        ([f"{B000}/lp005", "Child X/lp036"], 2015, 2016),  # recording
        (["Child X/lp017", "SILR15b/lp001"], 2016, 2018),  # neglect tool
        (["Child X/lp013", "SILR15b/lp004", "SILR15b/lp009"], 2016, 2018),  # discharge
    ]
    assert recurring_lessons(graph, min_reviews=3)[1].points == [f"{B000}/lp004", f"{B002}/lp010", "IN14/lp007"]
    assert len(recurring_lessons(graph, min_reviews=3)) == 2


def test_unrelated_lessons_are_not_linked(graph):
    links = similar(graph)
    linked = {x for pair in links for x in pair}
    # Escalation of something else: to managers when a strategy meeting is not convened
    # (Child X), and as needs change (SILR15b): not the resolving-differences lesson.
    assert "Child X/lp038" not in linked and "SILR15b/lp008" not in linked
    assert "escalation" in text(graph, "Child X/lp038") and "escalation" in text(graph, "SILR15b/lp008")
    # Safer sleep (SILR15b), the police's vulnerable child form (002), weekends (002): alone.
    for lp in ("SILR15b/lp005", f"{B002}/lp009", f"{B002}/lp008"):
        assert lp not in linked, lp
    # No link joins two points of one review; every one runs from the lower id to the higher.
    for a, b in links:
        assert a < b
        assert a.split("/")[0] != b.split("/")[0]


def test_similar_to_relationships(graph):
    rels = [(u, v, k, d) for u, v, k, d in graph.edges(keys=True, data=True) if d["type"] == "SIMILAR_TO"]
    assert len(rels) == 13
    for u, v, k, d in rels:
        a, b = graph.nodes[u]["id"], graph.nodes[v]["id"]
        assert k == d["id"] == f"{a}/SIMILAR_TO/{b}"
        assert set(d) == {"type", "id", "score"}
        assert recurring.SIMILARITY_THRESHOLD <= d["score"] <= 1.0 and round(d["score"], 4) == d["score"]
    # Adding them again replaces them: the same 13.
    g = graph.copy()
    assert recurring.add_similar_to(g) == 13
    assert similar(g) == similar(graph)


def test_theme_recurrence(graph):
    rec = theme_recurrence(graph)
    assert rec["Escalation and professional challenge"] == {
        "reviews": 5,
        "by_year": {2012: 1, 2013: 1, 2015: 1, 2016: 1, 2018: 1},
        "by_board": {"Derbyshire Safeguarding Children Board": 1, "NSCB": 2, None: 2},
    }
    assert rec["Safe sleep"] == {"reviews": 1, "by_year": {2018: 1}, "by_board": {"Derbyshire Safeguarding Children Board": 1}}
    assert list(rec) == sorted(rec)


# --------------------------------------------------------------------------- hand-made points


HAND = [
    ("r1/lp1", "r1", "Practitioners should use the escalation policy when they disagree with a decision about a child."),
    ("r1/lp2", "r1", "Practitioners should use the escalation policy when they disagree with a decision."),
    ("r2/lp1", "r2", "When professionals disagree about a decision, the escalation procedure should be followed."),
    ("r2/lp2", "r2", "Records should be kept of every home visit and signed by the visiting practitioner."),
    ("r3/lp1", "r3", "Safer sleep advice must be given to parents at every contact."),
    ("r3/lp2", "r3", "Interpreters should be booked for parents who need them at meetings."),
    ("r4/lp1", "r4", "Parents should be given safer sleep advice at every contact with the family."),
    ("r4/lp2", "r4", "The school should check attendance every morning."),
]


def test_hand_made_pairs():
    assert similar_learning_pairs(HAND) == [
        SimilarPair("r1/lp1", "r2/lp1", 0.4809),
        SimilarPair("r1/lp2", "r2/lp1", 0.5299),
        SimilarPair("r3/lp1", "r4/lp1", 0.9213),
    ]
    # r1's two escalation points are nearly the same words (cosine 0.91) but in one review.
    # A higher threshold keeps only the safer sleep pair; order of input does not matter.
    assert similar_learning_pairs(list(reversed(HAND)), threshold=0.6) == [SimilarPair("r3/lp1", "r4/lp1", 0.9213)]
    assert similar_learning_pairs(HAND[:1]) == [] and similar_learning_pairs([]) == []


def test_each_point_keeps_its_nearest_neighbours_only():
    same = [(f"r{i}/lp1", f"r{i}", "Contingency planning must be part of every child protection plan.") for i in range(6)]
    pairs = similar_learning_pairs(same, max_neighbours=2)
    # Every point keeps its two lowest-id neighbours (all score 1.0); a pair stays when either keeps it.
    assert [(p.a, p.b) for p in pairs] == [
        ("r0/lp1", "r1/lp1"), ("r0/lp1", "r2/lp1"), ("r0/lp1", "r3/lp1"), ("r0/lp1", "r4/lp1"), ("r0/lp1", "r5/lp1"),
        ("r1/lp1", "r2/lp1"), ("r1/lp1", "r3/lp1"), ("r1/lp1", "r4/lp1"), ("r1/lp1", "r5/lp1"),
    ]
    assert {p.score for p in pairs} == {1.0}
    # Blocks of rows give the same pairs as one block.
    assert similar_learning_pairs(same, max_neighbours=2, block_rows=1) == pairs


def _pairs_by_definition(points, threshold, k):
    """similar_learning_pairs spelled out on the dense cosine matrix: each point's k best
    points of other reviews (score rounded to 4 decimals, then id), a pair when either keeps it."""

    items = sorted(recurring.LearningText(*p) for p in points)
    x = recurring.similarity_vectors([p.text for p in items]).toarray()
    sims = x @ x.T
    kept: dict[tuple[int, int], float] = {}
    crowded = 0
    for i in range(len(items)):
        cands = [
            (-min(round(float(sims[i, j]), 4), 1.0), j)
            for j in range(len(items))
            if items[j].review_id != items[i].review_id and sims[i, j] >= threshold - 1e-9
        ]
        crowded += len(cands) > k
        for negscore, j in sorted(cands)[:k]:
            a, b = min(i, j), max(i, j)
            kept[a, b] = max(kept.get((a, b), -1.0), -negscore)
    pairs = [SimilarPair(items[a].id, items[b].id, s) for (a, b), s in sorted(kept.items())]
    return pairs, crowded


def test_pairs_match_their_definition_with_many_ties(monkeypatch):
    # Short texts from a few words: many identical and near-identical points, many tied
    # scores, several points per review; every point has more candidates than it keeps.
    import random

    rnd = random.Random(7)
    words = ["escalation", "strategy", "meeting", "health", "visitor", "school", "neglect", "police", "referral"]
    points = [
        (f"r{i // 3:02d}/lp{i % 3}", f"r{i // 3:02d}", " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 4))))
        for i in range(150)
    ]
    for threshold, k in ((0.35, 2), (0.5, 5), (0.2, 1)):
        expected, crowded = _pairs_by_definition(points, threshold, k)
        assert crowded > 50 and len(expected) > 100
        for block_rows in (1, 7, 128):
            assert similar_learning_pairs(points, threshold=threshold, max_neighbours=k, block_rows=block_rows) == expected
        # One thread or several: the same pairs.
        monkeypatch.setattr(recurring, "SIMILARITY_THREADS", 1)
        assert similar_learning_pairs(points, threshold=threshold, max_neighbours=k, block_rows=16) == expected
        monkeypatch.undo()
        # Worker processes (a national corpus's way), several blocks to a task: the same pairs.
        monkeypatch.setattr(recurring, "SIMILARITY_PROCESSES_FROM", 0)
        monkeypatch.setattr(recurring, "SIMILARITY_THREADS", 2)
        monkeypatch.setattr(recurring.os, "cpu_count", lambda: 2)
        items = sorted(recurring.LearningText(*p) for p in points)
        with ProcessPoolExecutor(max_workers=2) as pool:
            found = list(recurring._similar_indices(items, threshold, k, block_rows=5, pool=pool))
        assert [SimilarPair(items[i].id, items[j].id, score) for i, j, score in found] == expected
        monkeypatch.undo()


def test_linking_in_lent_worker_processes_calls_meanwhile_once(monkeypatch):
    """The build lends its extraction workers to linking and starts its graph.json thread
    from ``meanwhile``: it runs exactly once, while the workers have the products, and the
    pairs are those found without them."""
    monkeypatch.setattr(recurring, "SIMILARITY_PROCESSES_FROM", 0)
    monkeypatch.setattr(recurring, "SIMILARITY_THREADS", 2)
    monkeypatch.setattr(recurring.os, "cpu_count", lambda: 2)
    points = [
        ("r1/lp1", "r1", "Escalation policy not used by the health visitor"),
        ("r2/lp1", "r2", "The escalation policy was not used by the health visitor"),
        ("r3/lp1", "r3", "Pre-birth assessment and discharge planning"),
    ]
    seen: list[int] = []
    alone = _hand_graph(points)
    assert recurring.add_similar_to(alone, block_rows=1, meanwhile=lambda: seen.append(0)) == 1 and seen == [0]
    lent = _hand_graph(points)
    with ProcessPoolExecutor(max_workers=2) as pool:
        calls = []
        real_map = pool.map
        monkeypatch.setattr(pool, "map", lambda fn, tasks: (calls.append(len(list(tasks))), real_map(fn, tasks))[1])
        n = recurring.add_similar_to(lent, block_rows=1, pool=pool, meanwhile=lambda: seen.append(len(calls)))
    assert n == 1 and seen == [0, 1] and calls == [3]  # one task a block here (3 rows, 1 row a block)
    assert sorted(lent.edges(data=True)) == sorted(alone.edges(data=True))


def _hand_graph(points: list[tuple[str, str, str]]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for pid, rid, txt in points:
        g.add_node(f"Review:{rid}", label="Review", id=rid, year=2010 + int(rid[1:]), board=f"Board {rid}")
        g.add_node(f"LearningPoint:{pid}", label="LearningPoint", id=pid, text=txt, review_id=rid)
    return g


def test_one_weak_link_does_not_chain_two_lessons():
    g = _hand_graph([
        ("r1/lp1", "r1", "Managers should review supervision records every month and sign them off."),
        ("r2/lp1", "r2", "Managers should review supervision records every month, and health visitors should weigh babies."),
        ("r3/lp1", "r3", "Health visitors should weigh babies at every visit and plot each weight on the growth chart."),
        ("r4/lp1", "r4", "Supervision records should be reviewed by managers each month and signed off."),
        ("r5/lp1", "r5", "Bruising in a baby who is not yet mobile must always be referred."),
    ])
    assert recurring.add_similar_to(g) == 4
    assert similar(g)[("r2/lp1", "r3/lp1")] == 0.3712  # r3 is linked to r2 ...
    lessons = recurring_lessons(g)
    # ... but on average it says something else than r1, r2 and r4 together: not in their lesson.
    assert [(le.points, le.reviews, le.first_year, le.last_year) for le in lessons] == [
        (["r1/lp1", "r2/lp1", "r4/lp1"], ["r1", "r2", "r4"], 2011, 2014)
    ]
    assert lessons[0].representative == "r1/lp1"  # stems: "reviewed ... signed off" = "review ... sign off"
    assert lessons[0].boards == ["Board r1", "Board r2", "Board r4"]


# --------------------------------------------------------------------------- insights and the board pack


def test_insights_command_json_text_md(seeds, capsys):
    home = str(seeds.home)
    assert cli_main(["insights", "--home", home, "--format", "json", "--limit", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["reviews"], data["similar_pairs"], data["recurring_lessons"]) == (5, 13, 8)
    assert [le["points"] for le in data["lessons"]] == [ESCALATION, [f"{B000}/lp004", f"{B002}/lp010", "IN14/lp007"]]
    assert data["lessons"][0]["review_count"] == 3 and data["years"] == [2012, 2013, 2015, 2016, 2018]
    assert data["themes"]["Escalation and professional challenge"]["by_year"] == {
        "2012": 1, "2013": 1, "2015": 1, "2016": 1, "2018": 1
    }
    assert cli_main(["insights", "--home", home, "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert f"   in 3 reviews, 2012\u20132015: {B000}, {B002}, IN14" in out
    assert out.splitlines()[2].startswith("1. Where disagreements exist between agencies")
    assert "\n2. " not in out
    assert cli_main(["insights", "--home", home, "--format", "md", "--limit", "1"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Recurring lessons\n")
    assert f"| 3: {B000}, {B002}, IN14 | 2012\u20132015 |" in md
    assert "| Escalation and professional challenge | 5 | 1 | 1 | 1 | 1 | 1 |" in md


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--format", "html"], "Unknown format 'html'"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--min-reviews", "1"], "--min-reviews must be at least 2"),
    ],
)
def test_insights_usage_errors(seeds, capsys, argv, words):
    assert cli_main(["insights", "--home", str(seeds.home), *argv]) == 2
    assert words in capsys.readouterr().err


def test_insights_help_and_empty_workspace(tmp_path, capsys):
    cli_main(["insights", "--help"])
    assert "Example: sgraph insights" in capsys.readouterr().out
    assert cli_main(["insights", "--home", str(tmp_path)]) == 1
    assert "no graph has been built here yet" in capsys.readouterr().err


def test_board_pack_section_escapes_review_text(graph, tmp_path):
    from graph_model.maps import write_report

    g = graph.copy()
    g.nodes[f"LearningPoint:{B000}/lp003"]["text"] += " Use the <b>escalation</b> procedure & <script>alert(1)</script>"
    out = write_report(g, tmp_path / "pack")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<h2>Recurring lessons (8)</h2>" in index
    assert "safeguard the child. Use the &lt;b&gt;escalation&lt;/b&gt; procedure &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "<script>" not in index
    assert '<a href="reviews/' in index.split("Recurring lessons (8)")[1].split("</table>")[0]
    assert "<h3>Themes by year</h3>" in index


# --------------------------------------------------------------------------- against the synthetic truth


def test_similarity_scored_against_the_synthetic_lesson_families(tmp_path):
    """Pinned on a small fixed corpus (12 short txt reviews, seed 3); the 200- and
    2,000-review figures are in BENCHMARKS.md (benchmarks/run.py)."""
    from graph_model.synth import generate_corpus, lesson_families, score_similarity

    truth = generate_corpus(tmp_path / "corpus", 12, seed=3, formats=("txt",), max_report_chars=6000)
    built = pipeline.build([str(truth.out_dir)], home=tmp_path / "home", jobs=1, embedded=False)
    families = lesson_families(built.records, truth)
    assert len(families) == sum(len(r.learning_points) for r in built.records) == 228
    assert sorted({f for f in families.values() if "/" not in f})[:3] == ["A1", "A2", "A3"]
    s = score_similarity(built.records, built.graph, truth)
    assert (s["points"], s["matched"], s["families"], s["true_pairs"]) == (228, 228, 114, 320)
    assert s["links"] == {"precision": 0.7455, "recall": 0.9062, "tp": 290, "fp": 99}
    assert s["narrative_links"] == 46
    assert s["lessons"] == {"count": 40, "precision": 0.6914, "recall": 0.9031, "tp": 289, "fp": 129}


def test_tokens_found_elsewhere_give_the_same_vectors():
    texts = [t for _i, _r, t in HAND] + ["", "the and of"]  # the last two have no tokens
    known = recurring.known_tokens(texts)
    assert known[HAND[0][2]].split(recurring.TOKEN_SEPARATOR) == recurring.similarity_tokens(HAND[0][2])
    assert known[""] == "" and known["the and of"] == ""
    plain = recurring.similarity_vectors(texts).toarray()
    assert (recurring.similarity_vectors(texts, tokens=known).toarray() == plain).all()
    # Texts missing from ``tokens`` are tokenised as usual; the tokens given are the ones used.
    some = {HAND[0][2]: known[HAND[3][2]]}
    x = recurring.similarity_vectors(texts, tokens=some).toarray()
    assert (x[0] == x[3]).all() and not (plain[0] == plain[3]).all()
    assert similar_learning_pairs(HAND, tokens=known) == similar_learning_pairs(HAND)


def test_links_name_their_nodes_by_the_graphs_own_strings():
    # Memory: the adjacency keeps the key strings add_edge is given; equal new strings per
    # link would cost two strings a link on a national corpus.
    g = _hand_graph(HAND)
    assert recurring.add_similar_to(g) == 3
    own = {n: n for n in g}
    assert all(v is own[v] for nbrs in g.succ.values() for v in nbrs)
    assert all(u is own[u] for nbrs in g.pred.values() for u in nbrs)
    scores = [d["score"] for _u, _v, d in g.edges(data=True)]
    assert scores == [0.4809, 0.5299, 0.9213]
