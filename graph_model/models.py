"""Typed boundaries between the stages: read → extract → build.

``Document`` is what a reader returns; ``ReviewRecord`` is what extraction returns.
Both are pydantic models so that every boundary is validated and serialisable.
Offsets are character offsets into ``Document.text`` (the clean text); ``raw_start`` and
``raw_end`` map the same span back into ``Document.raw`` (the text as read from the file).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SectionKind = Literal[
    "title",
    "summary",
    "key_learning",
    "lessons_learned",
    "recommendations",
    "good_practice",
    "learning_taken",
    "findings",
    "methodology",
    "case",
    "other",
]

LearningKind = Literal["key_learning", "recommendation", "good_practice", "learning_taken", "finding"]

LinkStatus = Literal["broken", "effective"]

DatePrecision = Literal["day", "month", "season", "year", "range"]


class Section(BaseModel):
    """A stretch of the clean text under one heading."""

    model_config = ConfigDict(frozen=True)

    kind: SectionKind
    heading: str
    start: int
    end: int


class Document(BaseModel):
    """One input file, read and normalised.

    ``text`` is the clean text (markup removed, whitespace tidied); ``offsets[i]`` is the
    index in ``raw`` of ``text[i]`` (``offsets`` has ``len(text) + 1`` entries, the last
    one being ``len(raw)``), so any span of ``text`` maps back to ``raw``.
    """

    path: str
    name: str
    format: str
    raw: str
    text: str
    offsets: list[int]
    sections: list[Section] = Field(default_factory=list)
    sha256: str

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``raw`` that the clean-text span ``[start, end)`` came from."""
        if end <= start:
            return self.offsets[start], self.offsets[start]
        return self.offsets[start], self.offsets[end - 1] + 1

    def section_at(self, pos: int) -> Section | None:
        """The innermost (last-starting) section containing ``pos``."""
        found = None
        for section in self.sections:
            if section.start <= pos < section.end:
                found = section
        return found


class Evidence(BaseModel):
    """A verbatim quote from the clean text and where it came from."""

    model_config = ConfigDict(frozen=True)

    quote: str
    start: int
    end: int
    section: str
    raw_start: int
    raw_end: int


# Every fact carries ``confidence`` (0-1, from the documented rules of
# graph_model/confidence.py; docs/curation.md) and ``curated`` (added or changed by an
# analyst in an annotation file). The defaults keep records written before them loadable.


class AgencyRef(BaseModel):
    name: str
    sector: str
    mentions: int = 1  # sentences naming it; ``evidence`` keeps the first few
    evidence: list[Evidence]
    confidence: float = 1.0
    curated: bool = False


class FamilyMemberRef(BaseModel):
    role: str
    case: str | None = None
    mentions: int = 1
    evidence: list[Evidence]
    confidence: float = 1.0
    curated: bool = False


class ThemeRef(BaseModel):
    name: str
    mentions: int = 1
    evidence: list[Evidence]
    confidence: float = 1.0
    curated: bool = False


class CaseRef(BaseModel):
    name: str
    evidence: list[Evidence]


class LearningPoint(BaseModel):
    id: str
    text: str
    kind: LearningKind
    themes: list[str]
    agencies: list[str]
    all_agencies: bool = False
    case: str | None = None
    quote: str
    evidence: Evidence
    confidence: float = 1.0
    curated: bool = False


class MissedOpportunity(BaseModel):
    id: str
    text: str
    quote: str
    agencies: list[str]
    family_members: list[str]
    themes: list[str]
    case: str | None = None
    evidence: Evidence
    confidence: float = 1.0
    curated: bool = False


class CommunicationLink(BaseModel):
    id: str
    source: str
    target: str
    status: LinkStatus
    directed: bool
    case: str | None = None
    quote: str
    evidence: Evidence
    confidence: float = 1.0
    curated: bool = False
    # Which end the sentence does not name and extraction found elsewhere: "source" (the
    # agency that held the information, from the paragraph) or "target"; None when the
    # sentence names both ends (docs/extraction.md).
    inferred_end: Literal["source", "target"] | None = None


class TimelineEvent(BaseModel):
    """One dated event: a date or period the review mentions and the sentence (or clause) it dates.

    ``date_text`` is verbatim (``text[date_start:date_end]`` of the clean text);
    ``date_from``/``date_to`` are ISO days bounding it (both inclusive); ``precision`` says
    what the text gave: a ``day``, a ``month``, a ``season`` (also "early 2016", "Christmas
    2015"), a ``year`` or a ``range`` ("July/August 2015", "between 2013 and 2015").
    """

    id: str
    date_text: str
    date_start: int
    date_end: int
    date_from: str
    date_to: str
    precision: DatePrecision
    text: str
    quote: str
    agencies: list[str]
    family_members: list[str]
    case: str | None = None
    evidence: Evidence


class ReviewRecord(BaseModel):
    """Everything extracted from one review document, each fact with its evidence."""

    id: str
    title: str
    board: str | None = None
    review_type: str
    year: int | None = None
    source: str
    sha256: str
    text_length: int
    cases: list[CaseRef] = Field(default_factory=list)
    agencies: list[AgencyRef] = Field(default_factory=list)
    family_members: list[FamilyMemberRef] = Field(default_factory=list)
    themes: list[ThemeRef] = Field(default_factory=list)
    learning_points: list[LearningPoint] = Field(default_factory=list)
    missed_opportunities: list[MissedOpportunity] = Field(default_factory=list)
    communication_links: list[CommunicationLink] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list)
