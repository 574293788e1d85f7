"""Adding relationships to the in-memory graph in bulk (the build's totals, recurring
learning's similarity links): a plain function over networkx's adjacency dicts, shared by
:mod:`graph_model.build` and :mod:`graph_model.recurring` so that neither imports the other
for it."""

from __future__ import annotations


def put_edge(succ: dict, pred: dict, u: str, v: str, key: str, props: dict) -> None:
    """What ``add_edge(u, v, key=key, **props)`` does to a MultiDiGraph whose adjacency dicts
    are ``succ`` and ``pred`` (``g._succ``, ``g._pred``), when both ends are already in it:
    without add_edge's per-call checks (millions of relationships on a national corpus), and
    with ``props`` itself as the property dict of a new relationship. The caller clears
    networkx's cache (``nx._clear_cache``) after a run of them."""
    out = succ[u]
    keydict = out.get(v)
    if keydict is None:
        out[v] = pred[v][u] = {key: props}
    else:
        old = keydict.get(key)
        if old is None:
            keydict[key] = props
        else:
            old.update(props)
