"""Communication links: which agency told, or failed to tell, which.

A sentence is read clause by clause. In each clause a breakdown cue (data/cues.yaml, the
``broken*`` families) says where each end of the link stands:

* ``broken``: the holder before the cue, the recipient after it ("the GP did not refer the
  family to children's social care");
* ``broken_recipient``: the recipient before the cue ("the health visitor was not informed");
* ``broken_refused``: the agency asked, before the cue, that declined ("the MASH were
  reluctant to accept the referral"); the asker after "from" / "by";
* ``broken_from``: the holder after the cue ("decided without input from the GP");
* ``broken_between``: both ends, no direction ("poor communication between A and B", "A's
  and B's failure to communicate").

Where a clause names only one end, the other is looked for, in order: elsewhere in the same
sentence; for a recipient, in a following sentence that opens with a consequence ("That
meant the health visitor never had it"); in the sentences before it in the same section
(the agency that held the information); for a holder, the agency the text last blamed for a
failure. A link found so is marked ``inferred_end`` and scored lower (confidence.py); with no
other end the sentence stays a missed opportunity only.

Sentences with no breakdown cue and two agencies may be an effective link ("X referred the
family to Y"), as before.
"""

from __future__ import annotations

import bisect
import functools
import re

from ..models import CommunicationLink
from ..taxonomy import Match
from .layer import Layer, Unit, unique

_LINK_EXCLUDED_SECTIONS = {"methodology"}
# Where one clause of a sentence ends and the next begins.
_CLAUSE_BREAK = re.compile(r";|,\s*(?:and|but|while|whereas|although|though|yet|so)\s|\s(?:while|whereas)\s|,\s(?=which\s)")
_BETWEEN = re.compile(r"\bbetween\b", re.I)
# Right after a refusal cue, its agent: "was declined | by the | MASH".
_REFUSED_BY = re.compile(r"\s+by\s+(?:(?:the|a|an|its|their)\s+)?(?:\w+\s+)?", re.I)
# Sentences before a one-ended breakdown that are searched for its other end.
_CONTEXT_SENTENCES = 4
# A sentence that points back at the one before: "this decision", "these concerns", "of it".
_BACK_REFERENCE = re.compile(
    r"\b(?:this|that|these|those|such)\s+(?:\w+\s+)?(?:decision|information|notification|referral|concerns?|fears?|"
    r"outcome|plan|assessment|admission|incident|discharge|report|disclosure|allegation|change|news|risk)s?\b"
    r"|\b(?:of|about)\s+(?:it|this|that|them)\b",
    re.I,
)
_ONLY_ARTICLES = re.compile(r"\s+(?:(?:the|a|an|their|its|his|her)\s+)?(?:(?:allocated|duty|named|local|family|child's)\s+)?", re.I)
# "the hospital's accident and emergency department": the first agency only names whose the second is.
_OWNER_OF_NEXT = re.compile(r"(?:'s|\u2019s)\s+(?!(?:and|or)\b)(?:\w+\s+){0,2}$")
_BY_FROM = re.compile(r"\b(?:by|from)\s+(?:(?:the|a|an|their|its|his|her|other)\s+)?(?:[\w'\u2019]+\s+){0,2}$", re.I)
_TO_WITH = re.compile(r"\b(?:to|with|into|for|attention\s+of)\s+(?:(?:the|a|an|their|its|his|her|other)\s+)?(?:[\w'\u2019]+\s+){0,2}$", re.I)
# "A and B failed to …", "A's and B's failure …": two agencies as one subject.
_COORDINATED = re.compile(r"^(?:'s|\u2019s|\u2019)?\s*(?:,|and|&)\s*(?:(?:the|a|an)\s+)?$", re.I)


@functools.cache
def _preceded_by(words: str) -> re.Pattern[str]:
    """"… <one of words> [the] [word] " at the end of a text (compiled once per word list)."""
    return re.compile(rf"\b(?:{words})\s+(?:(?:the|a|an|their|his|her)\s+)?(?:\w+\s+)?$", re.I)


class _Found:
    __slots__ = ("source", "target", "status", "directed", "inferred", "unit", "family")

    def __init__(self, source: str, target: str, status: str, directed: bool, inferred: str | None, unit: Unit):
        self.source, self.target, self.status = source, target, status
        self.directed, self.inferred, self.unit = directed, inferred, unit
        self.family = "broken" if status == "broken" else "effective"

    def missed_by(self) -> str | None:
        """Who missed the opportunity the link's sentence tells of: the holder that did not
        pass it on; the agency that declined, or acted without what the other held."""
        if not self.directed or self.status != "broken":
            return None
        if self.family in ("broken_refused", "broken_from"):
            return self.target if self.inferred != "target" else None
        return self.source if self.inferred != "source" else None


def link_agencies(layer: Layer, u: Unit) -> list[Match]:
    """The agencies of a sentence that can be an end of a link: the partnership aside, and
    an agency named only as the owner of the next one ("the hospital's emergency department")."""
    agencies = layer.agencies_in(u)
    text = layer.text
    kept = []
    for i, m in enumerate(agencies):
        nxt = agencies[i + 1] if i + 1 < len(agencies) else None
        if nxt is not None and nxt.name != m.name and _OWNER_OF_NEXT.fullmatch(text, m.end, nxt.start):
            continue
        kept.append(m)
    return kept


def communication_links(layer: Layer, review_id: str) -> list[CommunicationLink]:
    found: list[_Found] = []
    layer.consumed = set()
    layer.missed_by = {}
    for i, u in enumerate(layer.units):
        kind = u.section.kind if u.section else "other"
        if kind in _LINK_EXCLUDED_SECTIONS:
            continue
        agencies = link_agencies(layer, u)
        if not agencies:
            continue
        broken = _broken_in(layer, i, u, agencies)
        if broken:
            for f in broken:
                if f.inferred and i in layer.consumed:
                    continue  # the consequence of a breakdown already told by the sentence before
                # One breakdown told across two sentences is one link, not two.
                if f.inferred and any(
                    (g.source, g.target, g.status) == (f.source, f.target, f.status) and g.inferred
                    for g in found[-3:]
                ):
                    continue
                found.append(f)
                who = f.missed_by()
                if who and u.start not in layer.missed_by:
                    layer.missed_by[u.start] = who
            continue
        effective = _effective_in(layer, u, agencies, kind)
        if effective is not None:
            found.append(effective)
    return [
        CommunicationLink(
            id=f"{review_id}/link{n:03d}",
            source=f.source,
            target=f.target,
            status=f.status,
            directed=f.directed,
            case=f.unit.case,
            quote=layer.text[f.unit.start : f.unit.end],
            evidence=layer.evidence(f.unit.start, f.unit.end),
            inferred_end=f.inferred,
        )
        for n, f in enumerate(found, start=1)
    ]


# ---------------------------------------------------------------------------------------
# Breakdowns


def _clause(layer: Layer, u: Unit, start: int, end: int) -> tuple[int, int]:
    """The clause of sentence ``u`` around the cue at ``start``-``end``."""
    text = layer.text
    lo, hi = u.start, u.end
    for m in _CLAUSE_BREAK.finditer(text, u.start, u.end):
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    return lo, hi


def _cues_in(layer: Layer, u: Unit) -> list[tuple[str, int, int]]:
    """The breakdown cues of a sentence: (family, start, end), in text order, overlaps dropped."""
    low = layer.plain_low
    if not layer.cues.broken.search(layer.text, low, u.start, u.end):
        return []
    hits = []
    for rank, (family, cue) in enumerate(layer.cues.broken_kinds):
        for m in cue.finditer(layer.text, low, u.start, u.end):
            hits.append((m.start(), rank, family, m.end()))
    hits.sort()
    kept: list[tuple[str, int, int]] = []
    for start, _rank, family, end in hits:
        if kept and start < kept[-1][2]:
            continue
        kept.append((family, start, end))
    return kept


def _broken_in(layer: Layer, i: int, u: Unit, agencies: list[Match]) -> list[_Found]:
    cues = _cues_in(layer, u)
    result: list[_Found] = []
    seen: set[tuple[str, str]] = set()
    pairs: set[frozenset[str]] = set()
    for family, cstart, cend in cues:
        lo, hi = _clause(layer, u, cstart, cend)
        in_clause = [m for m in agencies if lo <= m.start and m.end <= hi]
        f = _ends(layer, i, u, family, cstart, cend, in_clause, agencies)
        if f is None or f.source == f.target:
            continue
        f.family = family
        key = (f.source, f.target) if f.directed else tuple(sorted((f.source, f.target)))
        pair = frozenset(key)
        if key in seen or (not f.directed and pair in pairs):
            continue  # a second cue of the same breakdown ("unable to challenge …, unresolved")
        seen.add(key)
        pairs.add(pair)
        result.append(f)
    return result


def _other_end(
    layer: Layer, i: int, u: Unit, known: str, sentence: list[Match], want: str, make, family: str = "broken"
) -> _Found | None:
    """The link with its one named end ``known`` and the other end found: in the same
    sentence (another clause names it: not inferred), else around it (inferred)."""
    for m in sentence:
        if m.name != known:
            return make(m.name, None)
    other = _context(layer, i, u, {known}, sentence, want, family)
    return make(other, want) if other else None


def _ends(
    layer: Layer, i: int, u: Unit, family: str, cstart: int, cend: int, clause: list[Match], sentence: list[Match]
) -> _Found | None:
    text = layer.text
    before = [m for m in clause if m.start < cend and not _after_by(text, u, m)]
    after = [m for m in clause if m.start >= cend]
    by_from = [m for m in clause if _BY_FROM.search(text, max(u.start, m.start - 40), m.start)]
    to_with = [m for m in after if _TO_WITH.search(text, max(u.start, m.start - 40), m.start)]

    if family == "broken_between" or _between(text, u, clause):
        pair = _pair(layer, u, clause, cstart)
        if pair is not None:
            return _Found(pair[0], pair[1], "broken", False, None, u)
        names = unique(m.name for m in clause)
        if len(names) == 1 and family == "broken_between":
            return _other_end(
                layer, i, u, names[0], sentence, "target", lambda o, how: _Found(names[0], o, "broken", False, how, u)
            )
        return None

    if family == "broken_recipient":
        target = before[-1].name if before else None
        source = next((m.name for m in after if m.name != target), None) if target else None
        if target is None:
            return None
        if source is None:
            return _other_end(
                layer, i, u, target, sentence, "source", lambda o, how: _Found(o, target, "broken", True, how, u), family
            )
        return _Found(source, target, "broken", True, None, u)

    if family == "broken_refused":
        # "… was declined by the MASH": the refuser follows "by"; the asker is the other one.
        refuser = next((m for m in after if _REFUSED_BY.fullmatch(text, cend, m.start)), None)
        if refuser is not None:
            target = refuser.name
            asker = next((m.name for m in clause if m.name != target), None)
            if asker is not None:
                return _Found(asker, target, "broken", True, None, u)
            return _other_end(
                layer, i, u, target, sentence, "source", lambda o, how: _Found(o, target, "broken", True, how, u), family
            )
        target = before[-1].name if before else None
        if target is None:
            # "A contacted B, but the referral was not accepted", "…, which declined it": the
            # refuser is the last agency named before the cue, the asker the one before it.
            prior = unique(m.name for m in sentence if m.end <= cstart)
            if not prior:
                return None
            target = prior[-1]
            if len(prior) >= 2:
                return _Found(prior[-2], target, "broken", True, None, u)
            return _other_end(
                layer, i, u, target, sentence, "source", lambda o, how: _Found(o, target, "broken", True, how, u), family
            )
        source = next((m.name for m in after if m.name != target), None)
        if source is None:
            return _other_end(
                layer, i, u, target, sentence, "source", lambda o, how: _Found(o, target, "broken", True, how, u), family
            )
        return _Found(source, target, "broken", True, None, u)

    if family == "broken_from":
        source = after[0].name if after else None
        if source is None:
            return None
        target = next((m.name for m in reversed(before) if m.name != source), None)
        if target is None:
            return _other_end(layer, i, u, source, sentence, "target", lambda o, how: _Found(source, o, "broken", True, how, u))
        return _Found(source, target, "broken", True, None, u)

    if family == "broken_named":  # both ends in the sentence, never from the paragraph
        source = next((m.name for m in reversed(before)), None) or (by_from[0].name if by_from else None)
        target = next((m.name for m in to_with + after if m.name != source), None)
        if source and target:
            return _Found(source, target, "broken", True, None, u)
        known = source or target
        other = next((m.name for m in sentence if m.name != known), None) if known else None
        if other is None:
            return None
        return _Found(other, target, "broken", True, None, u) if target else _Found(source, other, "broken", True, None, u)

    # broken: the holder before the cue (or after "by"), the recipient after it or after
    # "to" ("a referral to CAMHS was not made").
    holders = [m for m in before if not _TO_WITH.search(text, max(u.start, m.start - 40), m.start)]
    source = holders[-1].name if holders else (by_from[0].name if by_from else None)
    recipients = [m for m in before if m not in holders] + to_with + after
    target = next((m.name for m in recipients if m.name != source), None)
    if source is not None and target is not None:
        return _Found(source, target, "broken", True, None, u)
    if source is None and target is None:
        return None
    if target is None:
        return _other_end(layer, i, u, source, sentence, "target", lambda o, how: _Found(source, o, "broken", True, how, u))
    return _other_end(layer, i, u, target, sentence, "source", lambda o, how: _Found(o, target, "broken", True, how, u))


def _after_by(text: str, u: Unit, m: Match) -> bool:
    return _BY_FROM.search(text, max(u.start, m.start - 40), m.start) is not None


def _between(text: str, u: Unit, clause: list[Match]) -> bool:
    """"between A and B" in the clause, with two agencies after it."""
    at = _BETWEEN.search(text, u.start, u.end)
    return at is not None and len({m.name for m in clause if m.start > at.start()}) >= 2


def _pair(layer: Layer, u: Unit, clause: list[Match], cstart: int) -> tuple[str, str] | None:
    """Two ends of an undirected breakdown: "between A and B", "A's and B's failure", or a
    clause naming exactly two agencies. Three or more named together is a general finding."""
    text = layer.text
    between = _BETWEEN.search(text, u.start, u.end)
    if between is not None:
        names = unique(m.name for m in clause if m.start > between.start())
        if len(names) >= 2:
            return names[0], names[1]
    names = unique(m.name for m in clause)
    if len(names) != 2:
        return None
    first = [m for m in clause if m.name == names[0]][-1]
    second = next(m for m in clause if m.name == names[1])
    if second.start < first.end:
        return None
    # Coordinated subjects ("A and B failed to communicate") or one on each side of the cue.
    if _COORDINATED.fullmatch(text, first.end, second.start) or first.start < cstart <= second.start or second.start < cstart:
        return names[0], names[1]
    return None


def _context(
    layer: Layer, i: int, u: Unit, exclude: set[str], sentence: list[Match], want: str, family: str
) -> str | None:
    """The other end of a one-ended breakdown where the sentences around it make it clear
    (see the module's docstring), or None."""
    units, text, low, cues = layer.units, layer.text, layer.plain_low, layer.cues
    section = u.section

    def same_part(j: int) -> bool:
        return 0 <= j < len(units) and units[j].section is section and units[j].case == u.case

    def others(j: int) -> list[str]:
        return [m.name for m in layer.agencies_in(units[j]) if m.name not in exclude]

    # 2. a recipient named in a consequence that follows ("That meant the HV never had it")
    if want == "target" and same_part(i + 1):
        nxt = units[i + 1]
        if cues.consequence.search(text, low, nxt.start, min(nxt.end, nxt.start + 30)) and others(i + 1):
            layer.consumed.add(i + 1)
            return others(i + 1)[0]
    # 3. the sentence before, where this one refers back to it ("this decision") or it is
    #    itself about passing information ("A notification was sent to X.")
    #    (for one left uninformed: "A notification was sent to X. The HV was not told.")
    told = family == "broken_recipient"
    if same_part(i - 1) and others(i - 1):
        prev = units[i - 1]
        if _BACK_REFERENCE.search(text, u.start, u.end) or (
            told and any(c.search(text, low, prev.start, prev.end) for c in (cues.effective, cues.telling))
        ):
            return others(i - 1)[-1]
    #    for one that declined or was not told: further back, a sentence where it dealt with
    #    another agency ("the health visitor contacted children's social care")
    for j in range(i - 1, i - 1 - _CONTEXT_SENTENCES if told or family == "broken_refused" else i - 1, -1):
        if not same_part(j):
            break
        named = {m.name for m in layer.agencies_in(units[j])}
        if named & exclude and others(j):
            return others(j)[-1]
    # 4. for the holder: the agency a reported finding last blamed ("failures by health
    #    professionals, the report found")
    if want == "source":
        blamed = _blamed_sentences(layer)
        for j in reversed(blamed[: bisect.bisect_left(blamed, i)]):
            if not same_part(j):
                if units[j].section is not section:
                    break
                continue
            if others(j):
                return others(j)[-1]
    return None


def _blamed_sentences(layer: Layer) -> list[int]:
    """The indexes of the sentences that report a finding against an agency ("the review
    found failures by the school"), found once per document."""
    found = layer.blamed
    if found is None:
        text, low, cues = layer.text, layer.plain_low, layer.cues
        doc, found = layer.doc, []
        for j, u in enumerate(layer.units):
            if not layer.agencies_in(u):
                continue
            sentence_low = low[u.start : u.end] if low is not None else None
            if cues.reporting.search(text, low, u.start, u.end) and cues.deficit.search(u.text(doc), sentence_low):
                found.append(j)
        layer.blamed = found
    return found


# ---------------------------------------------------------------------------------------
# Effective links


def _effective_in(layer: Layer, u: Unit, agencies: list[Match], kind: str) -> _Found | None:
    if len({m.name for m in agencies}) < 2:
        return None
    cues, text, low = layer.cues, layer.text, layer.plain_low
    if kind == "recommendations" or cues.prescriptive.search(text, low, u.start, u.end):
        return None
    cue = cues.effective.search(text, low, u.start, u.end)
    if cue is None:
        return None
    link = _direction(layer, u, agencies, cue.start())
    if link is None:
        return None
    return _Found(link[0], link[1], "effective", link[2], None, u)


def _direction(layer: Layer, u: Unit, agencies: list[Match], cue_pos: int) -> tuple[str, str, bool] | None:
    text = layer.text

    def preceded_by(m: Match, words: str) -> bool:
        before = text[max(u.start, m.start - 25) : m.start]
        return _preceded_by(words).search(before) is not None

    # "between A and B": undirected, in text order.
    between = re.search(r"\bbetween\b", text[u.start : u.end], re.I)
    if between:
        after = [m for m in agencies if m.start > u.start + between.start()]
        names = unique(m.name for m in after)
        if len(names) >= 2:
            return names[0], names[1], False
    # "X informed Y", "X did not notify Y": the subject passes information to the object.
    verb = layer.cues.telling.search(text, layer.plain_low, max(u.start, cue_pos - 5), u.end)
    if verb:
        before = [m for m in agencies if m.end <= verb.start()]
        after = [m for m in agencies if m.start >= verb.end() and _ONLY_ARTICLES.fullmatch(text, verb.end(), m.start)]
        if before and after and before[-1].name != after[0].name:
            return before[-1].name, after[0].name, True
    targets = [m for m in agencies if preceded_by(m, "to|with|into") and m.start > cue_pos - 40]
    sources = [m for m in agencies if preceded_by(m, "from|by")]
    target = targets[0].name if targets else None
    source = next((m.name for m in sources if m.name != target), None)
    if target is None and source is not None:
        others = [m.name for m in agencies if m.name != source]
        target = others[0] if others else None
    if target is not None and source is None:
        others = [m.name for m in agencies if m.name != target]
        source = others[0] if others else None
    if source and target and source != target:
        return source, target, True
    names = unique(m.name for m in agencies)
    if len(names) >= 2:
        return names[0], names[1], False
    return None
