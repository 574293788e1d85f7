"""Build: ReviewRecords → one networkx MultiDiGraph that follows :mod:`graph_model.schema`.

Also the stored form of the graph (``graph.json``, node-link JSON) that later commands
read instead of rebuilding.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import networkx as nx

from .collector import cyclic_gc_paused
from .edges import put_edge
from .errors import InputError
from .models import Evidence, ReviewRecord
from .schema import NODE_TYPES, REL_TYPES, node_id
from .taxonomy import Taxonomy, load_taxonomy
from .workspace import (
    GRAPH_FILE,  # noqa: F401  (the stored graph's file name, importable from here)
    READ_ERRORS,
    read_json_bytes,
)

FORMAT_VERSION = 1


def _ev(e: Evidence) -> dict:
    return {"quote": e.quote, "start": e.start, "end": e.end, "section": e.section}


def _fact(f) -> dict:
    """A fact's confidence, and ``curated`` only when an analyst added or changed it.

    The confidence is a float as a record read back from its JSON has it (extraction sets
    it after the record is made, unchecked, and a fragment may be made from that record)."""
    c = f.confidence
    return {"confidence": c if type(c) is float else float(c), "curated": True if f.curated else None}


class Fragment(NamedTuple):
    """One review's part of the graph, made without the graph (e.g. in an extraction worker,
    and sent to the main process ready to add): its nodes as (id, properties with ``label``)
    and its relationships as (from, to, id, properties with ``type``), each in the order the
    review makes them. The shared nodes it names (agencies, themes) are among its nodes,
    where it first names them. :meth:`_Builder.insert` adds it to a graph."""

    nodes: list[tuple[str, dict]]
    edges: list[tuple[str, str, str, dict]]


class _FragmentMaker:
    """Makes the :class:`Fragment` of one review."""

    def __init__(self, tax: Taxonomy):
        self.tax = tax
        self.nodes: list[tuple[str, dict]] = []
        self.edges: list[tuple[str, str, str, dict]] = []
        self._shared: dict[tuple[str, str], str] = {}

    def node(self, label: str, key: str, **props) -> str:
        nid = node_id(label, key)
        props[NODE_TYPES[label].key] = key
        clean = {k: v for k, v in props.items() if v is not None}
        text = clean.get("text")
        if text is not None and clean.get("quote") == text:
            clean["quote"] = text  # one string for both, not two equal copies (a fact's text is often its quote)
        self.nodes.append((nid, {"label": label, **clean}))
        return nid

    def rel(self, rel_type: str, a: str, b: str, rel_id: str, **props) -> None:
        assert rel_type in REL_TYPES
        clean = {k: v for k, v in props.items() if v is not None}
        self.edges.append((a, b, rel_id, {"type": rel_type, "id": rel_id, **clean}))

    def agency(self, name: str) -> str:
        # Agencies and themes are shared by every review and named by many facts: the
        # fragment holds each once, where the review first names it (the graph keeps the
        # first review's node: adding it again only sets the same properties again).
        nid = self._shared.get(("Agency", name))
        if nid is None:
            nid = self.node("Agency", name, sector=self.tax.sector(name) if name in self.tax.agencies else "other")
            self._shared["Agency", name] = nid
        return nid

    def theme(self, name: str) -> str:
        nid = self._shared.get(("Theme", name))
        if nid is None:
            desc = self.tax.themes[name].description if name in self.tax.themes else ""
            nid = self._shared["Theme", name] = self.node("Theme", name, description=desc)
        return nid

    def add(self, r: ReviewRecord) -> Fragment:
        rid = r.id
        review = self.node(
            "Review",
            rid,
            title=r.title,
            board=r.board,
            review_type=r.review_type,
            year=r.year,
            source=r.source,
            sha256=r.sha256,
            text_length=r.text_length,
            broken_links=sum(1 for link in r.communication_links if link.status == "broken"),
            effective_links=sum(1 for link in r.communication_links if link.status == "effective"),
        )
        cases = {}
        for case in r.cases:
            cid = f"{rid}/{case.name}"
            cases[case.name] = self.node("Case", cid, name=case.name, review_id=rid)
            self.rel("HAS_CASE", review, cases[case.name], f"{cid}/HAS_CASE", review_id=rid)
        for a in r.agencies:
            nid = self.agency(a.name)
            self.rel(
                "INVOLVES", review, nid, f"{rid}/INVOLVES/{a.name}", review_id=rid, mentions=a.mentions, **_ev(a.evidence[0]), **_fact(a)
            )
        members = {}
        for fm in r.family_members:
            fid = f"{rid}/{fm.case + '/' if fm.case else ''}{fm.role}"
            members[(fm.role, fm.case)] = nid = self.node("FamilyMember", fid, role=fm.role, case=fm.case, review_id=rid)
            owner = cases.get(fm.case, review) if fm.case else review
            self.rel("HAS_FAMILY_MEMBER", owner, nid, f"{fid}/HAS_FAMILY_MEMBER", review_id=rid, **_ev(fm.evidence[0]), **_fact(fm))
        for t in r.themes:
            nid = self.theme(t.name)
            self.rel("RAISES", review, nid, f"{rid}/RAISES/{t.name}", review_id=rid, mentions=t.mentions, **_ev(t.evidence[0]), **_fact(t))
        for lp in r.learning_points:
            nid = self.node(
                "LearningPoint",
                lp.id,
                text=lp.text,
                kind=lp.kind,
                all_agencies=lp.all_agencies,
                addressees=len(lp.agencies),
                case=lp.case,
                review_id=rid,
                **_ev(lp.evidence),
                **_fact(lp),
            )
            self.rel("HAS_LEARNING", review, nid, f"{lp.id}/HAS_LEARNING", review_id=rid)
            for t in lp.themes:
                self.rel("ABOUT_THEME", nid, self.theme(t), f"{lp.id}/ABOUT_THEME/{t}", review_id=rid)
            for a in lp.agencies:
                self.rel(
                    "ADDRESSED_TO", nid, self.agency(a), f"{lp.id}/ADDRESSED_TO/{a}", review_id=rid, all_agencies=lp.all_agencies
                )
        for mo in r.missed_opportunities:
            nid = self.node("MissedOpportunity", mo.id, text=mo.text, case=mo.case, review_id=rid, **_ev(mo.evidence), **_fact(mo))
            self.rel("HAS_MISSED_OPPORTUNITY", review, nid, f"{mo.id}/HAS_MISSED_OPPORTUNITY", review_id=rid)
            for a in mo.agencies:
                self.rel("MISSED_BY", nid, self.agency(a), f"{mo.id}/MISSED_BY/{a}", review_id=rid)
            for role in mo.family_members:
                target = members.get((role, mo.case)) or members.get((role, None))
                if target:
                    self.rel("CONCERNS", nid, target, f"{mo.id}/CONCERNS/{role}", review_id=rid)
            for t in mo.themes:
                self.rel("ABOUT_THEME", nid, self.theme(t), f"{mo.id}/ABOUT_THEME/{t}", review_id=rid)
        for ev in r.timeline:
            nid = self.node(
                "TimelineEvent",
                ev.id,
                review_id=rid,
                date_text=ev.date_text,
                date_from=ev.date_from,
                date_to=ev.date_to,
                precision=ev.precision,
                text=ev.text,
                agencies="; ".join(ev.agencies),
                case=ev.case,
                **_ev(ev.evidence),
            )
            self.rel("HAS_EVENT", review, nid, f"{ev.id}/HAS_EVENT", review_id=rid)
            for a in ev.agencies:
                self.rel("MENTIONS_AGENCY", nid, self.agency(a), f"{ev.id}/MENTIONS_AGENCY/{a}", review_id=rid)
        for link in r.communication_links:
            self.rel(
                "COMMUNICATION",
                self.agency(link.source),
                self.agency(link.target),
                link.id,
                review_id=rid,
                status=link.status,
                directed=link.directed,
                inferred_end=link.inferred_end,
                case=link.case,
                **_ev(link.evidence),
                **_fact(link),
            )
        return Fragment(self.nodes, self.edges)


def review_fragment(r: ReviewRecord, taxonomy: Taxonomy) -> Fragment:
    """The :class:`Fragment` of review ``r``."""
    return _FragmentMaker(taxonomy).add(r)


class _Builder:
    def __init__(self, tax: Taxonomy):
        self.g = nx.MultiDiGraph()
        self.tax = tax

    def add(self, r: ReviewRecord) -> None:
        self.insert(review_fragment(r, self.tax))

    def insert(self, fragment: Fragment) -> None:
        """Add a review's fragment: what ``add_node`` and ``add_edge`` would do with its nodes
        and relationships one by one, in the same order (a node already in the graph gets
        the properties; so does a relationship with the same ends and id), with the
        fragment's own dicts as the graph's property dicts."""
        g = self.g
        node, succ, pred = g._node, g._succ, g._pred
        for nid, props in fragment.nodes:
            old = node.get(nid)
            if old is None:
                succ[nid] = {}
                pred[nid] = {}
                node[nid] = props
            else:
                old.update(props)
        for u, v, key, props in fragment.edges:
            if u in succ and v in succ:
                put_edge(succ, pred, u, v, key, props)
            else:  # pragma: no cover - a fragment makes its nodes first
                g.add_edge(u, v, key=key, **props)
        nx._clear_cache(g)


def check_unique_ids(records: Iterable[ReviewRecord]) -> None:
    """Two documents claiming the same review id is an error naming both files. The pipeline
    tells shared ids apart before (``extract.metadata.told_apart``): this guards a caller
    that hands over records of its own."""
    seen: dict[str, str] = {}
    for r in records:
        if r.id in seen:
            raise InputError(
                f"{r.source}: claims review id '{r.id}', which {seen[r.id]} already has; "
                "rename one file or give each review its own code."
            )
        seen[r.id] = r.source


def build_graph(records: Iterable[ReviewRecord], taxonomy: Taxonomy | None = None) -> nx.MultiDiGraph:
    """One graph for all reviews. Reviews are added in id order so the graph is deterministic."""
    records = sorted(records, key=lambda r: r.id)
    check_unique_ids(records)
    return graph_from_sorted(records, taxonomy)


def graph_from_sorted(
    records: Iterable[ReviewRecord], taxonomy: Taxonomy | None = None, tokens: Mapping[str, str] | None = None
) -> nx.MultiDiGraph:
    """The graph of reviews already in id order with unique ids, taken one at a time (so a
    caller can produce them lazily). Once all are in, learning points that say the same
    thing in different reviews are linked (``SIMILAR_TO``, :mod:`graph_model.recurring`;
    ``tokens``: the learning points' tokens if already known, see ``recurring.known_tokens``)."""
    from .recurring import add_similar_to
    from .totals import add_totals

    b = _Builder(taxonomy or load_taxonomy())
    for r in records:
        b.add(r)
    add_similar_to(b.g, taxonomy=b.tax, tokens=tokens)
    add_totals(b.g)
    return b.g


class SortedGraphBuilder:
    """The graph of :func:`graph_from_sorted`, built one review at a time while the reviews
    come in increasing id order (e.g. while documents are still being extracted).

    ``add`` returns False, adding nothing, for a review whose id does not come after the
    previous one's: the caller then builds the graph from all reviews sorted instead.
    """

    def __init__(self, taxonomy: Taxonomy | None = None):
        self._builder = _Builder(taxonomy or load_taxonomy())
        self._last: str | None = None

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The graph so far (without SIMILAR_TO and totals until :meth:`finish`)."""
        return self._builder.g

    def add(self, record: ReviewRecord) -> bool:
        return self.add_fragment(record.id, review_fragment(record, self._builder.tax))

    def add_fragment(self, review_id: str, fragment: Fragment) -> bool:
        """Like :meth:`add`, with the review's :func:`review_fragment` (made with the same taxonomy)."""
        if self._last is not None and review_id <= self._last:
            return False
        self._builder.insert(fragment)
        self._last = review_id
        return True

    def finish(
        self,
        tokens: Mapping[str, str] | None = None,
        meanwhile: Callable[[], object] | None = None,
        pool: Executor | None = None,
    ) -> nx.MultiDiGraph:
        """The graph, once every review is in: with its SIMILAR_TO links, as
        :func:`graph_from_sorted` makes it (``tokens`` as there). ``meanwhile`` and
        ``pool``: see :func:`~graph_model.recurring.add_similar_to`."""
        from .recurring import add_similar_to
        from .totals import add_totals

        add_similar_to(self._builder.g, taxonomy=self._builder.tax, tokens=tokens, meanwhile=meanwhile, pool=pool)
        add_totals(self._builder.g)
        return self._builder.g


def ordered_relationships(g: nx.MultiDiGraph) -> Iterator[tuple[str, str, str, dict]]:
    """Every relationship as (from, to, id, properties) in the stored order: by the id of
    the node it starts from, then its type and id. Produced one node at a time, so a
    national corpus's two million relationships are never held in one sorted list (that
    list and its sort keys cost some 300 MB at the build's peak)."""
    succ = g._succ
    for u in sorted(succ):
        yield from _out_relationships(succ, u)


_BY_TYPE_AND_ID = itemgetter(0, 1)


def _out_relationships(succ: dict, u: str) -> Iterator[tuple[str, str, str, dict]]:
    """The relationships from node ``u`` (``succ``: the graph's ``_succ``) in the stored order."""
    out = [(d["type"], k, v, d) for v, keyed in succ[u].items() for k, d in keyed.items()]
    if len(out) > 1:
        out.sort(key=_BY_TYPE_AND_ID)
    for _t, k, v, d in out:
        yield u, v, k, d


def graph_to_data(g: nx.MultiDiGraph) -> dict:
    """A JSON-ready dict: sorted nodes and relationships, stable across runs."""
    nodes = [{"_id": n, **g.nodes[n]} for n in sorted(g.nodes)]
    rels = [{"_from": u, "_to": v, **d} for u, v, _k, d in ordered_relationships(g)]
    return {"format": "sgraph-graph", "version": FORMAT_VERSION, "nodes": nodes, "relationships": rels}


def graph_from_data(data: dict) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for n in data["nodes"]:
        props = dict(n)
        g.add_node(props.pop("_id"), **props)
    for r in data["relationships"]:
        props = dict(r)
        g.add_edge(props.pop("_from"), props.pop("_to"), key=props["id"], **props)
    return g


def staging_path(path: Path) -> Path:
    """The temporary file :func:`stage_text` writes for ``path`` (hidden, beside it)."""
    path = Path(path)
    return path.with_name(f".{short_name(path.name)}.tmp-{os.getpid()}")


def short_name(name: str, keep: int = 180) -> str:
    """``name`` cut to at most ``keep`` bytes, for a temporary name made from it: a file
    name may have 255 bytes, and ".NAME.tmp-12345" must fit too."""
    data = os.fsencode(name)
    return name if len(data) <= keep else os.fsdecode(data[:keep])


def stage_text(path: Path, text: str | Iterable[str | bytes], compress: int | None = None) -> Path:
    """Write ``text`` (a string or its pieces; a piece may also be bytes, already UTF-8) to
    a temporary file beside ``path`` (fsynced), in UTF-8, and return it; the caller renames
    it over ``path`` (or deletes it). Nothing is left behind if writing fails.

    ``compress``: gzip the text at this level (1-9), with a header that names no file and
    no time, so that the same text always gives the same bytes."""
    from .reaper import watch

    tmp = staging_path(path)
    watch(path=tmp)  # removed if this process is killed before it is renamed or deleted
    try:
        with open(tmp, "wb") as fh:
            pieces = [text] if isinstance(text, str) else text
            encoded = (piece if isinstance(piece, bytes) else piece.encode("utf-8") for piece in pieces)
            if compress is None:
                for data in encoded:
                    fh.write(data)
            else:
                _write_gzip(fh, encoded, compress)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return tmp


def _write_gzip(fh, pieces: Iterable[bytes], level: int) -> None:
    """``pieces`` gzip-compressed into ``fh``. The compression runs in a thread while this
    one makes the next pieces (zlib lets go of the interpreter lock while it works), so
    that writing a compressed graph.json costs about what writing it plain did."""
    todo: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
    failed: list[BaseException] = []

    def run() -> None:
        piece: bytes | None = b""
        try:
            with gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=level, mtime=0) as gz:
                while (piece := todo.get()) is not None:
                    gz.write(piece)
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)
            while piece is not None:  # let the producer finish putting (unless it has: closing failed)
                piece = todo.get()

    thread = threading.Thread(target=run, name="gzip", daemon=True)
    thread.start()
    try:
        for piece in pieces:
            if failed:
                break
            todo.put(piece)
    finally:
        todo.put(None)
        thread.join()
    if failed:
        raise failed[0]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temp file, fsync, rename)."""
    from .outpath import check_out_file

    path = Path(path)
    check_out_file(path)
    tmp = stage_text(path, text)
    try:
        check_out_file(path)  # again: it may have become a link or a device meanwhile
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _json_line_encoder() -> Callable[[object], str]:
    """``json.dumps(o, ensure_ascii=False, sort_keys=True)``, made once for every item:
    ``JSONEncoder.encode`` builds a new C encoder on each call (a quarter of the time of
    encoding a graph item by item)."""
    encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
    try:
        from json.encoder import c_make_encoder, encode_basestring
    except ImportError:  # pragma: no cover - a Python without the C accelerator
        c_make_encoder = None
    if c_make_encoder is None:  # pragma: no cover
        return encoder.encode
    # The arguments JSONEncoder.iterencode passes (no circular check: graph items are flat).
    encode = c_make_encoder(
        None,
        encoder.default,
        encode_basestring,
        None,
        encoder.key_separator,
        encoder.item_separator,
        True,
        False,
        True,
    )
    return lambda o: "".join(encode(o, 0))


# The labels whose nodes, and the relationships from them, are final as soon as every
# review is in: neither the SIMILAR_TO links (between learning points, recurring.py) nor the
# totals (on agencies, themes, family members and learning points, and LINKED_WITH between
# agencies, totals.py) change them. Their graph.json lines can be written meanwhile
# (:class:`EncodedAhead`); tests check that they come out the same.
SETTLED_LABELS = frozenset({"Case", "MissedOpportunity", "Review", "TimelineEvent"})


class EncodedAhead:
    """The graph.json lines of the nodes with a label in ``labels`` and of the relationships
    from them, encoded in a thread (:meth:`start`) while the main thread goes on with the
    rest of the graph (the SIMILAR_TO links, whose sparse products leave a core partly
    idle, and the totals), and kept in a temporary file, not in memory.

    Only valid while those nodes and the relationships from them are left as they are;
    :func:`graph_json_chunks` takes them from here in order (``ahead=``)."""

    def __init__(self, g: nx.MultiDiGraph, labels: frozenset[str] = SETTLED_LABELS):
        import tempfile
        import threading

        self.labels = labels
        self._g = g
        self._order = sorted(g._node)  # taken here: the main thread adds nodes meanwhile
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="graph.json ahead", daemon=True)

    def start(self) -> EncodedAhead:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            encode = _json_line_encoder()
            node, succ, labels, write = self._g._node, self._g._succ, self.labels, self._file.write
            settled = [n for n in self._order if node[n].get("label") in labels]
            # One line per node, then one per relationship (JSON lines hold no line break).
            for i in range(0, len(settled), 1000):
                if self._stop.is_set():
                    return
                write("".join(encode({"_id": n, **node[n]}) + "\n" for n in settled[i : i + 1000]))
            for i, u in enumerate(settled):
                if i % 1000 == 0 and self._stop.is_set():
                    return
                if succ[u]:
                    write(
                        "".join(
                            encode({"_from": u, "_to": v, **d}) + "\n"
                            for u, v, _k, d in _out_relationships(succ, u)
                        )
                    )
        except BaseException as exc:  # pragma: no cover - raised again by lines()
            self._error = exc

    def lines(self) -> Iterator[str]:
        """The encoded lines, in order, once the thread is done."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._file.seek(0)
        return (line[:-1] for line in self._file)

    def close(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
        self._file.close()


def graph_json_chunks(
    g: nx.MultiDiGraph, batch: int = 1000, ahead: EncodedAhead | None = None
) -> Iterator[str]:
    """The stored form of the graph (``graph.json``, the layout of :func:`graph_to_data`),
    one node or relationship per line, produced piece by piece (``batch`` lines a piece): a
    national corpus's graph is written without first holding a second copy of it as dicts
    and as one huge string. ``ahead``: the lines already encoded of some nodes and their
    relationships (:class:`EncodedAhead`, made from this graph)."""
    encode = _json_line_encoder()
    nodes, succ = g._node, g._succ
    labels = ahead.labels if ahead is not None else frozenset()
    pre = ahead.lines() if ahead is not None else iter(())

    def node_lines() -> Iterator[str]:
        for n in sorted(nodes):
            d = nodes[n]
            yield next(pre) if d.get("label") in labels else encode({"_id": n, **d})

    def relationship_lines() -> Iterator[str]:
        for u in sorted(succ):
            if nodes[u].get("label") in labels:
                for keyed in succ[u].values():
                    for _ in range(len(keyed)):
                        yield next(pre)
            else:
                for _u, v, _k, d in _out_relationships(succ, u):
                    yield encode({"_from": u, "_to": v, **d})

    yield '{"format":"sgraph-graph","nodes":['
    yield from _joined_lines(node_lines(), batch)
    yield '\n],"relationships":['
    yield from _joined_lines(relationship_lines(), batch)
    if next(pre, None) is not None:  # pragma: no cover - the graph changed after ahead
        raise RuntimeError("graph.json: lines encoded ahead were left over")
    yield f'\n],"version":{FORMAT_VERSION}}}\n'


def _joined_lines(lines: Iterable[str], batch: int) -> Iterator[str]:
    """``lines`` as JSON array items, each on its own line (``"\\n" + ",\\n".join(lines)``), in pieces."""
    first = True
    it = iter(lines)
    while True:
        piece = list(itertools.islice(it, batch))
        if not piece:
            return
        yield ("\n" if first else ",\n") + ",\n".join(piece)
        first = False


def load_graph(path: Path) -> nx.MultiDiGraph:
    from .errors import SgraphError

    path = Path(path)
    if not path.is_file():
        raise SgraphError(f"{path}: no graph has been built here yet; run 'sgraph build DOCUMENTS' first.")
    # A national corpus's graph is millions of new objects: without the collector's full
    # passes over them (16, a quarter of the time, for 2,000 reviews).
    with cyclic_gc_paused():
        try:
            data = json.loads(read_json_bytes(path).decode("utf-8"))  # the bytes dropped before parsing
        except READ_ERRORS as exc:
            raise SgraphError(
                f"{path}: the stored graph cannot be read ({exc or type(exc).__name__}); run 'sgraph build' again."
            ) from None
        if not isinstance(data, dict) or data.get("format") != "sgraph-graph":
            raise SgraphError(f"{path}: is not a graph written by sgraph; run 'sgraph build' again.")
        try:
            return graph_from_data(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SgraphError(
                f"{path}: the workspace is damaged ({type(exc).__name__}: {_short(exc)}); run 'sgraph build' again."
            ) from None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 80 else text[:79] + "\u2026"
