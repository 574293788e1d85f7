"""Extraction: Document → ReviewRecord, every fact with its evidence span.

Deterministic, offline, rule-based. The rules are general patterns of how English
safeguarding reviews are written (headings, "All –" addressees, "No strategy meeting was
held", "X were not informed of the admission"), never phrases copied from one document.
Vocabulary (agencies, roles, themes) and cue words are data: the taxonomy and
``data/cues.yaml``, both extendable by a user's taxonomy file.

One module per kind of fact, over one shared layer (docs/extraction.md):

- :mod:`.layer`: items, sentences and clauses as spans of ``Document.text``, and the
  taxonomy's mentions bucketed into sentences;
- :mod:`.cues`: the cue families, compiled;
- :mod:`.metadata`: which review this is (id, title, board, type, year);
- :mod:`.mentions`: agencies, family members, themes;
- :mod:`.learning`: learning points and their addressees;
- :mod:`.missed`: missed opportunities;
- :mod:`.links`: communication links, named or with one end inferred.
"""

from __future__ import annotations

from ..confidence import score_record
from ..models import AgencyRef, CaseRef, Document, ReviewRecord
from ..taxonomy import Taxonomy, load_taxonomy
from ..timeline import find_timeline
from .layer import Layer, item_spans, sentence_spans
from .learning import learning_points
from .links import communication_links
from .mentions import family_members, involved_agencies, partnership_mentions, themes
from .metadata import extract_metadata
from .missed import missed_opportunities

__all__ = ["Layer", "extract", "extract_metadata", "item_spans", "sentence_spans"]


def extract(doc: Document, taxonomy: Taxonomy | None = None) -> ReviewRecord:
    """Extract one review's facts from a read document, each with its confidence."""
    tax = taxonomy or load_taxonomy()
    return score_record(review_record(Layer(doc, tax)), tax)


def review_record(layer: Layer) -> ReviewRecord:
    """Every fact of one review from its layer (before confidence scores)."""
    doc, tax = layer.doc, layer.tax
    meta = extract_metadata(doc)
    review_id = meta["id"]
    involved = involved_agencies(layer)
    points = learning_points(layer, review_id, list(involved))
    links = communication_links(layer, review_id)
    mos = missed_opportunities(layer, review_id)
    # Agencies named only as addressees (e.g. the partnership's subgroups), at either end of
    # a link, or the partnership where the text speaks of what it does (not only of it as
    # the review's author) still appear in the review's agency list, with their evidence.
    agency_evidence = dict(involved)
    for lp in points:
        for name in lp.agencies:
            agency_evidence.setdefault(name, (1, [lp.evidence]))
    for link in links:
        for name in (link.source, link.target):
            agency_evidence.setdefault(name, (1, [link.evidence]))
    for name, value in partnership_mentions(layer).items():
        agency_evidence.setdefault(name, value)
    agencies = [
        AgencyRef(name=n, sector=tax.sector(n), mentions=count, evidence=ev)
        for n, (count, ev) in sorted(agency_evidence.items())
    ]
    cases = [
        CaseRef(name=name, evidence=[layer.evidence(start, start + len(name))])
        for name, start, _end in layer.cases
        if layer.text[start : start + len(name)] == name
    ]
    return ReviewRecord(
        id=review_id,
        title=meta["title"],
        board=meta["board"],
        review_type=meta["review_type"],
        year=meta["year"],
        source=doc.name,
        sha256=doc.sha256,
        text_length=len(layer.text),
        cases=cases,
        agencies=agencies,
        family_members=family_members(layer),
        themes=themes(layer),
        learning_points=points,
        missed_opportunities=mos,
        communication_links=links,
        timeline=find_timeline(layer.text, layer.units, review_id, layer.evidence, tax.sector),
    )
