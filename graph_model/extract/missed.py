"""Missed opportunities: sentences of a finding that say something was not done or went wrong."""

from __future__ import annotations

import re

from ..models import MissedOpportunity
from ..taxonomy import Match
from .cues import not_a_finding
from .layer import Layer, Unit, unique

_MO_SECTIONS = {"summary", "findings", "case", "other", "title", "key_learning", "lessons_learned"}
_RECIPIENT_BEFORE = re.compile(r"\b(?:to|into)\s+(?:(?:the|a|an)\s+)?(?:\w+\s+)?$", re.I)
PASSIVE_RECIPIENT = re.compile(
    r"\s+(?:was|were|had\s+not\s+been|has\s+not\s+been|have\s+not\s+been)\s+(?:not\s+)?(?:never\s+)?"
    r"(?:informed|told|notified|invited|consulted|asked|made\s+aware|copied\s+in|updated|sent)\b",
    re.I,
)
# After "but": a clause with a subject of its own ("but it was not considered") rather than
# one continuing the agency's own action ("but deemed … so did not escalate").
_NEW_SUBJECT = re.compile(r",?\s+(?:it|this|that|there|they|these|those|which|no|nobody|none|other|the\s+\w+\s+(?:was|were|did))\b", re.I)


def _missed_by(layer: Layer, u: Unit, agencies: list[Match], deficit_start: int) -> list[str]:
    """The agencies that missed the opportunity, not those that were to receive or that
    are credited in a contrasting clause ("Health Visitor noted this, but it was not
    considered"). Where the sentence is also a breakdown, the agency the breakdown says
    missed it (links.py: the holder, or the agency that declined)."""
    named = layer.missed_by.get(u.start)
    if named is not None:
        return [named]
    text = layer.text
    cue = deficit_start + u.start
    names = []
    for m in agencies:
        before = text[max(u.start, m.start - 25) : m.start]
        if _RECIPIENT_BEFORE.search(before):
            continue  # a recipient
        if PASSIVE_RECIPIENT.match(text, m.end):
            continue  # "the health visitor was not informed": the one left uninformed
        lo, hi = sorted((m.end, cue))
        contrast = layer.cues.contrast.search(text, layer.plain_low, lo, hi)
        if contrast and _NEW_SUBJECT.match(text, contrast.end()):
            continue  # "X noted this, but it was not considered": credited, not blamed
        names.append(m.name)
    return unique(names)


def is_missed_opportunity(layer: Layer, u: Unit) -> re.Match[str] | None:
    """The deficit cue that makes sentence ``u`` a missed opportunity, or None.

    The cheapest test that rules out most sentences first: all are filters."""
    cues = layer.cues
    text = u.text(layer.doc)
    low = layer.plain_low[u.start : u.end] if layer.plain_low is not None else None
    deficit = cues.deficit.search(text, low)  # on the sentence alone: some cues are anchored at its start
    if not deficit:
        return None
    if len(text.split()) < 4 or not_a_finding(text, low):
        return None
    if cues.prescriptive.search(text, low) and not cues.counterfactual.search(text, low):
        return None
    if not (u.agencies or cues.professional.search(text, low)):
        return None
    return deficit


def missed_opportunities(layer: Layer, review_id: str) -> list[MissedOpportunity]:
    """The missed opportunities of a review; run after :func:`links.communication_links`."""
    result = []
    for u in layer.units:
        kind = u.section.kind if u.section else "other"
        if kind not in _MO_SECTIONS:
            continue
        deficit = is_missed_opportunity(layer, u)
        if deficit is None:
            continue
        text = u.text(layer.doc)
        agencies = _missed_by(layer, u, layer.agencies_in(u), deficit.start())
        result.append(
            MissedOpportunity(
                id=f"{review_id}/mo{len(result) + 1:03d}",
                text=text,
                quote=text,
                agencies=agencies,
                family_members=unique(m.name for m in u.roles),
                themes=unique(m.name for m in u.themes),
                case=u.case,
                evidence=layer.evidence(u.start, u.end),
            )
        )
    return result
