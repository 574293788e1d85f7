"""The graph schema: the fixed list of node labels, keys and relationship types.

The networkx graph built by :mod:`graph_model.build`, the embedded store and Neo4j all
hold exactly these labels and types. Any label or relationship type that is ever placed
into a Cypher string comes from this module (never from user input); values always travel
as parameters. ``docs/schema.md`` describes the same schema for people.

networkx representation (a ``MultiDiGraph``):

* node id: ``"<Label>:<key value>"``; node attributes: ``label`` plus the properties;
* edge key: the relationship's ``id``; edge attributes: ``type`` plus the properties.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeType:
    label: str
    key: str
    properties: dict[str, str]  # property name -> type ("STRING", "INT64", "DOUBLE", "BOOLEAN", "STRING[]")
    owned_by_review: bool  # True: the node belongs to one review and goes when the review is replaced


@dataclass(frozen=True)
class RelType:
    type: str
    pairs: tuple[tuple[str, str], ...]  # (from label, to label)
    properties: dict[str, str]


EVIDENCE_PROPS = {
    "quote": "STRING",
    "start": "INT64",
    "end": "INT64",
    "section": "STRING",
}

# Every extracted fact (a fact node, or the relationship that is the fact) carries how sure
# extraction is of it and whether an analyst added or changed it (docs/curation.md).
# ``curated`` is only set (true) on curated facts.
FACT_PROPS = {
    "confidence": "DOUBLE",
    "curated": "BOOLEAN",
}

NODE_TYPES: dict[str, NodeType] = {
    nt.label: nt
    for nt in [
        NodeType(
            "Review",
            "id",
            {
                "id": "STRING",
                "title": "STRING",
                "board": "STRING",
                "review_type": "STRING",
                "year": "INT64",
                "source": "STRING",
                "sha256": "STRING",
                "text_length": "INT64",
                # its COMMUNICATION relationships by status, counted at build: a review's
                # links join agencies, so no pattern from the review reaches them cheaply
                "broken_links": "INT64",
                "effective_links": "INT64",
            },
            True,
        ),
        NodeType("Case", "id", {"id": "STRING", "name": "STRING", "review_id": "STRING"}, True),
        NodeType(
            "Agency",
            "name",
            {
                "name": "STRING",
                "sector": "STRING",
                # totals (graph_model/totals.py): its broken COMMUNICATION links at either end,
                # those it sent, the reviews they come from; its MISSED_BY and their reviews
                "broken_links": "INT64",
                "broken_sent": "INT64",
                "broken_reviews": "INT64",
                "missed_opportunities": "INT64",
                "missed_reviews": "INT64",
            },
            False,
        ),
        NodeType(
            "FamilyMember",
            "id",
            {
                "id": "STRING",
                "role": "STRING",
                "case": "STRING",
                "review_id": "STRING",
                "missed_opportunities": "INT64",  # total: the missed opportunities that concern it (CONCERNS)
            },
            True,
        ),
        NodeType(
            "Theme",
            "name",
            # totals: the reviews that raise it, and the first and last of their years
            {"name": "STRING", "description": "STRING", "reviews": "INT64", "first_year": "INT64", "last_year": "INT64"},
            False,
        ),
        NodeType(
            "LearningPoint",
            "id",
            {
                "id": "STRING",
                "text": "STRING",
                "kind": "STRING",
                "all_agencies": "BOOLEAN",
                "addressees": "INT64",  # how many agencies it is addressed to (ADDRESSED_TO count)
                # totals: its highest SIMILAR_TO score, how many of its SIMILAR_TO have that
                # score, and its place among all points in the order of that score (highest
                # first), then id (1, 2, ...); absent without a SIMILAR_TO
                "best_score": "DOUBLE",
                "best_links": "INT64",
                "best_rank": "INT64",
                "case": "STRING",
                "review_id": "STRING",
                **EVIDENCE_PROPS,
                **FACT_PROPS,
            },
            True,
        ),
        NodeType(
            "MissedOpportunity",
            "id",
            {"id": "STRING", "text": "STRING", "case": "STRING", "review_id": "STRING", **EVIDENCE_PROPS, **FACT_PROPS},
            True,
        ),
        NodeType(
            "TimelineEvent",
            "id",
            {
                "id": "STRING",
                "review_id": "STRING",
                "date_text": "STRING",
                "date_from": "STRING",  # ISO yyyy-mm-dd, inclusive
                "date_to": "STRING",
                "precision": "STRING",
                "text": "STRING",
                "agencies": "STRING",  # the MENTIONS_AGENCY names in the order the text names them, joined by "; "
                "case": "STRING",
                **EVIDENCE_PROPS,
            },
            True,
        ),
        # Totals only: one node per kind of learning point, with how many points of the kind
        # are addressed to all agencies, one, several or none, and in how many reviews.
        NodeType(
            "LearningKind",
            "name",
            {
                "name": "STRING",
                "all_agencies": "INT64",
                "all_agencies_reviews": "INT64",
                "one_agency": "INT64",
                "one_agency_reviews": "INT64",
                "several_agencies": "INT64",
                "several_agencies_reviews": "INT64",
                "no_agency": "INT64",
                "no_agency_reviews": "INT64",
            },
            False,
        ),
    ]
}

REL_TYPES: dict[str, RelType] = {
    rt.type: rt
    for rt in [
        RelType("HAS_CASE", (("Review", "Case"),), {"id": "STRING", "review_id": "STRING"}),
        RelType(
            "INVOLVES",
            (("Review", "Agency"),),
            {"id": "STRING", "review_id": "STRING", "mentions": "INT64", **EVIDENCE_PROPS, **FACT_PROPS},
        ),
        RelType(
            "HAS_FAMILY_MEMBER",
            (("Review", "FamilyMember"), ("Case", "FamilyMember")),
            {"id": "STRING", "review_id": "STRING", **EVIDENCE_PROPS, **FACT_PROPS},
        ),
        RelType(
            "RAISES",
            (("Review", "Theme"),),
            {"id": "STRING", "review_id": "STRING", "mentions": "INT64", **EVIDENCE_PROPS, **FACT_PROPS},
        ),
        RelType("HAS_LEARNING", (("Review", "LearningPoint"),), {"id": "STRING", "review_id": "STRING"}),
        RelType(
            "HAS_MISSED_OPPORTUNITY",
            (("Review", "MissedOpportunity"),),
            {"id": "STRING", "review_id": "STRING"},
        ),
        RelType(
            "ABOUT_THEME",
            (("LearningPoint", "Theme"), ("MissedOpportunity", "Theme")),
            {"id": "STRING", "review_id": "STRING"},
        ),
        RelType(
            "ADDRESSED_TO",
            (("LearningPoint", "Agency"),),
            {"id": "STRING", "review_id": "STRING", "all_agencies": "BOOLEAN"},
        ),
        RelType("MISSED_BY", (("MissedOpportunity", "Agency"),), {"id": "STRING", "review_id": "STRING"}),
        RelType("CONCERNS", (("MissedOpportunity", "FamilyMember"),), {"id": "STRING", "review_id": "STRING"}),
        RelType("HAS_EVENT", (("Review", "TimelineEvent"),), {"id": "STRING", "review_id": "STRING"}),
        RelType("MENTIONS_AGENCY", (("TimelineEvent", "Agency"),), {"id": "STRING", "review_id": "STRING"}),
        RelType(
            "COMMUNICATION",
            (("Agency", "Agency"),),
            {
                "id": "STRING",
                "review_id": "STRING",
                "status": "STRING",
                "directed": "BOOLEAN",
                "inferred_end": "STRING",
                "case": "STRING",
                **EVIDENCE_PROPS,
                **FACT_PROPS,
            },
        ),
        # Cross-review: made at build time once every review is in (graph_model/recurring.py),
        # from the lower learning point id to the higher. No review_id: no single review owns
        # it, and the Neo4j loader rewrites all of them whenever a load changes anything.
        RelType("SIMILAR_TO", (("LearningPoint", "LearningPoint"),), {"id": "STRING", "score": "DOUBLE"}),
        # Totals only: one per pair of agencies joined by COMMUNICATION in either direction,
        # from the name that sorts first to the other, with the pair's broken and effective
        # links and the reviews they come from. No review_id: made from the whole graph.
        RelType(
            "LINKED_WITH",
            (("Agency", "Agency"),),
            {"id": "STRING", "broken": "INT64", "effective": "INT64", "reviews": "INT64"},
        ),
    ]
}

# Totals: counts kept in the graph so that the query library reads them instead of walking
# every link, missed opportunity or learning point (docs/schema.md, "Totals"). They are
# computed from the whole graph at build (graph_model/totals.py) and, in Neo4j, recounted
# over the whole database after every load (cypher/totals/recount.cypher): label or type ->
# its total properties. TOTALS_LABELS and TOTALS_REL_TYPES hold totals and nothing else.
TOTALS: dict[str, tuple[str, ...]] = {
    "Agency": ("broken_links", "broken_sent", "broken_reviews", "missed_opportunities", "missed_reviews"),
    "Theme": ("reviews", "first_year", "last_year"),
    "FamilyMember": ("missed_opportunities",),
    "LearningPoint": ("best_score", "best_links", "best_rank"),
    "LearningKind": (
        "all_agencies",
        "all_agencies_reviews",
        "one_agency",
        "one_agency_reviews",
        "several_agencies",
        "several_agencies_reviews",
        "no_agency",
        "no_agency_reviews",
    ),
    "LINKED_WITH": ("broken", "effective", "reviews"),
}
TOTALS_LABELS: tuple[str, ...] = ("LearningKind",)
TOTALS_REL_TYPES: tuple[str, ...] = ("LINKED_WITH",)

# Properties the query library filters on, indexed in both engines besides every key and
# review_id: (NODE or RELATIONSHIP, label or type, property).
QUERY_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("RELATIONSHIP", "COMMUNICATION", "status"),
    ("NODE", "Review", "year"),
    ("NODE", "FamilyMember", "role"),
    ("NODE", "LearningPoint", "kind"),
    ("NODE", "LearningPoint", "best_rank"),
)

LABELS: tuple[str, ...] = tuple(NODE_TYPES)
REL_TYPE_NAMES: tuple[str, ...] = tuple(REL_TYPES)


def stored_properties(data: dict, allowed: dict[str, str], drop: Iterable[str] = ()) -> dict:
    """The properties of a node or relationship that a store writes: those of ``allowed``
    (a schema type's ``properties``) that ``data`` holds and that are not null, less ``drop``.
    Neither store keeps nulls: a property that is absent reads as null."""
    get = data.get
    if drop:
        dropped = set(drop)
        return {k: v for k in allowed if (v := get(k)) is not None and k not in dropped}
    return {k: v for k in allowed if (v := get(k)) is not None}


def cypher_name(name: str) -> str:
    """A label, relationship type or property name in backticks, for a Cypher string (names
    come from this module only; values always travel as parameters)."""
    return "`" + name.replace("`", "``") + "`"


def relationship_kind(nodes: Any, u: str, v: str, data: dict) -> tuple[str, str, str]:
    """(type, from label, to label) of a relationship of the graph (``nodes`` is the graph's
    ``nodes``). A type or a pair of labels the schema does not allow is a ``ValueError``."""
    rtype = data.get("type")
    if rtype not in REL_TYPES:
        raise ValueError(f"the graph holds a relationship of type {rtype!r}, which the schema does not know.")
    pair = (nodes[u]["label"], nodes[v]["label"])
    if pair not in REL_TYPES[rtype].pairs:
        raise ValueError(f"the graph holds a {rtype} relationship from {pair[0]} to {pair[1]}, which the schema does not allow.")
    return rtype, pair[0], pair[1]


def relationship_row(nodes: Any, u: str, v: str, data: dict) -> tuple[tuple[str, str, str], dict]:
    """One relationship of the graph as a store writes it: ((type, from label, to label),
    {"from": from key, "to": to key, "p": its stored properties}). ``nodes`` is the graph's
    ``nodes``. A type or a pair of labels the schema does not allow is a ``ValueError``."""
    rtype, la, lb = relationship_kind(nodes, u, v, data)
    row = {
        "from": nodes[u][NODE_TYPES[la].key],
        "to": nodes[v][NODE_TYPES[lb].key],
        "p": stored_properties(data, REL_TYPES[rtype].properties),
    }
    return (rtype, la, lb), row


def node_id(label: str, key_value: str) -> str:
    """The networkx node id of a node."""
    if label not in NODE_TYPES:
        raise ValueError(f"unknown label {label!r}")
    return f"{label}:{key_value}"


def check_label(label: str) -> str:
    """Return ``label`` if it is one of the schema's labels, else raise ``ValueError``."""
    if label not in NODE_TYPES:
        raise ValueError(f"unknown label {label!r}")
    return label


def check_rel_type(rel_type: str) -> str:
    """Return ``rel_type`` if it is one of the schema's relationship types, else raise."""
    if rel_type not in REL_TYPES:
        raise ValueError(f"unknown relationship type {rel_type!r}")
    return rel_type
