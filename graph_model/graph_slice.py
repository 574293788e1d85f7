"""Read one agency's part of a stored ``graph.json`` without parsing the rest.

``graph.json`` (written by :func:`graph_model.build.graph_json_chunks`) holds one node or
relationship per line: the nodes sorted by id, then the relationships grouped by their
source node (``{"_from": ..., "_to": ..., <sorted keys>}``), keys sorted, no line break
inside a line. An agency export needs a small part of it (at 2,000 reviews, one agency's
items are a few percent of the file's 2 million lines), so instead of ``json.loads`` of the
whole file this module maps the file into memory and looks for the lines it needs with
``bytes.find`` (C speed), parsing only those:

* every ``Agency``, ``Review`` and ``Theme`` node (each label's lines are one run);
* the relationships into each agency (``"_to": "Agency:NAME", `` can only occur as a key
  and its value: inside a string value the quotes are escaped) and its outgoing
  ``COMMUNICATION`` links (one run: the agency's own lines);
* the learning points and missed opportunities those relationships come from, and the
  relationships out of each of them (``ABOUT_THEME``, ``SIMILAR_TO``).

The result is the subgraph :func:`graph_model.exports.agency_view` cuts from the whole
graph (the tests check they are equal). Anything unexpected in the layout raises
:class:`LayoutError`, and the caller falls back to reading the whole graph, so a change of
format costs speed, never correctness.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterable, Iterator
from pathlib import Path

import networkx as nx

from .workspace import GZIP_MAGIC, read_json_bytes

HEADER = b'{"format":"sgraph-graph","nodes":['
RELATIONSHIPS = b'\n],"relationships":['
ITEM_LABELS = ("LearningPoint", "MissedOpportunity")
KEEP_OUT = frozenset({"ABOUT_THEME", "SIMILAR_TO"})  # relationships kept out of an item
KEEP_IN = frozenset({"ADDRESSED_TO", "MISSED_BY", "COMMUNICATION", "INVOLVES"})  # into an agency


class LayoutError(Exception):
    """graph.json is not laid out as this reader expects (one item a line, sorted)."""


def _key(value: str) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


class _Lines:
    def __init__(self, buf: mmap.mmap | bytes):
        self.buf = buf
        if not buf[: len(HEADER)] == HEADER:
            raise LayoutError("no graph.json header")
        self.rels = buf.find(RELATIONSHIPS)
        if self.rels < 0:
            raise LayoutError("no relationships")
        self.end = len(buf)
        self.last: int | None = None  # the start of the line after the last one a run gave

    def line_at(self, pos: int) -> tuple[bytes, int]:
        """The line starting at ``pos`` (without its comma) and the start of the next line."""
        stop = self.buf.find(b"\n", pos)
        if stop < 0:
            stop = self.end
        line = self.buf[pos:stop]
        return (line[:-1] if line.endswith(b",") else line), stop + 1

    def run(self, prefix: bytes, lo: int, hi: int, hint: int | None = None) -> Iterator[bytes]:
        """The run of lines beginning with ``prefix`` between ``lo`` and ``hi`` (a line
        start is found as ``\\n`` + prefix; ``hint``: where to look first)."""
        needle = b"\n" + prefix
        pos = -1
        if hint is not None and lo <= hint < hi:
            pos = self.buf.find(needle, hint, hi)
        if pos < 0:
            pos = self.buf.find(needle, lo, hi)
        if pos < 0:
            return
        pos += 1
        while pos < hi:
            line, nxt = self.line_at(pos)
            if not line.startswith(prefix):
                return
            self.last = nxt
            yield line
            pos = nxt

    def block(self, prefix: bytes, lo: int, hi: int, hint: int) -> tuple[bytes, int]:
        """The run of lines beginning with ``prefix`` as one piece of bytes (lines joined by
        ``\\n``, the last without its line break) and where it ends; ``b""`` if none."""
        buf, needle = self.buf, b"\n" + prefix
        pos = buf.find(needle, hint, hi) if lo <= hint < hi else -1
        if pos < 0:
            pos = buf.find(needle, lo, hi)
        if pos < 0:
            return b"", hint
        first = pos + 1
        n = len(prefix)
        end = buf.find(b"\n", first)
        while end >= 0 and buf[end + 1 : end + 1 + n] == prefix:
            end = buf.find(b"\n", end + 1)
        if end < 0:
            end = hi
        return buf[first:end], end

    def occurrences(self, needle: bytes, lo: int, hi: int) -> Iterator[bytes]:
        """Every line between ``lo`` and ``hi`` that contains ``needle``."""
        pos = self.buf.find(needle, lo, hi)
        while pos >= 0:
            start = self.buf.rfind(b"\n", lo, pos) + 1
            line, nxt = self.line_at(start)
            yield line
            pos = self.buf.find(needle, nxt, hi)


def _parse(lines: list[bytes]) -> list[dict]:
    """The lines parsed, all at once (one ``json.loads`` of them as an array: per-line calls
    cost more than the parsing)."""
    try:
        return json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError as exc:
        raise LayoutError(f"a line is not JSON ({exc})") from None


def agency_slice(path: Path, agencies: Iterable[str] | None, resolve) -> nx.MultiDiGraph:
    """The part of ``path`` (a graph.json) that the exports of ``agencies`` need.

    ``resolve(graph, name)`` turns a name or alias into a canonical agency name, given a
    graph holding the Agency nodes. Raises :class:`LayoutError` if the file is not laid out
    as expected (the caller then reads the whole graph) and ``OSError`` if it cannot be read
    (or, compressed, one of :data:`graph_model.workspace.READ_ERRORS`).
    """
    with open(path, "rb") as fh:
        if fh.read(2) == GZIP_MAGIC:  # graph.json.gz: decompressed into memory (about 2 s and 650 MB at 2,000 reviews)
            data = read_json_bytes(path)
            if not data:
                raise LayoutError("empty file")
            return _slice(_Lines(data), agencies, resolve)
        try:
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            raise LayoutError("empty file") from None
        try:
            return _slice(_Lines(buf), agencies, resolve)
        finally:
            buf.close()


def _slice(lines: _Lines, agencies: Iterable[str] | None, resolve) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    nodes_lo, nodes_hi = len(HEADER), lines.rels + 1
    for label in ("Agency", "Review", "Theme"):
        for d in _parse(list(lines.run(b'{"_id": ' + _key(label + ":")[:-1], nodes_lo, nodes_hi))):
            if d.get("label") != label:
                raise LayoutError(f"a {label} line without its label")
            g.add_node(d.pop("_id"), **d)
    if agencies is not None:
        names = sorted({resolve(g, a) for a in agencies})
    else:
        names = sorted(str(d["name"]) for _n, d in g.nodes(data=True) if d.get("label") == "Agency")
    rel_lo, rel_hi = lines.rels, lines.end
    edges: list[dict] = []
    for name in names:
        node = f"Agency:{name}"
        if node not in g:
            continue
        incoming = _parse(list(lines.occurrences(b'"_to": ' + _key(node) + b", ", rel_lo, rel_hi)))
        for d in incoming:
            if d.get("_to") != node:
                raise LayoutError("a relationship line in an unexpected layout")
        edges += [d for d in incoming if d.get("type") in KEEP_IN]
        out = [ln for ln in lines.run(b'{"_from": ' + _key(node) + b", ", rel_lo, rel_hi) if b'"type": "COMMUNICATION"' in ln]
        edges += [d for d in _parse(out) if d.get("type") == "COMMUNICATION" and d.get("_to") != node]
    items = sorted({d["_from"] for d in edges if d["type"] in ("ADDRESSED_TO", "MISSED_BY")})
    keys = {_key(i): i for i in items}
    node_lines: list[bytes] = []
    out_lines: list[bytes] = []
    hint_n, hint_r = nodes_lo, rel_lo
    for item in items:
        key = _key(item) + b", "
        lines.last = None
        found = list(lines.run(b'{"_id": ' + key, nodes_lo, nodes_hi, hint_n))
        if len(found) != 1 or lines.last is None:
            raise LayoutError(f"no single node line for {item}")
        node_lines += found
        hint_n = lines.last - 1
        block, end = lines.block(b'{"_from": ' + key, rel_lo, rel_hi, hint_r)
        if block:
            hint_r = end
            start = len(b'{"_from": ') + len(key) + len(b'"_to": ')
            for line in block.split(b"\n"):
                if b'"type": "ABOUT_THEME"' in line:
                    out_lines.append(line[:-1] if line.endswith(b",") else line)
                elif b'"type": "SIMILAR_TO"' in line:
                    stop = line.find(b'", ', start)
                    if line[start : stop + 1] in keys:  # the other end is one of the items too
                        out_lines.append(line[:-1] if line.endswith(b",") else line)
    for d in _parse(node_lines):
        g.add_node(d.pop("_id"), **d)
    out = _parse(out_lines)
    for d in out:
        if d.get("type") not in KEEP_OUT or (d["type"] == "SIMILAR_TO" and d["_to"] not in g):
            raise LayoutError("a relationship line in an unexpected layout")
    _add_edges(g, edges)
    _add_edges(g, out)
    if agencies is not None and len(names) == 1:
        g.graph["agency_view"] = names[0]  # exactly exports.agency_view(whole graph, name)
    return g


def _add_edges(g: nx.MultiDiGraph, edges: list[dict]) -> None:
    """``g.add_edge(u, v, key=id, **props)`` for each, written straight into networkx's
    adjacency dicts as ``add_edge`` does (one key dict shared by ``_succ[u][v]`` and
    ``_pred[v][u]``): ``add_edge``'s own checks cost more than the rest of reading
    175,000 relationships."""
    succ, pred = g._succ, g._pred
    for d in edges:
        u, v = d.pop("_from"), d.pop("_to")
        if u not in succ or v not in succ:
            raise LayoutError(f"a relationship to a node not read ({u} -> {v})")
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = succ[u][v] = pred[v][u] = {}
        keydict[d["id"]] = d
    nx._clear_cache(g)
