"""Totals kept in the graph: counts that the query library would otherwise make by walking
every link, missed opportunity or learning point of the corpus on every run.

They sit on their natural homes (docs/schema.md, "Totals"):

* ``Agency``: ``broken_links`` (broken COMMUNICATION at either end), ``broken_sent`` (as
  the sender), ``broken_reviews`` (reviews with one), ``missed_opportunities`` (MISSED_BY)
  and ``missed_reviews``;
* ``LINKED_WITH``, one relationship per pair of agencies joined by COMMUNICATION in either
  direction, from the name that sorts first to the other: ``broken``, ``effective`` and
  ``reviews`` (reviews with a link of the pair);
* ``Theme``: ``reviews`` (reviews that raise it), ``first_year`` and ``last_year`` (the
  first and last of their years; absent when none has a year);
* ``FamilyMember``: ``missed_opportunities`` (CONCERNS);
* ``LearningPoint``: ``best_score`` (its highest SIMILAR_TO score), ``best_links`` (how many
  of its SIMILAR_TO have it) and ``best_rank`` (its place among all points by that score,
  highest first, then by id); absent without a SIMILAR_TO;
* ``LearningKind``, one node per kind of learning point: how many points of the kind are
  addressed to all agencies, one, several or none, and in how many reviews.

:func:`add_totals` computes them from the complete networkx graph (the build calls it once
every review and SIMILAR_TO is in). The Neo4j loader replaces reviews in a database that
may hold others, so there ``cypher/totals/recount.cypher`` counts them again over the
whole database after every load; tests keep the two in agreement.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from .schema import TOTALS_REL_TYPES, node_id

# The LearningKind properties, by whom a point is addressed to (as recommendations-all-vs-one names it).
ADDRESSED_TO = (
    ("all agencies", "all_agencies"),
    ("one agency", "one_agency"),
    ("several agencies", "several_agencies"),
    ("no agency named", "no_agency"),
)
_ADDRESSED_PROP = dict(ADDRESSED_TO)


def addressed_to(point: dict) -> str:
    """'all agencies', 'one agency', 'several agencies' or 'no agency named' for a learning point."""
    n = point.get("addressees")
    if point.get("all_agencies"):
        return "all agencies"
    if n == 1:
        return "one agency"
    if n is not None and n > 1:
        return "several agencies"
    return "no agency named"


def linked_with_id(a: str, b: str) -> str:
    """The id of the LINKED_WITH relationship of agencies ``a`` and ``b`` (``a`` sorts first)."""
    return f"{a}/LINKED_WITH/{b}"


def add_totals(graph: nx.MultiDiGraph) -> None:
    """Compute every total from ``graph`` and write it into ``graph`` (the old ones go first)."""
    nodes = graph.nodes
    # The graph's own dicts walked directly (graph.edges(data=True) costs a generator step
    # and a tuple per relationship: two million of them on a national corpus, twice).
    succ = graph._succ
    old_rels = [
        (u, v, k)
        for u, nbrs in succ.items()
        for v, keyed in nbrs.items()
        for k, d in keyed.items()
        if d.get("type") in TOTALS_REL_TYPES
    ]
    graph.remove_edges_from(old_rels)
    graph.remove_nodes_from([n for n, d in nodes(data=True) if d.get("label") == "LearningKind"])

    broken = defaultdict(int)
    sent = defaultdict(int)
    broken_reviews: dict[str, set] = defaultdict(set)
    missed = defaultdict(int)
    missed_reviews: dict[str, set] = defaultdict(set)
    pairs: dict[tuple[str, str], dict] = {}
    concerns = defaultdict(int)
    best: dict[str, float] = {}
    best_links: dict[str, int] = {}
    raised_by: dict[str, set] = defaultdict(set)
    for u, v, d in ((u, v, d) for u, nbrs in succ.items() for v, keyed in nbrs.items() for d in keyed.values()):
        t = d.get("type")
        if t == "COMMUNICATION":
            status, rid = d.get("status"), d.get("review_id")
            s, e = nodes[u]["name"], nodes[v]["name"]
            a, b = (s, e) if s <= e else (e, s)
            pair = pairs.setdefault((a, b), {"broken": 0, "effective": 0, "reviews": set()})
            if status in ("broken", "effective"):
                pair[status] += 1
            if rid is not None:
                pair["reviews"].add(rid)
            if status == "broken":
                sent[u] += 1
                for end in (u, v):
                    broken[end] += 1
                    if rid is not None:
                        broken_reviews[end].add(rid)
        elif t == "MISSED_BY":
            missed[v] += 1
            if d.get("review_id") is not None:
                missed_reviews[v].add(d["review_id"])
        elif t == "CONCERNS":
            concerns[v] += 1
        elif t == "SIMILAR_TO":
            score = d["score"]
            for end in (u, v):
                if end not in best or score > best[end]:
                    best[end] = score
                    best_links[end] = 1
                elif score == best[end]:
                    best_links[end] += 1
        elif t == "RAISES" and nodes[u].get("label") == "Review":
            raised_by[v].add(u)

    kinds: dict[str, dict] = {}
    for n, d in nodes(data=True):
        label = d.get("label")
        if label == "Agency":
            d["broken_links"] = broken[n]
            d["broken_sent"] = sent[n]
            d["broken_reviews"] = len(broken_reviews[n])
            d["missed_opportunities"] = missed[n]
            d["missed_reviews"] = len(missed_reviews[n])
        elif label == "Theme":
            d["reviews"] = len(raised_by[n])
            years = [y for y in (nodes[r].get("year") for r in raised_by[n]) if y is not None]
            for prop, value in (("first_year", min(years, default=None)), ("last_year", max(years, default=None))):
                if value is None:
                    d.pop(prop, None)
                else:
                    d[prop] = value
        elif label == "FamilyMember":
            d["missed_opportunities"] = concerns[n]
        elif label == "LearningPoint":
            d.pop("best_rank", None)
            if n in best:
                d["best_score"] = best[n]
                d["best_links"] = best_links[n]
            else:
                d.pop("best_score", None)
                d.pop("best_links", None)
            if d.get("kind") is not None:
                kind = kinds.get(d["kind"])
                if kind is None:
                    kind = kinds[d["kind"]] = {prop: [0, set()] for _name, prop in ADDRESSED_TO}
                group = kind[_ADDRESSED_PROP[addressed_to(d)]]
                group[0] += 1
                if d.get("review_id") is not None:
                    group[1].add(d["review_id"])

    for rank, n in enumerate(sorted(best, key=lambda n: (-best[n], nodes[n]["id"])), start=1):
        nodes[n]["best_rank"] = rank
    for (a, b), pair in pairs.items():
        rid = linked_with_id(a, b)
        graph.add_edge(
            node_id("Agency", a),
            node_id("Agency", b),
            key=rid,
            type="LINKED_WITH",
            id=rid,
            broken=pair["broken"],
            effective=pair["effective"],
            reviews=len(pair["reviews"]),
        )
    for kind, groups in kinds.items():
        props = {}
        for prop, (points, reviews) in groups.items():
            props[prop] = points
            props[f"{prop}_reviews"] = len(reviews)
        graph.add_node(node_id("LearningKind", kind), label="LearningKind", name=kind, **props)
