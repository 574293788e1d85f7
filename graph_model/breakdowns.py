"""Where communication between agencies broke down most: the agency pairs ranked by broken links.

:func:`broken_pairs` is a plain function over the networkx graph the build makes (one
``COMMUNICATION`` edge per link, with ``status``, ``directed``, ``quote`` and ``review_id``), so
the board pack, the maps and the exports all rank the same way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx


@dataclass
class PairBreakdown:
    """One agency pair: ``a`` and ``b`` are the agencies' names (``a`` sorts first), ``node_a`` and
    ``node_b`` their graph nodes; broken links split by direction (``a_to_b``, ``b_to_a``, and
    ``undirected`` for "between A and B" links); the pair's effective links; the reviews with a
    broken link (newest first) and their first and last year; one quote of a broken link (from
    the newest review) and its review id; ``by_year``: broken links per review year (reviews
    of unknown year left out), oldest first."""

    a: str
    b: str
    node_a: str
    node_b: str
    a_to_b: int = 0
    b_to_a: int = 0
    undirected: int = 0
    effective: int = 0
    reviews: list[str] = field(default_factory=list)
    first_year: int | None = None
    last_year: int | None = None
    quote: str = ""
    quote_review: str = ""
    by_year: dict[int, int] = field(default_factory=dict)

    @property
    def broken(self) -> int:
        return self.a_to_b + self.b_to_a + self.undirected

    @property
    def links(self) -> int:
        return self.broken + self.effective

    @property
    def share_broken(self) -> float:
        """Broken links as a share of all the pair's links (0 to 1)."""
        return self.broken / self.links if self.links else 0.0


def _year(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def broken_pairs(graph: nx.MultiDiGraph, agency: str | None = None) -> list[PairBreakdown]:
    """The agency pairs with at least one broken link, most broken links first (then most
    reviews, then names). ``agency`` (a name) keeps only the pairs it is part of.

    Each pair counts every link of both directions, broken and effective, across all reviews.
    """
    review_year: dict[str, int | None] = {}
    agencies = []
    for n, label in graph.nodes(data="label"):
        if label == "Review":
            d = graph.nodes[n]
            review_year[str(d.get("id"))] = _year(d.get("year"))
        elif label == "Agency":
            agencies.append(n)

    def name(n: str) -> str:
        return str(graph.nodes[n].get("name") or str(n).split(":", 1)[-1])

    def newest(rid: str) -> tuple[int, str]:
        y = review_year.get(rid)
        return (-(y if y is not None else -10**6), rid)

    pairs: dict[tuple[str, str], PairBreakdown] = {}
    quotes: dict[tuple[str, str], list[tuple[tuple[int, str], str, str]]] = defaultdict(list)
    reviews: dict[tuple[str, str], set[str]] = defaultdict(set)
    # A communication link runs from an agency to an agency: only agencies' out-edges can be one.
    for u, v, d in graph.out_edges(agencies, data=True):
        if d.get("type") != "COMMUNICATION" or u == v:
            continue
        nu, nv = name(u), name(v)
        if agency is not None and agency not in (nu, nv):
            continue
        (na, a), (nb, b) = sorted(((nu, u), (nv, v)))
        key = (a, b)
        p = pairs.get(key)
        if p is None:
            p = pairs[key] = PairBreakdown(a=na, b=nb, node_a=a, node_b=b)
        if str(d.get("status") or "broken") != "broken":
            p.effective += 1
            continue
        if not d.get("directed", True):
            p.undirected += 1
        elif u == a:
            p.a_to_b += 1
        else:
            p.b_to_a += 1
        rid = str(d.get("review_id") or "")
        reviews[key].add(rid)
        if review_year.get(rid) is not None:
            p.by_year[review_year[rid]] = p.by_year.get(review_year[rid], 0) + 1
        quotes[key].append((newest(rid), str(d.get("id") or ""), str(d.get("quote") or "")))
    out = []
    for key, p in pairs.items():
        if not p.broken:
            continue
        p.reviews = sorted(reviews[key], key=newest)
        years = [y for y in (review_year.get(r) for r in p.reviews) if y is not None]
        if years:
            p.first_year, p.last_year = min(years), max(years)
        (_k, rid), _id, p.quote = min(quotes[key], key=lambda q: (not q[2], q))
        p.quote_review = rid
        p.by_year = dict(sorted(p.by_year.items()))
        out.append(p)
    out.sort(key=lambda p: (-p.broken, -len(p.reviews), p.a, p.b))
    return out
