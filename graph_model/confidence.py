"""How sure extraction is of each fact: a ``confidence`` between 0 and 1.

The score comes from general rules about *how* a fact was found (never from one
document's wording), computed from the fact, its evidence and the taxonomy after
extraction; docs/curation.md lists the same rules for analysts. ``sgraph review-queue``
lists the facts below a threshold so that a person checks those first.

Rules (each score is rounded to two decimals and kept within 0.05-1.0):

* agency: 0.9 when a quote names it in words (its canonical name or a worded alias),
  0.6 when the quotes name it only by a capitals-only abbreviation ("HV", "MAT"), 0.4
  when no quote names it at all (it is an addressee of "all agencies" learning);
  minus 0.2 when only one sentence names it;
* family member and theme: by the sentences that name it: three or more 0.9, two 0.75,
  one 0.55;
* learning point: 0.9 from a learning, recommendations, good-practice or lessons section,
  0.75 from a findings section, 0.6 from anywhere else (a table column, closing matter);
* missed opportunity: 0.8 with an identified agency that missed it, 0.5 without one;
* communication link: 0.9 when directed and a telling verb ("informed", "referred",
  "shared", ...) stands between the source, named first, and the target; 0.8 when
  undirected because the sentence says "between" the two; 0.7 for any other directed link
  (the direction inferred from "to", "from", "by"); 0.5 for an undirected link with no
  such cue; minus 0.1 when the sentence names more than two agencies; a link whose one end
  was found outside its sentence (``inferred_end``) scores 0.45 (docs/extraction.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .models import AgencyRef, CommunicationLink, LearningPoint, MissedOpportunity, ReviewRecord
from .taxonomy import Taxonomy

LEARNING_SECTIONS = {"key_learning", "lessons_learned", "recommendations", "good_practice", "learning_taken"}

_TELLING = re.compile(
    r"\b(?:inform|told|tell|notif|refer|shar|pass|sen[dt]|report|contact|alert|call|phon|telephon|e-?mail|"
    r"updat|advis|forward|provid|discuss|liais|escalat|request)\w*",
    re.I,
)
_BETWEEN = re.compile(r"\bbetween\b", re.I)
_ABBREVIATION = re.compile(r"[A-Z0-9&]{2,6}s?")


def _score(value: float) -> float:
    return round(min(1.0, max(0.05, value)), 2)


def _by_mentions(mentions: int) -> float:
    return 0.9 if mentions >= 3 else 0.75 if mentions == 2 else 0.55


def _finder(tax: Taxonomy, cache: dict[str, list] | None) -> Callable[[str], list]:
    """The taxonomy's agency matches in a quote; one review's facts share many quotes."""
    if cache is None:
        return tax.agency_matcher.find

    def find(quote: str) -> list:
        found = cache.get(quote)
        if found is None:
            found = cache[quote] = tax.agency_matcher.find(quote)
        return found

    return find


def agency_confidence(agency: AgencyRef, tax: Taxonomy, cache: dict[str, list] | None = None) -> float:
    find = _finder(tax, cache)
    surfaces = []
    for ev in agency.evidence:
        for m in find(ev.quote):
            if m.name == agency.name:
                surfaces.append(ev.quote[m.start : m.end])
    if any(s.lower() == agency.name.lower() or not _ABBREVIATION.fullmatch(s) for s in surfaces):
        score = 0.9
    elif surfaces:
        score = 0.6
    else:
        score = 0.4
    if agency.mentions <= 1:
        score -= 0.2
    return _score(score)


def learning_confidence(lp: LearningPoint) -> float:
    section = lp.evidence.section
    return _score(0.9 if section in LEARNING_SECTIONS else 0.75 if section == "findings" else 0.6)


def missed_confidence(mo: MissedOpportunity) -> float:
    return _score(0.8 if mo.agencies else 0.5)


# A link with one end found in the sentences around its own: below every link whose
# sentence names both ends.
INFERRED_LINK = 0.45


def link_confidence(link: CommunicationLink, tax: Taxonomy, cache: dict[str, list] | None = None) -> float:
    if link.inferred_end is not None:
        return INFERRED_LINK
    quote = link.quote
    found = _finder(tax, cache)(quote)
    score = 0.5
    if link.directed:
        score = 0.7
        sources = [m for m in found if m.name == link.source]
        targets = [m for m in found if m.name == link.target]
        if sources and targets and sources[0].end <= targets[-1].start:
            target = next(t for t in targets if t.start >= sources[0].end)
            source = [s for s in sources if s.end <= target.start][-1]
            if _TELLING.search(quote, source.end, target.start):
                score = 0.9
    elif _BETWEEN.search(quote):
        score = 0.8
    if len({m.name for m in found}) > 2:
        score -= 0.1
    return _score(score)


def score_record(record: ReviewRecord, tax: Taxonomy) -> ReviewRecord:
    """Set the ``confidence`` of every fact of ``record`` (in place) and return it."""
    cache: dict[str, list] = {}
    for a in record.agencies:
        a.confidence = agency_confidence(a, tax, cache)
    for fm in record.family_members:
        fm.confidence = _score(_by_mentions(fm.mentions))
    for t in record.themes:
        t.confidence = _score(_by_mentions(t.mentions))
    for lp in record.learning_points:
        lp.confidence = learning_confidence(lp)
    for mo in record.missed_opportunities:
        mo.confidence = missed_confidence(mo)
    for link in record.communication_links:
        link.confidence = link_confidence(link, tax, cache)
    return record
