"""The agencies, family members and themes a review names, each with its first sentences."""

from __future__ import annotations

import re

from ..models import Evidence, FamilyMemberRef, ThemeRef
from .layer import MAX_EVIDENCE, PARTNERSHIP, Layer
from .missed import is_missed_opportunity

Mentions = dict[tuple[str, str | None], tuple[int, list[Evidence]]]


def _mentions(layer: Layer, attr: str, with_case: bool = False) -> Mentions:
    """Per entity (and case): how many sentences mention it, and the first few of them.

    A long review names "the mother" hundreds of times; the first MAX_EVIDENCE sentences
    are kept as evidence and ``mentions`` counts them all.
    """
    found: Mentions = {}
    sector = layer.tax.sector
    for u in layer.units:
        matches = getattr(u, attr)
        if not matches:
            continue
        names = {m.name for m in matches}
        for name in sorted(names):
            if attr == "agencies" and sector(name) == PARTNERSHIP:
                continue
            key = (name, u.case if with_case else None)
            count, evidence = found.get(key, (0, []))
            if len(evidence) < MAX_EVIDENCE:
                evidence.append(layer.evidence(u.start, u.end))
            found[key] = (count + 1, evidence)
    return found


def involved_agencies(layer: Layer) -> dict[str, tuple[int, list[Evidence]]]:
    """Each agency the review names (the partnership aside), with its sentence count and evidence."""
    return {name: v for (name, _case), v in _mentions(layer, "agencies").items()}


_NUMBER = r"(?:\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)"
# A child described as older than a baby: "a 15-year-old", "who was eight", "aged 4", "teenager".
_OLDER_CHILD = re.compile(
    rf"\b{_NUMBER}[-\s]years?[-\s]old\b|\bwho\s+was\s+(?:aged\s+)?{_NUMBER}\b(?![-\s](?:weeks?|months?|days?))"
    rf"|\baged\s+{_NUMBER}\b(?![-\s](?:weeks?|months?|days?))|\bteenage|\badolescen|\byoung\s+person",
    re.I,
)


def family_members(layer: Layer) -> list[FamilyMemberRef]:
    """The family roles the review names. Where the child at the centre is a baby, "the child"
    is that baby: the role "child" is kept only for a child described as older."""
    found = _mentions(layer, "roles", with_case=True)
    if any(role == "baby" for role, _case in found):
        older = any(
            _OLDER_CHILD.search(layer.text, u.start, u.end) for u in layer.units if any(m.name == "child" for m in u.roles)
        )
        if not older:
            found = {key: v for key, v in found.items() if key[0] != "child"}
    return [FamilyMemberRef(role=r, case=c, mentions=n, evidence=ev) for (r, c), (n, ev) in found.items()]


def themes(layer: Layer) -> list[ThemeRef]:
    found = {name: v for (name, _case), v in _mentions(layer, "themes").items()}
    order = list(layer.tax.themes)
    return [ThemeRef(name=n, mentions=found[n][0], evidence=found[n][1]) for n in sorted(found, key=order.index)]


# The partnership as the review's author or publisher: "published by the X Safeguarding
# Children Board", "a review by the partnership", "the LSCB published".
_AUTHOR_BEFORE = re.compile(
    r"(?:\b(?:published|produced|commissioned|conducted|carried\s+out|undertaken|written|led|released)\s+"
    r"(?:\w+\s+){0,4}by|\b(?:review|report|SCR|CSPR)\b[^.;]{0,40}?\b(?:by|for|of|from))\s+(?:the\s+)?"
    r"(?:[A-Z][\w'\u2019&-]*\s+(?:and\s+|&\s+)?){0,5}$",
)
_AUTHOR_AFTER = re.compile(
    r"(?:\s*\([A-Z]{2,6}\))?(?:'s|\u2019s)?\s+(?:has\s+|have\s+|had\s+)?(?:just\s+|now\s+|today\s+)?"
    r"(?:published|commissioned|conducted|carried\s+out|produced|released|review|report|serious\s+case\s+review)\b",
    re.I,
)


# What a partnership does with a review's learning: "has undertaken improvements", "the Chair of the LSCB".
_PARTNERSHIP_ACTS = re.compile(
    r"\b(?:improv\w*|developing|developed|undertaken|strengthen\w*|action\s+plan|chair\w*|made\s+(?:\w+\s+)?changes|"
    r"accepted\s+(?:all\s+)?(?:the\s+)?recommendations|respond\w*\s+to\s+the\s+(?:review|recommendations))\b",
    re.I,
)


def partnership_mentions(layer: Layer) -> dict[str, tuple[int, list[Evidence]]]:
    """The partnership (board) as an agency of the review where a finding is about it ("there
    was no evidence that the LSCB escalation procedure was used") or the text says what it
    did with the learning ("the partnership has made changes"); never only as the review's
    author or publisher, nor for its website or training. Learning addressed to it counts
    too (learning.py)."""
    text, sector = layer.text, layer.tax.sector
    found: dict[str, tuple[int, list[Evidence]]] = {}
    for u in layer.units:
        if not any(sector(m.name) == PARTNERSHIP for m in u.agencies):
            continue
        if not (_PARTNERSHIP_ACTS.search(text, u.start, u.end) or is_missed_opportunity(layer, u)):
            continue
        for m in u.agencies:
            if sector(m.name) != PARTNERSHIP:
                continue
            if _AUTHOR_BEFORE.search(text, max(u.start, m.start - 120), m.start) or _AUTHOR_AFTER.match(text, m.end):
                continue
            count, evidence = found.get(m.name, (0, []))
            if len(evidence) < MAX_EVIDENCE and (not evidence or evidence[-1].start != u.start):
                evidence.append(layer.evidence(u.start, u.end))
            found[m.name] = (count + 1, evidence)
    return found
