"""Human curation: annotation files analysts edit, applied over automatic extraction.

``sgraph extract DOCS --out annotations/`` writes one YAML file per review (schema:
:class:`AnnotationFile`, described for analysts in docs/curation.md). Analysts delete,
add and change entries; ``sgraph build DOCS --annotations annotations/`` then takes each
file's facts as its review's facts (:func:`apply_annotation`): an entry identical to the
automatic fact stays automatic, an added or changed one is marked ``curated``, a removed
one disappears, and a curated fact whose quote is no longer in the document is reported
and left out. ``sgraph review-queue`` (:func:`review_queue`) lists the facts extraction is
least sure of.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .errors import InputError, OutputError, SgraphError, UsageError, yaml_problem
from .models import (
    AgencyRef,
    CommunicationLink,
    Document,
    Evidence,
    FamilyMemberRef,
    LearningKind,
    LearningPoint,
    LinkStatus,
    MissedOpportunity,
    ReviewRecord,
    ThemeRef,
)
from .outpath import check_out_file
from .taxonomy import Taxonomy, did_you_mean
from .text import shorten

SCHEMA_VERSION = 1
ANALYST_SECTION = "analyst"  # the section of a learning point in an analyst's own words, without a quote
FACT_LISTS = (
    "agencies",
    "family_members",
    "themes",
    "learning_points",
    "missed_opportunities",
    "communication_links",
)
KIND_NAMES = {
    "agencies": "agency",
    "family_members": "family member",
    "themes": "theme",
    "learning_points": "learning point",
    "missed_opportunities": "missed opportunity",
    "communication_links": "communication link",
}

# ---------------------------------------------------------------------------------------
# The file's schema


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Written for the analyst to read; ignored when the file is applied (the section is
    # where the quote is found, the confidence is the rules' or, when curated, 1.0).
    confidence: float | None = None
    section: str | None = None


class AgencyEntry(_Entry):
    name: str
    mentions: int | None = None
    quote: str | None = None


class FamilyMemberEntry(_Entry):
    role: str
    case: str | None = None
    mentions: int | None = None
    quote: str | None = None


class ThemeEntry(_Entry):
    name: str
    mentions: int | None = None
    quote: str | None = None


class _Worded(_Entry):
    """A learning point or missed opportunity: its ``text`` defaults to its ``quote``."""

    id: str | None = None
    text: str | None = None
    quote: str | None = None

    @model_validator(mode="after")
    def _text_or_quote(self) -> _Worded:
        if not (self.text or "").strip() and not (self.quote or "").strip():
            raise ValueError("give its text or a quote from the document")
        return self


class LearningPointEntry(_Worded):
    kind: LearningKind
    themes: list[str] = []
    agencies: list[str] = []
    all_agencies: bool = False
    case: str | None = None


class MissedOpportunityEntry(_Worded):
    agencies: list[str] = []
    family_members: list[str] = []
    themes: list[str] = []
    case: str | None = None

    @model_validator(mode="after")
    def _needs_quote(self) -> MissedOpportunityEntry:
        if not (self.quote or "").strip():
            raise ValueError("a missed opportunity needs a quote from the document")
        return self


class CommunicationLinkEntry(_Entry):
    id: str | None = None
    source: str
    target: str
    status: LinkStatus
    directed: bool = True
    # The end extraction found around the quote rather than in it (docs/extraction.md); an
    # analyst who confirms the link removes it.
    inferred_end: Literal["source", "target"] | None = None
    case: str | None = None
    quote: str


class AnnotationFile(BaseModel):
    """One review's annotation file (``<review id>.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1]
    review: str
    source: str
    sha256: str | None = None
    agencies: list[AgencyEntry]
    family_members: list[FamilyMemberEntry]
    themes: list[ThemeEntry]
    learning_points: list[LearningPointEntry]
    missed_opportunities: list[MissedOpportunityEntry]
    communication_links: list[CommunicationLinkEntry]


# ---------------------------------------------------------------------------------------
# Writing: extract --out


def annotation_file_name(review_id: str) -> str:
    """``<review id>.yaml``, with any character other than letters, digits, ``.``, ``-`` and
    ``_`` replaced by ``_`` ("Child X" → ``Child_X.yaml``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", review_id).lstrip(".") + ".yaml"


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def record_to_annotation(record: ReviewRecord) -> dict:
    """The annotation file's content for an extracted review (a plain dict, in file order)."""

    def ev(e: Evidence, confidence: float) -> dict:
        return {"confidence": confidence, "section": e.section, "quote": e.quote}

    def worded(f: LearningPoint | MissedOpportunity) -> dict:
        return {} if _same(f.text, f.quote) else {"text": f.text}

    return {
        "schema_version": SCHEMA_VERSION,
        "review": record.id,
        "source": record.source,
        "sha256": record.sha256,
        "agencies": [
            {"name": a.name, "mentions": a.mentions, **ev(a.evidence[0], a.confidence)} for a in record.agencies
        ],
        "family_members": [
            {"role": m.role, "case": m.case, "mentions": m.mentions, **ev(m.evidence[0], m.confidence)}
            for m in record.family_members
        ],
        "themes": [{"name": t.name, "mentions": t.mentions, **ev(t.evidence[0], t.confidence)} for t in record.themes],
        "learning_points": [
            {
                "id": lp.id,
                "kind": lp.kind,
                **worded(lp),
                "themes": list(lp.themes),
                "agencies": list(lp.agencies),
                "all_agencies": lp.all_agencies,
                "case": lp.case,
                **ev(lp.evidence, lp.confidence),
            }
            for lp in record.learning_points
        ],
        "missed_opportunities": [
            {
                "id": mo.id,
                **worded(mo),
                "agencies": list(mo.agencies),
                "family_members": list(mo.family_members),
                "themes": list(mo.themes),
                "case": mo.case,
                **ev(mo.evidence, mo.confidence),
            }
            for mo in record.missed_opportunities
        ],
        "communication_links": [
            {
                "id": link.id,
                "source": link.source,
                "target": link.target,
                "status": link.status,
                "directed": link.directed,
                **({"inferred_end": link.inferred_end} if link.inferred_end else {}),
                "case": link.case,
                **ev(link.evidence, link.confidence),
            }
            for link in record.communication_links
        ],
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Long quotes in block style: a multi-line one literally, a long line folded.
    style = "|" if "\n" in value else ">" if len(value) > 72 else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

_HEADER = """\
# Annotation file for review {review} ({source}), written by 'sgraph extract --out'.
# Edit it to correct the graph, then: sgraph build DOCUMENTS --annotations FOLDER
# Delete an entry to remove a fact, add one (with a quote from the document) to add a fact,
# change fields to correct one. 'confidence' and 'section' are for reading only.
# The schema and a worked example: docs/curation.md
"""


def annotation_yaml(record: ReviewRecord) -> str:
    """The text of a review's annotation file."""
    body = yaml.dump(
        record_to_annotation(record), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100
    )
    return _HEADER.format(review=record.id, source=record.source) + body


def write_annotations(records: Sequence[ReviewRecord], out_dir: str | os.PathLike[str], force: bool = False) -> list[Path]:
    """One annotation file per review in ``out_dir``; nothing is written if any file exists
    and ``force`` is not given, or if two reviews would share a file name."""
    from .build import atomic_write_text

    out = Path(out_dir)
    blocker = next((p for p in (out, *out.parents) if p.exists() or p.is_symlink()), None)
    if blocker is not None and not blocker.is_dir():
        raise OutputError(f"{out}: cannot create the annotations folder ({blocker} is a file, not a folder).")
    targets: dict[Path, ReviewRecord] = {}
    for r in records:
        path = out / annotation_file_name(r.id)
        if path in targets:
            raise OutputError(
                f"{path}: reviews '{targets[path].id}' and '{r.id}' would share this annotation file; "
                "give each review its own code."
            )
        check_out_file(path)
        if path.exists() and not force:
            raise OutputError(f"{path}: already exists; use --force to overwrite it.")
        targets[path] = r
    texts = {path: annotation_yaml(r) for path, r in targets.items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, text in texts.items():
            atomic_write_text(path, text)
    except OSError as exc:
        raise OutputError(f"{out}: the annotation files cannot be written ({exc.strerror or exc}).") from None
    return list(texts)


# ---------------------------------------------------------------------------------------
# Reading and validating


@dataclass
class Annotation:
    """A validated annotation file, with the line of each of its entries."""

    path: Path
    data: AnnotationFile
    nodes: yaml.Node

    def line(self, *loc: object) -> int:
        """The 1-based line of the YAML node at ``loc`` (keys and list indexes), or of its
        nearest existing parent."""
        node = self.nodes
        for key in loc:
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == key:
                        nxt = v
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                nxt = node.value[key]
            if nxt is None:
                break
            node = nxt
        return node.start_mark.line + 1

    def error(self, loc: Sequence[object], problem: str) -> InputError:
        return InputError(f"{self.path}, line {self.line(*loc)}: {problem}")


def _where(loc: Sequence[object]) -> str:
    """'directed' of communication_links entry 3 — a pydantic location for people."""
    parts = [p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "model-")))]
    if not parts:
        return "the file"
    if len(parts) >= 2 and isinstance(parts[1], int):
        entry = f"{parts[0]} entry {parts[1] + 1}"
        rest = [str(p) for p in parts[2:]]
        return f"'{'.'.join(rest)}' of {entry}" if rest else entry
    return "'" + ".".join(str(p) for p in parts) + "'"


def _pydantic_problem(err: dict) -> str:
    """One pydantic error as a phrase naming the field: "'status' of communication_links entry 6 is missing"."""
    where = _where(err["loc"])
    if err.get("type") == "missing":
        return f"{where} is missing"
    if err.get("type") == "extra_forbidden":
        return f"{where} is not a field of the annotation schema (see docs/curation.md)"
    msg = re.sub(r"^Value error, ", "", str(err.get("msg") or "invalid value"))
    return f"{where}: {msg[0].lower() + msg[1:]}"


def load_annotation(path: str | os.PathLike[str], tax: Taxonomy) -> Annotation:
    """Read and validate one annotation file: schema, then taxonomy names and references.

    Agency names are turned into canonical names (an alias such as "HV" is accepted).
    Raises :class:`InputError` naming the file and the line.
    """
    from . import safeyaml

    path = Path(path)
    text = safeyaml.read_text_file(path, InputError)
    try:
        nodes = safeyaml.compose(text)
        data = safeyaml.load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: {yaml_problem(exc)}.") from None
    if not isinstance(data, dict) or nodes is None:
        raise InputError(f"{path}: is not an annotation file (a mapping with 'review' and the facts); see docs/curation.md.")
    ann = Annotation(path, None, nodes)  # type: ignore[arg-type]
    try:
        ann.data = AnnotationFile.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: ann.line(*e["loc"]))
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ann.error(first["loc"], f"{_pydantic_problem(first)}{more}.") from None
    _check_names(ann, tax)
    return ann


def _suggest(name: str, choices: Iterable[str]) -> str:
    return did_you_mean(name, {c.lower(): c for c in choices})


def _check_names(ann: Annotation, tax: Taxonomy) -> None:
    d = ann.data

    def agency(name: str, loc: tuple) -> str:
        try:
            return tax.resolve_agency(name)
        except UsageError as exc:
            raise ann.error(loc, exc.message) from None

    def theme(name: str, loc: tuple) -> str:
        if name not in tax.themes:
            raise ann.error(
                loc, f"Unknown theme '{name}'.{_suggest(name, tax.themes)} Run 'sgraph taxonomy --kind theme' to list themes."
            )
        return name

    def role(name: str, loc: tuple) -> str:
        if name not in tax.roles:
            raise ann.error(
                loc, f"Unknown family role '{name}'.{_suggest(name, tax.roles)} Run 'sgraph taxonomy --kind role' to list roles."
            )
        return name

    for i, a in enumerate(d.agencies):
        a.name = agency(a.name, ("agencies", i, "name"))
    for i, m in enumerate(d.family_members):
        role(m.role, ("family_members", i, "role"))
    for i, t in enumerate(d.themes):
        theme(t.name, ("themes", i, "name"))
    listed = {a.name for a in d.agencies}

    def in_review(name: str, loc: tuple) -> str:
        name = agency(name, loc)
        if name not in listed:
            raise ann.error(loc, f"'{name}' is not in this review's agencies; add it to 'agencies' (with a quote) or remove it here.")
        return name

    for i, lp in enumerate(d.learning_points):
        lp.agencies = [in_review(a, ("learning_points", i, "agencies", j)) for j, a in enumerate(lp.agencies)]
        lp.themes = [theme(t, ("learning_points", i, "themes", j)) for j, t in enumerate(lp.themes)]
    for i, mo in enumerate(d.missed_opportunities):
        mo.agencies = [in_review(a, ("missed_opportunities", i, "agencies", j)) for j, a in enumerate(mo.agencies)]
        mo.themes = [theme(t, ("missed_opportunities", i, "themes", j)) for j, t in enumerate(mo.themes)]
        mo.family_members = [role(r, ("missed_opportunities", i, "family_members", j)) for j, r in enumerate(mo.family_members)]
    for i, link in enumerate(d.communication_links):
        link.source = in_review(link.source, ("communication_links", i, "source"))
        link.target = in_review(link.target, ("communication_links", i, "target"))
        if link.source == link.target:
            raise ann.error(("communication_links", i, "target"), f"a link needs two different agencies (both are '{link.source}').")
    # Each fact once: agencies and themes by name, family members by role and case, the rest by id.
    keys = {
        "agencies": lambda e: e.name,
        "family_members": lambda e: (e.role, e.case),
        "themes": lambda e: e.name,
        "learning_points": lambda e: e.id,
        "missed_opportunities": lambda e: e.id,
        "communication_links": lambda e: e.id,
    }
    for kind, key in keys.items():
        seen: set = set()
        for i, e in enumerate(getattr(d, kind)):
            k = key(e)
            if k is None:
                continue
            if k in seen:
                shown = " ".join(x for x in k if x) if isinstance(k, tuple) else k
                raise ann.error((kind, i), f"{KIND_NAMES[kind]} '{shown}' appears twice in {kind}.")
            seen.add(k)


def load_annotations(folder: str | os.PathLike[str], tax: Taxonomy) -> dict[str, Annotation]:
    """Every ``*.yaml`` annotation file in ``folder`` (not hidden), validated, by review id."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such annotations folder (write one with 'sgraph extract DOCUMENTS --out {folder}').")
    found: dict[str, Annotation] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")):
        ann = load_annotation(path, tax)
        rid = ann.data.review
        if rid in found:
            raise InputError(f"{path}: is a second annotation file for review '{rid}' (the first is {found[rid].path}).")
        found[rid] = ann
    return found


# ---------------------------------------------------------------------------------------
# Applying


@dataclass
class StaleQuote:
    """A curated fact left out because its quote is not in the document."""

    path: Path
    line: int
    kind: str
    fact: str
    quote: str
    kept: bool = False  # an agency, family member or theme extraction still finds: kept as automatic

    def message(self, source: str) -> str:
        q = " ".join(self.quote.split())
        q = q if len(q) <= 80 else q[:79] + "\u2026"
        outcome = (
            "the automatic fact was kept, with the quote extraction finds now" if self.kept else "the fact was left out"
        )
        return f"{self.path}, line {self.line}: the quote \"{q}\" of {self.kind} {self.fact} is no longer in {source}; {outcome}."


@dataclass
class AppliedAnnotation:
    record: ReviewRecord
    curated: int = 0  # facts added or changed
    removed: int = 0  # automatic facts the file does not keep
    stale: list[StaleQuote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Quotes:
    """Finds quotes in the document's clean text, whitespace-insensitively."""

    def __init__(self, doc: Document):
        self.doc = doc

    def find(self, quote: str) -> Evidence | None:
        words = quote.split()
        if not words:
            return None
        m = re.search(r"\s+".join(re.escape(w) for w in words), self.doc.text)
        if m is None:
            return None
        section = self.doc.section_at(m.start())
        raw_start, raw_end = self.doc.raw_span(m.start(), m.end())
        return Evidence(
            quote=m.group(0),
            start=m.start(),
            end=m.end(),
            section=section.kind if section else "other",
            raw_start=raw_start,
            raw_end=raw_end,
        )


def _analyst_evidence() -> Evidence:
    return Evidence(quote="", start=0, end=0, section=ANALYST_SECTION, raw_start=0, raw_end=0)


def apply_annotation(record: ReviewRecord, ann: Annotation, doc: Document, tax: Taxonomy) -> AppliedAnnotation:
    """The review's facts as the annotation file gives them (see the module docstring)."""
    d = ann.data
    quotes = _Quotes(doc)
    out = AppliedAnnotation(record)
    rid = record.id
    case_names = {c.name for c in record.cases}

    if d.sha256 and d.sha256 != record.sha256:
        out.notes.append(
            f"{ann.path}: was written for another version of {record.source} (its sha256 differs); "
            "its facts were checked against the current text."
        )

    def check_case(case: str | None, loc: tuple) -> None:
        if case is not None and case not in case_names:
            known = ", ".join(sorted(case_names)) or "none"
            raise ann.error(loc, f"case '{case}' is not one of this review's cases ({known}).")

    def evidence(kind: str, label: str, quote: str | None, loc: tuple, keep: Evidence | None) -> Evidence | None:
        """The evidence for a curated fact's quote: ``keep`` when it is the same quote, else
        the quote looked up in the document; None (and reported) when it is not there."""
        if keep is not None and _same(quote, keep.quote):
            return keep
        found = quotes.find(quote or "")
        if found is None:
            out.stale.append(StaleQuote(ann.path, ann.line(*loc), KIND_NAMES[kind], label, quote or ""))
        return found

    # Entities: agencies, family members, themes, keyed by name (role and case).
    def entities(kind: str, auto: list, key, label, make) -> list:
        by_key = {key(f): f for f in auto}
        result = []
        for i, e in enumerate(getattr(d, kind)):
            k = key(e)
            old = by_key.get(k)
            if old is not None and (e.quote is None or _same(e.quote, old.evidence[0].quote)):
                result.append(old)
                continue
            if e.quote is None:
                raise ann.error((kind, i), f"the added {KIND_NAMES[kind]} '{label(e)}' needs a quote from the document.")
            ev = evidence(kind, f"'{label(e)}'", e.quote, (kind, i, "quote"), None)
            if ev is not None:
                out.curated += 1
                result.append(make(e, old, ev))
            elif old is not None:
                # The quote is gone but extraction still finds the entity in the document.
                out.stale[-1].kept = True
                result.append(old)
        out.removed += len(set(by_key) - {key(e) for e in getattr(d, kind)})
        return result

    for i, m in enumerate(d.family_members):
        check_case(m.case, ("family_members", i, "case"))
    agencies = entities(
        "agencies", record.agencies, lambda f: f.name, lambda e: e.name,
        lambda e, old, ev: AgencyRef(
            name=e.name, sector=tax.sector(e.name), mentions=old.mentions if old else 1, evidence=[ev],
            confidence=1.0, curated=True,
        ),
    )
    members = entities(
        "family_members", record.family_members, lambda f: (f.role, f.case),
        lambda e: e.role + (f" ({e.case})" if e.case else ""),
        lambda e, old, ev: FamilyMemberRef(
            role=e.role, case=e.case, mentions=old.mentions if old else 1, evidence=[ev], confidence=1.0, curated=True
        ),
    )
    themes = entities(
        "themes", record.themes, lambda f: f.name, lambda e: e.name,
        lambda e, old, ev: ThemeRef(name=e.name, mentions=old.mentions if old else 1, evidence=[ev], confidence=1.0, curated=True),
    )

    def next_id(kind: str, prefix: str, auto: list) -> Iterable[str]:
        taken = {f.id for f in auto} | {e.id for e in getattr(d, kind) if e.id}
        n = 0
        while True:
            n += 1
            candidate = f"{rid}/{prefix}{n:03d}"
            if candidate not in taken:
                taken.add(candidate)
                yield candidate

    # Learning points.
    auto_lp = {f.id: f for f in record.learning_points}
    new_ids = next_id("learning_points", "lp", record.learning_points)
    points = []
    for i, e in enumerate(d.learning_points):
        check_case(e.case, ("learning_points", i, "case"))
        old = auto_lp.get(e.id) if e.id else None
        text = e.text if (e.text or "").strip() else e.quote
        if old is not None and _same(text, old.text) and _same(e.quote, old.quote) and (
            (e.kind, e.themes, e.agencies, e.all_agencies, e.case) == (old.kind, old.themes, old.agencies, old.all_agencies, old.case)
        ):
            points.append(old)
            continue
        lp_id = e.id or next(new_ids)
        if (e.quote or "").strip():
            ev = evidence("learning_points", lp_id, e.quote, ("learning_points", i, "quote"), old.evidence if old else None)
            if ev is None:
                continue
        else:
            ev = _analyst_evidence()
        out.curated += 1
        points.append(
            LearningPoint(
                id=lp_id, text=e.text.strip() if (e.text or "").strip() else ev.quote, kind=e.kind, themes=e.themes,
                agencies=e.agencies, all_agencies=e.all_agencies, case=e.case, quote=ev.quote, evidence=ev,
                confidence=1.0, curated=True,
            )
        )
    out.removed += len(set(auto_lp) - {e.id for e in d.learning_points})

    # Missed opportunities.
    auto_mo = {f.id: f for f in record.missed_opportunities}
    new_ids = next_id("missed_opportunities", "mo", record.missed_opportunities)
    mos = []
    for i, e in enumerate(d.missed_opportunities):
        check_case(e.case, ("missed_opportunities", i, "case"))
        old = auto_mo.get(e.id) if e.id else None
        text = e.text if (e.text or "").strip() else e.quote
        if old is not None and _same(text, old.text) and _same(e.quote, old.quote) and (
            (e.agencies, e.family_members, e.themes, e.case) == (old.agencies, old.family_members, old.themes, old.case)
        ):
            mos.append(old)
            continue
        mo_id = e.id or next(new_ids)
        ev = evidence("missed_opportunities", mo_id, e.quote, ("missed_opportunities", i, "quote"), old.evidence if old else None)
        if ev is None:
            continue
        out.curated += 1
        mos.append(
            MissedOpportunity(
                id=mo_id, text=e.text.strip() if (e.text or "").strip() else ev.quote, quote=ev.quote, agencies=e.agencies, family_members=e.family_members,
                themes=e.themes, case=e.case, evidence=ev, confidence=1.0, curated=True,
            )
        )
    out.removed += len(set(auto_mo) - {e.id for e in d.missed_opportunities})

    # Communication links.
    auto_links = {f.id: f for f in record.communication_links}
    new_ids = next_id("communication_links", "link", record.communication_links)
    links = []
    for i, e in enumerate(d.communication_links):
        check_case(e.case, ("communication_links", i, "case"))
        old = auto_links.get(e.id) if e.id else None
        if old is not None and _same(e.quote, old.quote) and (
            (e.source, e.target, e.status, e.directed, e.inferred_end, e.case)
            == (old.source, old.target, old.status, old.directed, old.inferred_end, old.case)
        ):
            links.append(old)
            continue
        link_id = e.id or next(new_ids)
        arrow = "\u2192" if e.directed else "\u2014"
        ev = evidence(
            "communication_links", f"{link_id} ({e.source} {arrow} {e.target})", e.quote,
            ("communication_links", i, "quote"), old.evidence if old else None,
        )
        if ev is None:
            continue
        out.curated += 1
        links.append(
            CommunicationLink(
                id=link_id, source=e.source, target=e.target, status=e.status, directed=e.directed, case=e.case,
                inferred_end=e.inferred_end, quote=ev.quote, evidence=ev, confidence=1.0, curated=True,
            )
        )
    out.removed += len(set(auto_links) - {e.id for e in d.communication_links})

    out.record = record.model_copy(
        update={
            "agencies": agencies,
            "family_members": members,
            "themes": themes,
            "learning_points": points,
            "missed_opportunities": mos,
            "communication_links": links,
        }
    )
    return out


@dataclass
class CurationSummary:
    """What applying a folder of annotation files did, for the build's summary."""

    folder: Path
    applied: int = 0
    curated: int = 0
    removed: int = 0
    stale: list[str] = field(default_factory=list)  # one message per stale quote
    notes: list[str] = field(default_factory=list)  # other warnings (unmatched file, changed document)

    def add(self, result: AppliedAnnotation) -> None:
        self.applied += 1
        self.curated += result.curated
        self.removed += result.removed
        self.stale += [s.message(result.record.source) for s in result.stale]
        self.notes += result.notes

    def line(self) -> str:
        return (
            f"Applied {self.applied} annotation file(s) from {self.folder}/: {self.curated} curated fact(s), "
            f"{self.removed} automatic fact(s) removed, {len(self.stale)} stale quote(s) reported."
        )


# ---------------------------------------------------------------------------------------
# The review queue


class QueueRow(BaseModel):
    review: str
    kind: str
    fact: str
    confidence: float
    quote: str


def queue_rows(records: Iterable[ReviewRecord], below: float = 0.6) -> list[QueueRow]:
    """Facts with a confidence below ``below``, lowest first (then review, kind, fact)."""
    order = {name: i for i, name in enumerate(KIND_NAMES.values())}
    rows: list[QueueRow] = []
    for r in records:
        facts: list[tuple[str, str, float, str]] = []
        facts += [("agency", a.name, a.confidence, a.evidence[0].quote) for a in r.agencies]
        facts += [
            ("family member", m.role + (f" ({m.case})" if m.case else ""), m.confidence, m.evidence[0].quote)
            for m in r.family_members
        ]
        facts += [("theme", t.name, t.confidence, t.evidence[0].quote) for t in r.themes]
        facts += [("learning point", f"{lp.id}: {shorten(lp.text, 60)}", lp.confidence, lp.quote) for lp in r.learning_points]
        facts += [
            ("missed opportunity", f"{mo.id}: {', '.join(mo.agencies) or 'no agency identified'}", mo.confidence, mo.quote)
            for mo in r.missed_opportunities
        ]
        facts += [
            (
                "communication link",
                f"{link.id}: {link.source} {'→' if link.directed else '—'} {link.target} ({link.status})",
                link.confidence,
                link.quote,
            )
            for link in r.communication_links
        ]
        rows += [
            QueueRow(review=r.id, kind=k, fact=f, confidence=c, quote=" ".join(q.split()))
            for k, f, c, q in facts
            if c < below
        ]
    rows.sort(key=lambda x: (x.confidence, x.review, order[x.kind], x.fact))
    return rows


def review_queue(home: str | os.PathLike[str] | None = None, below: float = 0.6) -> list[QueueRow]:
    """The low-confidence facts of the workspace's last build, for a person to check."""
    from .stored import stored_records
    from .workspace import records_path

    if not 0 <= below <= 1:
        raise UsageError(f"--below must be between 0 and 1, not {below}.")
    path = records_path(home)
    if not path.is_file():
        raise SgraphError(f"{path}: no graph has been built here yet; run 'sgraph build DOCUMENTS' first.")
    return queue_rows(stored_records(home), below)


def queue_text(rows: list[QueueRow], fmt: str) -> str:
    """The queue as text (one fact per line, then its quote), JSON or CSV."""
    if fmt == "json":
        return json.dumps([r.model_dump() for r in rows], ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["confidence", "review", "kind", "fact", "quote"])
        for r in rows:
            w.writerow([f"{r.confidence:.2f}", r.review, r.kind, r.fact, r.quote])
        return buf.getvalue()
    if fmt != "text":
        raise UsageError(f"Unknown format '{fmt}'; use text, json or csv.")
    if not rows:
        return "No facts below that confidence.\n"
    lines = []
    for r in rows:
        lines.append(f"{r.confidence:.2f}  {r.review}  {r.kind}: {r.fact}")
        lines.append(f"      \u201c{shorten(r.quote, 160)}\u201d")
    return "\n".join(lines) + "\n"
