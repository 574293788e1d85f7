"""Recurring learning: learning points that say the same thing in different reviews.

Plain functions over the graph (networkx style: each name says what it returns):

* :func:`similar_learning_pairs` - pairs of learning points from *different* reviews whose
  TF-IDF cosine similarity reaches the threshold (each point keeps its
  ``MAX_NEIGHBOURS`` nearest such neighbours);
* :func:`add_similar_to` - those pairs as ``SIMILAR_TO`` relationships in the graph
  (``build`` calls it once every review is in);
* :func:`recurring_lessons` - clusters of similar learning points (group-average linkage,
  so that one weak pair cannot chain two unrelated lessons together), with the reviews
  they recur in, the first and last year and their shared themes;
* :func:`theme_recurrence` - for each theme, how many reviews raise it, by year and by board;
* :func:`insights` - the lessons and the theme recurrence together, for ``sgraph insights``
  and the board pack.

How a learning point becomes a vector (docs/recurring.md says why): its text in lower
case, split into words, English stop words dropped, each word reduced to its stem
(Snowball), plus one *concept* token for every phrase of the taxonomy's themes found in it
(so "conflict resolution policy" and "Resolving Professional Differences procedure" share
the token of the theme "Escalation and professional challenge"), weighted
``CONCEPT_WEIGHT``; TF-IDF with sublinear term frequency, rows scaled to unit length so that
a dot product is the cosine. The similarity of all points with all points is computed as
sparse matrix products, ``BLOCK_ROWS`` rows at a time: never a dense n x n matrix.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import networkx as nx

from .edges import put_edge
from .errors import SgraphError
from .taxonomy import Taxonomy, load_taxonomy
from .text import markdown_inline, shorten

# Tuned on the synthetic corpus's paraphrase families (BENCHMARKS.md, docs/recurring.md).
SIMILARITY_THRESHOLD = 0.35  # a SIMILAR_TO link needs at least this cosine
CLUSTER_THRESHOLD = 0.30  # two groups merge into one lesson when their average cosine reaches this
MAX_NEIGHBOURS = 10  # links kept per learning point (its nearest ones): bounds the links on a national corpus
CONCEPT_WEIGHT = 1.5  # weight of a taxonomy concept token against a word
# On a large corpus the commonest tokens ("child", "practitioner", a theme every review
# raises) join almost every pair of points and make the all-pairs product nearly dense
# (n^2): a token found in more than max(FREQUENT_TOKEN_MIN, FREQUENT_TOKEN_SHARE * n)
# learning points is left out of the vectors (its weight, log(1 + 1/share) + 1, is the
# lowest there is). Up to 2,000 learning points every token is kept; the cap is 2,000
# points up to 40,000 points (about 900 reviews), then 5%.
FREQUENT_TOKEN_SHARE = 0.05
FREQUENT_TOKEN_MIN = 2000
BLOCK_ROWS = 128  # rows of the similarity matrix computed at a time (a block of 128 x 92,000 stays small)
SIMILARITY_THREADS = 4  # at most this many blocks computed at once (one per core)
# From this many learning points (a few hundred reviews), and when the caller lends worker
# processes (the build lends its extraction workers, idle by then: ``pool`` below), the
# blocks are computed there instead of in threads: the build's main process encodes
# graph.json meanwhile, and in threads the blocks' many small numpy steps queue for the
# interpreter lock behind it. Below it, sending the matrices costs more than it saves.
SIMILARITY_PROCESSES_FROM = 20_000
SIMILARITY_TASKS = 12  # tasks the blocks are shared out in (each carries the two matrices, a few MB)

CONCEPT_PREFIX = "\u00a7"  # concept tokens: "§Escalation and professional challenge"
TOKEN_SEPARATOR = "\x1f"  # between the tokens of a text in :func:`known_tokens`
_WORD = re.compile(r"[a-z][a-z0-9]+")


class LearningText(NamedTuple):
    """One learning point as similarity sees it."""

    id: str
    review_id: str
    text: str


class SimilarPair(NamedTuple):
    """Two learning points of different reviews that say the same thing; ``a < b``."""

    a: str
    b: str
    score: float


def similar_to_id(a: str, b: str) -> str:
    """The id of the SIMILAR_TO relationship between ``a`` and ``b`` (lower id first)."""
    a, b = sorted((a, b))
    return f"{a}/SIMILAR_TO/{b}"


# --------------------------------------------------------------------------- vectors


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def similarity_tokens(text: str, taxonomy: Taxonomy | None = None) -> list[str]:
    """The tokens a learning point's text is compared by: stemmed words (stop words
    dropped) and a concept token for each taxonomy theme phrase found in it."""
    tax = taxonomy or load_taxonomy()
    stop = _stop_words()
    tokens = [_stem(w) for w in _WORD.findall(text.lower()) if w not in stop]
    tokens += [CONCEPT_PREFIX + m.name for m in tax.theme_matcher.find(text)]
    return tokens


def known_tokens(texts: Iterable[str], taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """The :func:`similarity_tokens` of ``texts``, each text's joined by ``TOKEN_SEPARATOR``:
    worked out where the texts are extracted (the build's worker processes) and handed to
    :func:`similarity_vectors` as ``tokens``, so that the main process only weighs them.
    A text whose tokens would hold the separator is left out (its tokens are found again)."""
    tax = taxonomy or load_taxonomy()
    out = {}
    for text in texts:
        if text not in out:
            tokens = similarity_tokens(text, tax)
            if not any(TOKEN_SEPARATOR in t for t in tokens):
                out[text] = TOKEN_SEPARATOR.join(tokens)
    return out


def similarity_vectors(
    texts: Sequence[str], taxonomy: Taxonomy | None = None, tokens: Mapping[str, str] | None = None
) -> Any:
    """The TF-IDF vectors of ``texts`` (a scipy CSR matrix, one unit-length row per text).

    ``tokens``: texts' tokens already known (:func:`known_tokens`, made with the same
    taxonomy); the others are found here."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    tax = taxonomy or load_taxonomy()
    cap = max(FREQUENT_TOKEN_MIN, int(FREQUENT_TOKEN_SHARE * len(texts)))
    known = tokens or {}

    def analyzer(text: str) -> list[str]:
        joined = known.get(text)
        if joined is None:
            return similarity_tokens(text, tax)
        return joined.split(TOKEN_SEPARATOR) if joined else []

    vectorizer = TfidfVectorizer(
        analyzer=analyzer,
        sublinear_tf=True,
        dtype=np.float64,
        max_df=cap if len(texts) > cap else 1.0,
    )
    if not texts:
        return sp.csr_matrix((0, 0))
    try:
        x = vectorizer.fit_transform(texts)
    except ValueError:  # no text has a single token
        return sp.csr_matrix((len(texts), 0))
    names = vectorizer.get_feature_names_out()
    weights = np.array([CONCEPT_WEIGHT if n.startswith(CONCEPT_PREFIX) else 1.0 for n in names])
    return normalize(x @ sp.diags(weights), copy=False).tocsr()


# --------------------------------------------------------------------------- pairs


def learning_texts(graph: nx.MultiDiGraph) -> list[LearningText]:
    """Every learning point of the graph as (id, review id, text), in id order."""
    out = [
        LearningText(d["id"], d.get("review_id") or "", d.get("text") or "")
        for _n, d in graph.nodes(data=True)
        if d.get("label") == "LearningPoint"
    ]
    return sorted(out)


def _block_neighbours(
    x: Any, xt: Any, start: int, stop: int, review_of: Any, threshold: float, max_neighbours: int
) -> tuple[Any, Any, Any] | None:
    """The pairs rows ``start:stop`` of ``x`` keep: for each row, its ``max_neighbours``
    best columns of other reviews with a score of at least ``threshold`` (best score first,
    then the lower column), as (lower index, higher index, score rounded to 4 decimals)."""
    import numpy as np

    block = (x[start:stop] @ xt).tocsr()  # sparse: only pairs sharing a token
    # Most entries are below the threshold: find the others first, and look only at them.
    hit = np.flatnonzero(block.data >= threshold - 1e-9)
    if not len(hit):
        return None
    rows = np.searchsorted(block.indptr, hit, side="right") - 1  # row in the block
    cols = block.indices[hit]
    other = review_of[cols] != review_of[rows + start]
    rows, cols, scores = rows[other], cols[other], np.minimum(np.round(block.data[hit[other]], 4), 1.0)
    del block, hit, other
    if not len(rows):
        return None
    nrows = stop - start
    if len(rows) > max_neighbours * nrows:
        # Before sorting, drop what cannot be among a row's first ``max_neighbours``: with
        # scores on a grid of 10,000 levels (4 decimals), count each row's entries per level
        # and keep those at least as good as the level where the count reaches
        # ``max_neighbours`` (every entry scoring at least the k-th best one).
        level = np.clip(10_000 - np.rint(scores * 10_000).astype(np.int64), 0, 10_000)  # 0 = score 1.0
        levels = int(level.max()) + 1
        counts = np.bincount(rows * levels + level, minlength=nrows * levels).reshape(nrows, levels)
        reached = np.cumsum(counts, axis=1) >= max_neighbours
        cut = np.where(reached[:, -1], np.argmax(reached, axis=1), levels - 1)
        keep = level <= cut[rows]
        rows, cols, scores = rows[keep], cols[keep], scores[keep]
    rows = rows + start
    # Per row: best score first, then the lower column (id order) - keep the first k.
    order = np.lexsort((cols, -scores, rows))
    rows, cols, scores = rows[order], cols[order], scores[order]
    first = np.searchsorted(rows, rows, side="left")
    keep = (np.arange(len(rows)) - first) < max_neighbours
    rows, cols = rows[keep], cols[keep]
    return np.minimum(rows, cols), np.maximum(rows, cols), scores[keep]


def _blocks_task(task: tuple[Any, Any, Any, float, int, int, int, int]) -> list[tuple[Any, Any, Any]]:
    """The :func:`_block_neighbours` of the blocks of ``block_rows`` rows from ``first`` to
    ``stop`` (in a thread or a worker process), for ``task`` = (x, xt, review_of,
    threshold, max_neighbours, first, stop, block_rows)."""
    x, xt, review_of, threshold, k, first, stop, rows = task
    found = (_block_neighbours(x, xt, s, min(s + rows, stop), review_of, threshold, k) for s in range(first, stop, rows))
    return [f for f in found if f is not None]


def similar_learning_pairs(
    points: nx.MultiDiGraph | Iterable[LearningText | tuple[str, str, str]],
    threshold: float = SIMILARITY_THRESHOLD,
    max_neighbours: int = MAX_NEIGHBOURS,
    taxonomy: Taxonomy | None = None,
    block_rows: int = BLOCK_ROWS,
    tokens: Mapping[str, str] | None = None,
) -> list[SimilarPair]:
    """Pairs of learning points from different reviews with cosine >= ``threshold``.

    ``points`` is a graph or (id, review id, text) triples. Each point keeps at most its
    ``max_neighbours`` most similar points of other reviews (ties broken by id); a pair is
    returned when either of its points keeps it. Scores are rounded to 4 decimals; pairs
    come sorted by (a, b) with ``a < b``. ``tokens``: see :func:`similarity_vectors`.
    """
    items = learning_texts(points) if isinstance(points, nx.MultiDiGraph) else sorted(LearningText(*p) for p in points)
    ids = [p.id for p in items]
    return [
        SimilarPair(ids[i], ids[j], s)
        for i, j, s in _similar_indices(items, threshold, max_neighbours, taxonomy, block_rows, tokens)
    ]


def _similar_indices(
    items: Sequence[LearningText],
    threshold: float = SIMILARITY_THRESHOLD,
    max_neighbours: int = MAX_NEIGHBOURS,
    taxonomy: Taxonomy | None = None,
    block_rows: int = BLOCK_ROWS,
    tokens: Mapping[str, str] | None = None,
    meanwhile: Callable[[], object] | None = None,
    pool: Executor | None = None,
) -> Iterator[tuple[int, int, float]]:
    """:func:`similar_learning_pairs` of ``items`` (in id order) as (index, index, score),
    produced a few thousand at a time (a national corpus's 700,000 pairs are never one list
    of Python objects). ``meanwhile`` is called once, when the products have started.
    ``pool``: worker processes to compute the products in (see SIMILARITY_PROCESSES_FROM)."""
    import numpy as np

    n = len(items)
    if n < 2:
        if meanwhile is not None:
            meanwhile()
        return
    x = similarity_vectors([p.text for p in items], taxonomy, tokens)
    if x.shape[1] == 0:
        if meanwhile is not None:
            meanwhile()
        return
    review_codes = {r: i for i, r in enumerate(sorted({p.review_id for p in items}))}
    review_of = np.array([review_codes[p.review_id] for p in items], dtype=np.int64)
    xt = x.T.tocsr()
    # Blocks are independent; results are taken in block order. scipy's sparse product
    # and numpy's array operations release the GIL, so threads use every core while
    # nothing else in the process wants the interpreter; worker processes, from
    # SIMILARITY_PROCESSES_FROM rows, also while it does. A task is one block in threads,
    # and whole blocks, a SIMILARITY_TASKS-th of the rows, in processes (each task carries
    # the matrices there).
    threads = min(os.cpu_count() or 1, SIMILARITY_THREADS, -(-n // block_rows))
    in_processes = pool is not None and threads > 1 and n >= SIMILARITY_PROCESSES_FROM
    step = -(-n // (SIMILARITY_TASKS * block_rows)) * block_rows if in_processes else block_rows
    tasks = [(x, xt, review_of, threshold, max_neighbours, first, min(first + step, n), block_rows)
             for first in range(0, n, step)]
    threaded = ThreadPoolExecutor(max_workers=threads) if threads > 1 and not in_processes else None
    executor = pool if in_processes else threaded
    parts = executor.map(_blocks_task, tasks) if executor is not None else map(_blocks_task, tasks)
    if meanwhile is not None:
        meanwhile()
    try:
        found = [f for part in parts for f in part]
    except BrokenProcessPool:
        raise SgraphError("a worker process stopped unexpectedly (out of memory?); try again with --jobs 1.") from None
    finally:
        if threaded is not None:
            threaded.shutdown()
    if not found:
        return
    lo, hi, score = (np.concatenate(parts) for parts in zip(*found, strict=True))
    del found
    # A pair kept from both sides appears twice (with the same score, up to rounding): once,
    # with the higher score; in (lower id, higher id) order, which is index order.
    order = np.lexsort((-score, hi, lo))
    lo, hi, score = lo[order], hi[order], score[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, score = lo[first], hi[first], score[first]
    floats: dict[float, float] = {}  # one float object per score (there are at most 10,001)
    for start in range(0, len(lo), 10_000):
        stop = start + 10_000
        scores = [floats.setdefault(s, s) for s in score[start:stop].tolist()]
        yield from zip(lo[start:stop].tolist(), hi[start:stop].tolist(), scores, strict=True)


def add_similar_to(
    graph: nx.MultiDiGraph,
    pairs: Iterable[SimilarPair] | None = None,
    meanwhile: Callable[[], object] | None = None,
    **options: Any,
) -> int:
    """Add ``SIMILAR_TO {id, score}`` relationships (lower id -> higher id) for ``pairs``
    (default: :func:`similar_learning_pairs` of the graph, with ``options``, which may
    include ``pool``, worker processes to find them in); old ones go first. Returns how
    many were added. ``meanwhile``: called once while the pairs are being found (it may
    start a thread that reads the graph's other nodes)."""
    old = [
        (u, v, k)
        for u, nbrs in graph._succ.items()
        for v, keyed in nbrs.items()
        for k, d in keyed.items()
        if d.get("type") == "SIMILAR_TO"
    ]
    graph.remove_edges_from(old)
    if pairs is None:
        items = learning_texts(graph)
        ids = [p.id for p in items]
        pairs = (SimilarPair(ids[i], ids[j], s) for i, j, s in _similar_indices(items, meanwhile=meanwhile, **options))
    elif meanwhile is not None:
        meanwhile()
    # Each relationship names its nodes by the graph's own key strings, not by equal new
    # ones (the graph's adjacency keeps the strings it is given: 700,000 links, twice each).
    node_key = {n: n for n in graph if isinstance(n, str) and n.startswith("LearningPoint:")}
    # What add_edge does, without its per-call checks (700,000 links on a national corpus):
    # both ends are learning points already in the graph; anything else goes through add_edge.
    succ, pred = graph._succ, graph._pred
    n = 0
    for p in pairs:
        rid = similar_to_id(p.a, p.b)
        a, b = f"LearningPoint:{p.a}", f"LearningPoint:{p.b}"
        a, b = node_key.get(a, a), node_key.get(b, b)
        props = {"type": "SIMILAR_TO", "id": rid, "score": p.score}
        if a in succ and b in succ:
            put_edge(succ, pred, a, b, rid, props)
        else:
            graph.add_edge(a, b, key=rid, **props)
        n += 1
    nx._clear_cache(graph)
    return n


# --------------------------------------------------------------------------- lessons


@dataclass
class RecurringLesson:
    """Learning points of several reviews that say the same thing."""

    representative: str  # id of the point most similar to the rest of the lesson
    text: str  # its wording
    points: list[str]  # learning point ids, in id order
    reviews: list[str]  # review ids, in id order
    first_year: int | None
    last_year: int | None
    themes: list[str]  # themes at least half of its points are about, by count then name
    boards: list[str] = field(default_factory=list)
    cohesion: float = 0.0  # the average cosine of the lesson's points with one another

    def as_json(self) -> dict:
        return {
            "representative": self.representative,
            "text": self.text,
            "reviews": self.reviews,
            "review_count": len(self.reviews),
            "first_year": self.first_year,
            "last_year": self.last_year,
            "themes": self.themes,
            "boards": self.boards,
            "points": self.points,
            "cohesion": self.cohesion,
        }


def _clusters(x: Any, edges: Sequence[tuple[int, int]], threshold: float) -> list[list[int]]:
    """Group-average agglomerative clustering of the rows of ``x`` (unit vectors).

    The similarity of two groups is the exact average cosine over all their cross pairs,
    sum(A) . sum(B) / (|A| |B|), computed from the groups' summed vectors. Only groups
    joined by an edge are candidates for a merge. In each round every pair of groups that
    are each other's most similar candidate (ties: smaller id) and whose average reaches
    ``threshold`` merges (reciprocal nearest neighbours: average linkage is reducible, so
    merging them together gives what merging one pair at a time would); rounds repeat until
    nothing merges. All of it is sparse matrix arithmetic, a few rounds in all.
    """
    import numpy as np
    import scipy.sparse as sp

    n = x.shape[0]
    labels = np.arange(n)
    if not len(edges):
        return [[i] for i in range(n)]
    rounds = 0
    ea = np.array([e[0] for e in edges], dtype=np.int64)
    eb = np.array([e[1] for e in edges], dtype=np.int64)
    while True:
        la, lb = labels[ea], labels[eb]
        lo, hi = np.minimum(la, lb), np.maximum(la, lb)
        differ = lo != hi
        if not differ.any():
            break
        code = np.unique(lo[differ] * n + hi[differ])
        p, q = code // n, code % n
        assign = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(n, n))
        sums = (assign @ x).tocsr()  # row g: the summed vector of group g
        sizes = np.bincount(labels, minlength=n).astype(np.float64)
        cross = np.asarray(sums[p].multiply(sums[q]).sum(axis=1)).ravel()
        avg = np.round(cross / (sizes[p] * sizes[q]), 9)
        ok = avg >= threshold - 1e-9
        if not ok.any():
            break
        p, q, avg = p[ok], q[ok], avg[ok]
        # Each group's best candidate: highest average, then smallest partner id.
        group = np.concatenate([p, q])
        partner = np.concatenate([q, p])
        score = np.concatenate([avg, avg])
        order = np.lexsort((partner, -score, group))
        group, partner = group[order], partner[order]
        first = np.ones(len(group), dtype=bool)
        first[1:] = group[1:] != group[:-1]
        best = np.full(n, -1, dtype=np.int64)
        best[group[first]] = partner[first]
        # Reciprocal pairs merge; so does every group whose best candidate is one of them
        # (a star around the pair: no chains within a round).
        has = best >= 0
        ids = np.flatnonzero(has)
        mutual_ids = ids[best[best[ids]] == ids]
        if not len(mutual_ids):
            break
        target = np.arange(n)
        low = mutual_ids[mutual_ids < best[mutual_ids]]
        target[best[low]] = low  # the pair keeps its smaller id
        in_pair = np.zeros(n, dtype=bool)
        in_pair[mutual_ids] = True
        leaves = ids[~in_pair[ids] & in_pair[best[ids]]]
        target[leaves] = target[best[leaves]]
        labels = target[labels]
        rounds += 1
    groups: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(labels.tolist()):
        groups[g].append(i)
    return [groups[g] for g in sorted(groups)]


def recurring_lessons(
    graph: nx.MultiDiGraph,
    min_reviews: int = 2,
    threshold: float = CLUSTER_THRESHOLD,
    taxonomy: Taxonomy | None = None,
) -> list[RecurringLesson]:
    """Lessons that recur: groups of learning points linked by ``SIMILAR_TO``, clustered by
    group-average similarity (see :func:`_clusters`), that span at least ``min_reviews``
    reviews. Sorted by number of reviews (most first), then first year, then representative id."""
    import numpy as np

    items = learning_texts(graph)
    index = {p.id: i for i, p in enumerate(items)}
    edges = []
    for u, v, d in graph.edges(data=True):
        if d.get("type") == "SIMILAR_TO":
            a, b = graph.nodes[u].get("id"), graph.nodes[v].get("id")
            if a in index and b in index:
                edges.append((index[a], index[b]))
    if not edges:
        return []
    # Vectors of the linked points only: the same vocabulary and weights as the links were made with.
    x = similarity_vectors([p.text for p in items], taxonomy)
    linked = sorted({i for e in edges for i in e})
    pos = {i: k for k, i in enumerate(linked)}
    sub = x[linked]
    groups = _clusters(sub, [(pos[a], pos[b]) for a, b in edges], threshold)
    years: dict[str, int | None] = {}
    boards: dict[str, str | None] = {}
    for _n, d in graph.nodes(data=True):
        if d.get("label") == "Review":
            years[d["id"]] = d.get("year")
            boards[d["id"]] = d.get("board")
    themes_of: dict[str, list[str]] = defaultdict(list)
    for u, v, d in graph.edges(data=True):
        if d.get("type") == "ABOUT_THEME" and graph.nodes[u].get("label") == "LearningPoint":
            themes_of[graph.nodes[u]["id"]].append(graph.nodes[v]["name"])
    lessons = []
    for g in groups:
        pts = [items[linked[k]] for k in g]
        reviews = sorted({p.review_id for p in pts})
        if len(reviews) < min_reviews:
            continue
        vecs = sub[g]
        total = np.asarray(vecs.sum(axis=0)).ravel()
        to_rest = np.asarray(vecs @ total).ravel() - 1.0  # each point's summed cosine with the others
        best = min(range(len(pts)), key=lambda k: (-round(float(to_rest[k]), 9), pts[k].id))
        m = len(pts)
        cohesion = float(total @ total - m) / (m * (m - 1)) if m > 1 else 1.0
        ys = [y for y in (years.get(r) for r in reviews) if y is not None]
        counts = Counter(t for p in pts for t in set(themes_of.get(p.id, [])))
        themes = sorted((t for t, c in counts.items() if 2 * c >= m), key=lambda t: (-counts[t], t))
        lessons.append(
            RecurringLesson(
                representative=pts[best].id,
                text=pts[best].text,
                points=sorted(p.id for p in pts),
                reviews=reviews,
                first_year=min(ys) if ys else None,
                last_year=max(ys) if ys else None,
                themes=themes,
                boards=sorted({b for b in (boards.get(r) for r in reviews) if b}),
                cohesion=round(cohesion, 4),
            )
        )
    lessons.sort(key=lambda le: (-len(le.reviews), le.first_year if le.first_year is not None else 9999, le.representative))
    return lessons


# --------------------------------------------------------------------------- themes


def theme_recurrence(graph: nx.MultiDiGraph) -> dict[str, dict]:
    """For each theme raised by any review: how many reviews raise it in all, by year and
    by board (reviews with no year or board are counted under ``None``). Themes in name order."""
    review = {}
    for _n, d in graph.nodes(data=True):
        if d.get("label") == "Review":
            review[_n] = (d.get("year"), d.get("board"))
    by_theme: dict[str, set[str]] = defaultdict(set)
    for u, v, d in graph.edges(data=True):
        if d.get("type") == "RAISES" and u in review:
            by_theme[graph.nodes[v]["name"]].add(u)
    out: dict[str, dict] = {}
    for theme in sorted(by_theme):
        reviews = by_theme[theme]
        years = Counter(review[r][0] for r in reviews)
        boards = Counter(review[r][1] for r in reviews)
        out[theme] = {
            "reviews": len(reviews),
            "by_year": dict(sorted(years.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))),
            "by_board": dict(sorted(boards.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))),
        }
    return out


# --------------------------------------------------------------------------- insights

INSIGHT_FORMATS = ("text", "json", "md")


def insights(graph: nx.MultiDiGraph, limit: int = 10, min_reviews: int = 2) -> dict:
    """The top ``limit`` recurring lessons (those in at least ``min_reviews`` reviews) and the
    recurrence of every theme by year and by board, as one JSON-ready dict."""
    lessons = recurring_lessons(graph, min_reviews=min_reviews)
    years = sorted(
        {d["year"] for _n, d in graph.nodes(data=True) if d.get("label") == "Review" and d.get("year") is not None}
    )
    return {
        "reviews": sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "Review"),
        "learning_points": sum(1 for _n, d in graph.nodes(data=True) if d.get("label") == "LearningPoint"),
        "similar_pairs": sum(1 for _u, _v, d in graph.edges(data=True) if d.get("type") == "SIMILAR_TO"),
        "recurring_lessons": len(lessons),
        "lessons": [le.as_json() for le in lessons[:limit]],
        "years": years,
        "themes": theme_recurrence(graph),
    }


def _years(first: int | None, last: int | None) -> str:
    if first is None:
        return "year unknown"
    return str(first) if first == last else f"{first}\u2013{last}"


def insights_text(data: dict, fmt: str = "text") -> str:
    """:func:`insights` as plain text, JSON or Markdown."""
    import json

    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    years = data["years"]
    lines: list[str] = []
    if fmt == "md":
        lines += ["# Recurring lessons", ""]
        lines.append(
            f"{data['recurring_lessons']} lesson(s) recur in two or more of {data['reviews']} review(s) "
            f"({data['similar_pairs']} similar pair(s) of learning points)."
        )
        lines.append("")
        if data["lessons"]:
            lines += ["| # | Lesson (representative wording) | Reviews | Years | Themes |", "|---|---|---|---|---|"]
            for i, le in enumerate(data["lessons"], 1):
                lines.append(
                    f"| {i} | {markdown_inline(shorten(le['text'], 160))} | {le['review_count']}: {markdown_inline(', '.join(le['reviews']))} "
                    f"| {_years(le['first_year'], le['last_year'])} | {markdown_inline(', '.join(le['themes']))} |"
                )
        lines += ["", "## Theme recurrence by year", ""]
        if data["themes"]:
            lines.append("| Theme | Reviews | " + " | ".join(str(y) for y in years) + " |")
            lines.append("|---|---|" + "---|" * len(years))
            for name, t in data["themes"].items():
                by = {str(k): v for k, v in t["by_year"].items()}
                cells = " | ".join(str(by.get(str(y), "")) for y in years)
                lines.append(f"| {markdown_inline(name)} | {t['reviews']} | {cells} |")
        return "\n".join(lines) + "\n"
    lines.append(
        f"Recurring lessons: {data['recurring_lessons']} recur in two or more of {data['reviews']} review(s) "
        f"({data['similar_pairs']} similar pair(s) of learning points)."
    )
    for i, le in enumerate(data["lessons"], 1):
        lines.append("")
        lines.append(f"{i}. {shorten(le['text'], 160)}")
        lines.append(f"   in {le['review_count']} reviews, {_years(le['first_year'], le['last_year'])}: {', '.join(le['reviews'])}")
        if le["themes"]:
            lines.append(f"   themes: {', '.join(le['themes'])}")
    lines += ["", "Theme recurrence by year (reviews raising the theme):"]
    width = max([len(n) for n in data["themes"]] + [5])
    lines.append("  " + "theme".ljust(width) + "  total  " + "  ".join(f"{y:>4}" for y in years))
    for name, t in data["themes"].items():
        by = {str(k): v for k, v in t["by_year"].items()}
        lines.append(
            "  " + name.ljust(width) + f"  {t['reviews']:>5}  " + "  ".join(f"{by.get(str(y), ''):>4}" for y in years)
        )
    return "\n".join(lines) + "\n"
