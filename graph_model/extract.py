"""Extraction: Document → ReviewRecord, every fact with its evidence span.

Deterministic, offline, rule-based. The rules are general patterns of how English
safeguarding reviews are written (headings, "All –" addressees, "No strategy meeting was
held", "referral made by X to Y", "did not result in a referral to Z"), never phrases
copied from one document. Vocabulary (agencies, roles, themes) comes from the taxonomy.

Pipeline inside one document:

1. *units*: the clean text is cut into items (lines, table cells, list items) and each
   item into sentences, all as spans of ``Document.text``;
2. taxonomy matches are found once over the whole text and bucketed into units;
3. each extractor (metadata, cases, agencies, roles, themes, learning points, missed
   opportunities, communication links) reads units and matches and emits facts whose
   quote is ``text[start:end]`` verbatim.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
import re
from collections.abc import Iterable

from .confidence import score_record
from .models import (
    AgencyRef,
    CaseRef,
    CommunicationLink,
    Document,
    Evidence,
    FamilyMemberRef,
    LearningPoint,
    MissedOpportunity,
    ReviewRecord,
    Section,
    ThemeRef,
)
from .taxonomy import Match, Taxonomy, _case_free, case_plain, load_taxonomy
from .timeline import find_timeline

PARTNERSHIP = "partnership"
# Evidence sentences kept per agency, family member or theme of a review (all are counted).
MAX_EVIDENCE = 5

# ---------------------------------------------------------------------------------------
# Units: items and sentences as spans of the clean text


class Unit:
    """One sentence: its span, section, case, item, and the taxonomy matches inside it.

    A plain class with slots rather than a dataclass: a review has thousands of sentences,
    and a dataclass's generated ``__init__`` (with three list factories) was about a twentieth
    of extraction."""

    __slots__ = ("start", "end", "section", "case", "item", "agencies", "roles", "themes")

    def __init__(self, start: int, end: int, section: Section | None, case: str | None, item: int) -> None:
        self.start = start
        self.end = end
        self.section = section
        self.case = case
        self.item = item  # index of the item (line / cell / list entry) this sentence belongs to
        self.agencies: list[Match] = []
        self.roles: list[Match] = []
        self.themes: list[Match] = []

    def __repr__(self) -> str:
        return f"Unit(start={self.start}, end={self.end}, item={self.item})"

    def text(self, doc: Document) -> str:
        return doc.text[self.start : self.end]


_TERMINAL = re.compile(r"[.!?]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u2019\u201d)]*\s+(?=[\"'\u2018\u201c(]?[A-Z0-9])")
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|Dr|Mr|Mrs|Ms|No|St|vs|approx|incl)\.|(?<![\w&])[A-Z]\.)$")
_BULLET = re.compile(r"(?:[-\u2013\u2014\u2022\u00b7*]\s*|\d{1,2}(?:\.\d{1,2})+\.?\s+|\(?\d{1,2}[.)]\s+|\(?[a-z][.)]\s+|[ivx]{1,4}[.)]\s+)")


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\r\n\u00a0-\u2013\u2014\u2022\u00b7*":
        start += 1
    m = _BULLET.match(text, start, end)
    if m:
        start = m.end()
    while start < end and text[start] in " \t\u00a0":
        start += 1
    while end > start and text[end - 1] in " \t\r\n\u00a0":
        end -= 1
    return start, end


# Every match of _INLINE_BULLET (below) is a bullet or dash followed by white space: a cell
# without such a pair has no inline list (a hyphen inside "multi-agency" is no mark).
_LIST_MARK_SPACE = re.compile("[\u2022\u25cf\u25aa\u00b7\u2013\u2014-]\\s")
_INLINE_BULLET = re.compile(r"(?:(?<=\s)|^)[\u2022\u25cf\u25aa\u00b7]\s+|(?:(?<=\s)|^)[\u2013\u2014-]\s+(?=[A-Z\u2018'\"(])")


def _split_inline_list(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A cell holding a flattened list ("• a • b", "– A – B") → one span per entry.

    Bullet dots always separate entries; dashes only when the cell starts with one or holds
    two or more (so a single "Review – Child X" stays whole).
    """
    if not _LIST_MARK_SPACE.search(text, start, end):  # no bullet or dash before a space
        return [(start, end)]
    marks = list(_INLINE_BULLET.finditer(text, start, end))
    if not marks:
        return [(start, end)]
    head = text[start : marks[0].start()].strip()
    dashes = [m for m in marks if m.group(0)[0] in "\u2013\u2014-"]
    if len(dashes) < 2 and head and not any(m.group(0)[0] not in "\u2013\u2014-" for m in marks):
        return [(start, end)]
    spans = []
    cur = start
    for m in marks:
        if m.group(0)[0] in "\u2013\u2014-" and len(dashes) < 2 and head:
            continue
        spans.append((cur, m.start()))
        cur = m.start()
    spans.append((cur, end))
    return spans


def item_spans(text: str) -> list[tuple[int, int]]:
    """Lines, tab-separated cells and inline list entries, stripped of bullets and numbering."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        cell_start = line_start
        for cell in line.split("\t"):
            for a, b in _split_inline_list(text, cell_start, cell_start + len(cell)):
                s, e = _strip_span(text, a, b)
                if e > s:
                    spans.append((s, e))
            cell_start += len(cell) + 1
    return spans


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences inside ``text[start:end]``."""
    if not _TERMINAL.search(text, max(start - 1, 0), end):
        # No ".", "!" or "?" (the one before ``start`` included, which the sentence end's
        # lookbehind can see): one sentence, without running the sentence-end pattern.
        s, e = _strip_span(text, start, end)
        return [(s, e)] if e > s else []
    spans = []
    cur = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if _ABBREV.search(text, max(cur, m.start() - 8), m.start()):
            continue
        s, e = _strip_span(text, cur, m.start())
        if e > s:
            spans.append((s, e))
        cur = m.end()
    s, e = _strip_span(text, cur, end)
    if e > s:
        spans.append((s, e))
    return spans


def _bucket(matches: list[Match], units: list[Unit], attr: str) -> None:
    starts = [u.start for u in units]
    for m in matches:
        i = bisect.bisect_right(starts, m.start) - 1
        if i >= 0 and units[i].start <= m.start and m.end <= units[i].end:
            getattr(units[i], attr).append(m)


# ---------------------------------------------------------------------------------------
# Metadata

_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("CSPR", re.compile(r"\b(?:local\s+)?child\s+safeguarding\s+practice\s+review\b|\bL?CSPR\b", re.I)),
    ("rapid review", re.compile(r"\brapid\s+review\b", re.I)),
    ("SILR", re.compile(r"\bserious\s+incident\s+learning\s+review\b|\bSILR\b", re.I)),
    ("SCR", re.compile(r"\bserious\s+case\s+review\b|\bSCR\b", re.I)),
    ("special practice review", re.compile(r"\bspecial\s+practice\s+review\b", re.I)),
    ("domestic homicide review", re.compile(r"\bdomestic\s+homicide\s+review\b|\bDHR\b", re.I)),
    ("safeguarding adults review", re.compile(r"\bsafeguarding\s+adults?\s+review\b", re.I)),
    ("learning summary", re.compile(r"\blearning\s+summary\b", re.I)),
    ("practice review", re.compile(r"\bpractice\s+review\b", re.I)),
    ("learning review", re.compile(r"\blearning\s+review\b|\bcase\s+review\b", re.I)),
    ("learning bulletin", re.compile(r"\b(?:learning|briefing)\s+(?:and\s+improvement\s+)?(?:bulletin|briefing|note)\b|\b7\s*minute\s+briefing\b", re.I)),
]

_CODE = re.compile(r"\b((?:[A-Z]{2,6}\d{1,4}[a-z]?)|(?:Child|Baby|Family|Young\s+Person|Sibling|Adult)\s+[A-Z]{1,2}\d{0,2})\b(?![a-z'\u2019])")
_YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
_DATE_LINE = re.compile(r"(?:completed|published|date|dated|issued)\b[^\n]{0,80}?\b(19[89]\d|20\d\d)\b", re.I)
_BOARD_FULL = re.compile(
    r"\b((?:[A-Z][\w'&\u2019-]*[ \t]+){1,4}Safeguarding[ \t]+(?:Children(?:'s|\u2019s)?[ \t]+|Adults[ \t]+)?(?:Board|Partnership|Partners))\b"
)
_BOARD_ACRONYM = re.compile(r"\b([A-Z]{1,4}SC[BP])\b")


def _title_lines(doc: Document, limit: int = 8) -> list[tuple[int, int]]:
    lines = []
    head = doc.text[:3000]
    for s, e in item_spans(head):
        if len(lines) >= limit:
            break
        lines.append((s, e))
    return lines


def _review_type(title_text: str, text: str) -> str:
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(title_text):
            return name
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(text[:4000]):
            return name
    return "learning review"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "review"


def extract_metadata(doc: Document) -> dict:
    """Review id, title, board, type and year from the document's opening lines and text."""
    lines = _title_lines(doc)
    title_area = [doc.text[s:e] for s, e in lines[:6] if e - s <= 160]
    title_text = "\n".join(title_area)
    code = None
    for line in title_area:
        m = _CODE.search(line)
        if m:
            code = re.sub(r"\s+", " ", m.group(1))
            break
    title = None
    for line in title_area:
        if code and code in line or any(p.search(line) for _, p in _TYPE_PATTERNS):
            title = line
            if code and code in line:
                break
    if title is None:
        title = title_area[0] if title_area else doc.name
    title = re.sub(r"\s+", " ", title).strip(" :\u2013-")
    review_id = code or _slug(doc.name.rsplit(".", 1)[0])

    board = None
    m = _BOARD_FULL.search(doc.text)
    if m:
        board = re.sub(r"\s+", " ", m.group(1))
        board = re.sub(r"^(?:The|A|By|Of|From|For)\s+", "", board)
    else:
        m = _BOARD_ACRONYM.search(doc.text)
        if m:
            board = m.group(1)

    this_year = _dt.date.today().year
    year = None
    for line in title_area:
        m = _YEAR.search(line)
        if m and int(m.group(1)) <= this_year:
            year = int(m.group(1))
            break
    if year is None:
        m = _DATE_LINE.search(doc.text[:3000])
        if m:
            year = int(m.group(1))
    if year is None:
        years = [int(y) for y in _YEAR.findall(doc.text) if int(y) <= this_year]
        year = max(years) if years else None
    return {
        "id": review_id,
        "title": title,
        "board": board,
        "review_type": _review_type(title_text, doc.text),
        "year": year,
    }


# ---------------------------------------------------------------------------------------
# Cue patterns

_PRESCRIPTIVE = re.compile(
    r"\b(?:should(?!\s+have)|must|need(?:s)?\s+to|ought\s+to|(?:it\s+is\s+)?important|importance\s+of|"
    r"to\s+ensure|ensure|be\s+aware|are\s+required|is\s+required|recommend\w*|encouraged|consider(?:ing)?\s+if)\b",
    re.I,
)
_COUNTERFACTUAL = re.compile(r"\b(?:should|could|would|might)\s+have\b", re.I)

# Alternatives that start with "\b" share one "\b" in front of them (the same matches,
# in the same order of preference): the engine tests the word boundary once per position
# instead of once per alternative, several times faster on sentences without a match.
_DEFICIT = re.compile(
    r"\bmissed\s+opportunit|"
    r"^(?:there\s+(?:was|were)\s+)?no\s+(?!single\s+agency\s+learning)|\b(?:there\s+(?:was|were)\s+(?:no|little|limited)\b|"
    r"(?:was|were|is|are|had|has|have|been)\s+(?:\w+\s+){0,2}not\b|not\s+(?:been\s+)?(?:considered|completed|undertaken|made|followed|"
    r"shared|passed|assessed|escalated|explored|recognised|recognized|identified|implemented|convened|held|invited|"
    r"informed|notified|recorded|seen|taken|addressed|challenged|reviewed|available|consistent|clear|in\s+place|"
    r"provided|sought|referred|acted|included|involved|offered|progressed|in\s+attendance|result)\b|"
    r"did\s+not\b|didn[’']t\b|fail(?:ed|ure|ing)?\s+to\b|unable\s+to\b|lack\s+of\b|absence\s+of\b|absent\b|"
    r"never\b|insufficient\b|over[-\s]?relian|over[-\s]?rel(?:y|ied)\b|little\s+evidence\b|limited\s+engagement\b|"
    r"decision\s+not\s+to\b|not\s+in\s+keeping\b|without\s+(?:a|any)\b|delay(?:s|ed)?\s+in\b|false\s+reassurance\b|"
    r"no\s+(?:\w+\s+){0,3}(?:plan|meeting|meetings|referral|assessment|evidence|involvement|oversight|record|"
    r"strategy|contingency|tool|discussion|conference|follow[-\s]up)s?\b)",
    re.I,
)
# Every alternative of _DEFICIT contains one of these lower-case substrings: a sentence
# holding none of them cannot match, and testing substrings is far cheaper than the regex.
_DEFICIT_WORDS = ("missed", "no", "did", "fail", "unable", "lack", "absen", "never", "insufficient", "over",
                  "without", "delay", "false", "little", "limited", "decision")
# One search for any of them (the same test as ``any(w in low for w in _DEFICIT_WORDS)``).
_DEFICIT_WORD = re.compile("|".join(map(re.escape, _DEFICIT_WORDS)))
# A missed opportunity is about what professionals did: the sentence must name an agency
# or a piece of professional work.
_PROFESSIONAL = re.compile(
    r"\b(?:professional|practitioner|agenc|service|staff|worker|referr|assess|meeting|plan|strateg|conference|"
    r"supervis|oversight|manage|discharg|tool|procedure|polic|escalat|consider|record|information|"
    r"investigat|section\s+47|s47|visit|appointment|opportunit|review|threshold|involve|support|challeng|"
    r"identif|recognis|recogniz|evidence|curiosity|decision|risk)",
    re.I,
)
_NOT_A_FINDING = re.compile(r"^\(.*\)$|[:\u2013-]\s*-?$|^(?:here\s+(?:are|is)\b|the\s+full\s+report\b|for\s+(?:more|further)\s+information\b|click\s+here\b|this\s+(?:bulletin|briefing|newsletter|document)\s+(?:is|has|was)\b)|^no\s+(?:single|multi)[-\s]agency\s+learning|learning\s+points?\s+were\s+identified", re.I | re.S)
# The same test in three parts (:func:`_not_a_finding`): a search for the whole alternation
# tries all five alternatives at every position of a long item. The alternatives anchored
# with "^" can only match at the start; the one ending with "$" starts with a character
# class the engine skips to; the last needs the letters "learning".
_NAF_HEAD = re.compile(
    r"\(.*\)$|(?:here\s+(?:are|is)\b|the\s+full\s+report\b|for\s+(?:more|further)\s+information\b|click\s+here\b|"
    r"this\s+(?:bulletin|briefing|newsletter|document)\s+(?:is|has|was)\b)|no\s+(?:single|multi)[-\s]agency\s+learning",
    re.I | re.S,
)
_NAF_END = re.compile(r"[:\u2013-]\s*-?$", re.I | re.S)
_NAF_POINTS = re.compile(r"learning\s+points?\s+were\s+identified", re.I | re.S)

_BROKEN = re.compile(  # one shared "\b", as in _DEFICIT
    r"\b(?:not\s+(?:been\s+)?(?:shared|passed|informed|notified|told|invited|consulted|communicated|made|provided|sent|"
    r"received|followed\s+up|copied|referred|result\s+in|updated|alerted)\b|"
    r"no\s+(?:\w+\s+){0,3}(?:plan|referral|information|notification|communication|contact|invitation|strategy\s+meeting|"
    r"handover|report)s?\s+(?:was\s+|were\s+)?(?:provided|made|shared|sent|passed|held|undertaken|convened|received|given)\b|"
    r"did\s+not\s+(?:share|pass|inform|notify|tell|refer|invite|attend|result\s+in|receive|contact|communicate|consult|"
    r"follow|know|escalate|seek)\b|fail(?:ed|ure|ing)?\s+to\s+(?:share|pass|inform|notify|refer|invite|communicate|attend|"
    r"contact|consult|escalate|follow)\b|without\s+(?:informing|telling|notifying|consulting|sharing|a\s+referral)\b|"
    r"(?:lack|absence)\s+of\s+(?:communication|information\s+sharing|liaison|contact|referral)\b|"
    r"poor\s+(?:communication|information\s+sharing|liaison)\b|disagree(?:d|ment|ments)?\b|unresolved\b|"
    r"(?:was|were)\s+(?:not\s+aware|unaware)\b|needs?\s+to\s+be\s+(?:more\s+effective|improved|strengthened)\b|"
    r"communication\s+(?:difficulties|breakdown|failures?|problems?)\b|broke\s+down\b|breakdown\s+in\b)",
    re.I,
)
_EFFECTIVE = re.compile(  # one shared "\b", as in _DEFICIT
    r"\b(?:referral\s+(?:was\s+)?made\s+by\b|made\s+a\s+referral\s+to\b|referred\s+(?:\w+\s+){0,3}(?:to|by)\b|shared\s+(?:the\s+)?(?:information\s+)?with\b|"
    r"information\s+(?:was\s+)?shared\b|(?:informed|notified|alerted|contacted|updated)\b|liais(?:ed|on)\s+with\b|"
    r"joint(?:ly)?\s+(?:visit|working|assessment|investigation|led)\b|worked\s+(?:well|effectively|closely)\b|"
    r"(?:good|effective|timely)\s+(?:communication|information\s+sharing|liaison)\b|communicated\s+with\b|"
    r"(?:call|referral|information|report|notification)\s+from\b|received\s+from\b)",
    re.I,
)
_ALL_GROUP = r"(?:multi[-\s]agency\s+)?(?:agencies|professionals|practitioners|partners|partner\s+agencies|staff|services|organisations)\b"
# "All – …", "All agencies …", "To ensure all practitioners …", "… shared by all agencies".
_ALL_ADDRESSEE = re.compile(
    rf"^all\s*[-\u2013\u2014:]|^(?:to\s+ensure\s+|ensure\s+(?:that\s+)?)?all\s+{_ALL_GROUP}|\b(?:by|for|to|across)\s+all\s+{_ALL_GROUP}|^all\s+{_ALL_GROUP}"
    # "Agencies are required to …", "Professionals should …": every agency, none named.
    r"|^(?:agencies|professionals|practitioners|partners|partner\s+agencies)\s+(?:should|must|will|need\s+to|"
    r"are\s+(?:required|expected|asked|reminded|encouraged)\s+to)\b",
    re.I,
)
# _ALL_ADDRESSEE in two parts (:func:`_all_addressee`): the alternatives anchored with "^",
# and the one that may match anywhere.
_ALL_HEAD = re.compile(
    rf"all\s*[-\u2013\u2014:]|(?:to\s+ensure\s+|ensure\s+(?:that\s+)?)?all\s+{_ALL_GROUP}|all\s+{_ALL_GROUP}"
    r"|(?:agencies|professionals|practitioners|partners|partner\s+agencies)\s+(?:should|must|will|need\s+to|"
    r"are\s+(?:required|expected|asked|reminded|encouraged)\s+to)\b",
    re.I,
)
_ALL_MID = re.compile(rf"\b(?:by|for|to|across)\s+all\s+{_ALL_GROUP}", re.I)
# A statement that the learning which follows is for every agency: "it is important that
# all multi-agency partners are aware of the learning themes below".
_LEARNING_FOR_ALL = re.compile(
    rf"\ball\s+{_ALL_GROUP}[^.\n]{{0,120}}\b(?:learning|lessons|messages|themes|points)\b[^.\n]{{0,40}}\b(?:below|following|that\s+follow)\b",
    re.I,
)
_TELLING_VERB = re.compile(
    r"\b(?:informed|inform|notified|notify|told|tell|alerted|alert|contacted|contact|updated|update|"
    r"referred|refer|called|telephoned|emailed|advised|consulted|consult|invited|invite)\b",
    re.I,
)
_ONLY_ARTICLES = re.compile(r"\s+(?:(?:the|a|an|their|its|his|her)\s+)?(?:(?:allocated|duty|named|local|family|child's)\s+)?", re.I)
_PASSIVE_RECIPIENT = re.compile(
    r"\s+(?:was|were|had\s+not\s+been|has\s+not\s+been|have\s+not\s+been)\s+(?:not\s+)?(?:never\s+)?"
    r"(?:informed|told|notified|invited|consulted|asked|made\s+aware|copied\s+in|updated|sent)\b",
    re.I,
)
_CONTRAST = re.compile(r"\b(?:but|however|although|though|yet)\b", re.I)
# After "but": a clause with a subject of its own ("but it was not considered") rather than
# one continuing the agency's own action ("but deemed … so did not escalate").
_NEW_SUBJECT = re.compile(r",?\s+(?:it|this|that|there|they|these|those|which|no|nobody|none|other|the\s+\w+\s+(?:was|were|did))\b", re.I)
# "Recommendation 3:", "Action 2 –", "R1." before the text of a recommendation.
_REC_LABEL = re.compile(r"^(?:recommendation|action|finding|learning\s+point)\s*\d{0,3}[a-z]?\s*[:.\u2013\u2014-]\s*|^R\d{1,3}[:.]\s*", re.I)
_MODAL_SUBJECT = re.compile(
    r"^(?P<subj>[^.;:\n]{2,90}?)\s+(?:should|must|shall|will|needs?\s+to|is\s+asked\s+to|are\s+asked\s+to|"
    r"is\s+required\s+to|are\s+required\s+to|to\s+(?:review|ensure|develop|consider|provide|establish|audit))\b",
    re.I,
)
_ADDRESSEE_PREFIX = re.compile(r"^(?:recommendation\s+(?:to|for)\s+)?(?P<who>[^\n:\u2013\u2014]{2,70}?)\s*(?:\s[-\u2013\u2014]\s|:\s)")

_NO_BEFORE = re.compile(r"\bno\s+(?:\w+\s+)?$")


def _lower_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` without IGNORECASE, for the lower-cased text: it finds the same matches at
    the same offsets in ``text.lower()`` as ``pattern`` in ``text`` wherever the lower-cased
    text is used here (its length unchanged and :func:`taxonomy.case_plain`), because every character of
    the pattern is its own lower case (``taxonomy._case_free``, checked here). Several times
    faster: without IGNORECASE the engine compares characters without folding them."""
    if not _case_free(pattern.pattern):  # pragma: no cover - a pattern edited without care
        raise ValueError(f"pattern is not case-free: {pattern.pattern[:60]}")
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


_DEFICIT_L = _lower_twin(_DEFICIT)
_PRESCRIPTIVE_L = _lower_twin(_PRESCRIPTIVE)
_COUNTERFACTUAL_L = _lower_twin(_COUNTERFACTUAL)
_PROFESSIONAL_L = _lower_twin(_PROFESSIONAL)
_BROKEN_L = _lower_twin(_BROKEN)
_EFFECTIVE_L = _lower_twin(_EFFECTIVE)
_TELLING_VERB_L = _lower_twin(_TELLING_VERB)
_CONTRAST_L = _lower_twin(_CONTRAST)
_NAF_HEAD_L = _lower_twin(_NAF_HEAD)
_ALL_HEAD_L = _lower_twin(_ALL_HEAD)


def _not_a_finding(text: str, low: str | None = None) -> bool:
    """``bool(_NOT_A_FINDING.search(text))``, faster (see :data:`_NAF_HEAD`); ``low``, when
    given, is ``text`` lower-cased as in :func:`_lower_twin`."""
    if (_NAF_HEAD_L.match(low) if low is not None else _NAF_HEAD.match(text)) or _NAF_END.search(text):
        return True
    if "learning" not in text.lower() and case_plain(text):
        return False
    return _NAF_POINTS.search(text) is not None


def _all_addressee(text: str, low: str | None = None) -> bool:
    """``bool(_ALL_ADDRESSEE.search(text))``, faster: the alternatives anchored with "^" are
    tried at the start only, the other one only where the text holds "all". ``low`` as for
    :func:`_not_a_finding`."""
    if _ALL_HEAD_L.match(low) if low is not None else _ALL_HEAD.match(text):
        return True
    if "all" not in text.lower() and case_plain(text):
        return False
    return _ALL_MID.search(text) is not None


@functools.cache
def _preceded_by(words: str) -> re.Pattern[str]:
    """"… <one of words> [the] [word] " at the end of a text (compiled once per word list)."""
    return re.compile(rf"\b(?:{words})\s+(?:(?:the|a|an|their|his|her)\s+)?(?:\w+\s+)?$", re.I)


LEARNING_KIND_BY_SECTION = {
    "key_learning": "key_learning",
    "lessons_learned": "key_learning",
    "recommendations": "recommendation",
    "good_practice": "good_practice",
    "learning_taken": "learning_taken",
    "findings": "finding",
}
# Column headers of learning tables ("Good Practice | Learning Points") → kind.
_COLUMN_KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"good\s+practice|what\s+went\s+well|strengths", re.I), "good_practice"),
    (re.compile(r"recommendation|action", re.I), "recommendation"),
    (re.compile(r"learning|lessons|messages", re.I), "key_learning"),
    (re.compile(r"finding|concern|issue", re.I), "finding"),
]
_MO_SECTIONS = {"summary", "findings", "case", "other", "title", "key_learning", "lessons_learned"}
_LINK_EXCLUDED_SECTIONS = {"methodology"}


# ---------------------------------------------------------------------------------------
# The extractor


class _Extraction:
    def __init__(self, doc: Document, tax: Taxonomy):
        self.doc = doc
        self.tax = tax
        self.text = doc.text
        self.meta = extract_metadata(doc)
        low = self.text.lower()
        # The lower-cased text, where lower-casing keeps every offset (each character stays
        # one character), for substring tests on a span: ``low.find(w, s, e)`` then finds an
        # ASCII ``w`` exactly where ``text[s:e].lower()`` holds it.
        self.low: str | None = low if len(low) == len(self.text) else None
        # The same where the lower-case twins of the cue patterns (_lower_twin) may scan it.
        self.plain_low: str | None = self.low if self.low is not None and case_plain(self.text) else None
        self.review_id = self.meta["id"]
        self._section_starts = [s.start for s in doc.sections]
        self.heading_ends = {s.start: s.start + len(s.heading) for s in doc.sections if s.heading}
        self.cases = self._cases()
        self._case_starts = [start for _name, start, _end in self.cases]
        self.items = self._items()
        self.units = self._units()
        self.units_by_item: dict[int, list[Unit]] = {}
        for u in self.units:
            self.units_by_item.setdefault(u.item, []).append(u)
        all_agency = tax.agency_matcher.find(self.text)
        all_roles = [m for m in tax.role_matcher.find(self.text) if not self._negated(m)]
        all_themes = tax.theme_matcher.find(self.text)
        _bucket(all_agency, self.units, "agencies")
        _bucket(all_roles, self.units, "roles")
        _bucket(all_themes, self.units, "themes")

    # -- structure ------------------------------------------------------------------------
    def _cases(self) -> list[tuple[str, int, int]]:
        cases = [s for s in self.doc.sections if s.kind == "case"]
        if len(cases) < 2:
            return []
        result = []
        for i, s in enumerate(cases):
            end = cases[i + 1].start if i + 1 < len(cases) else len(self.text)
            result.append((s.heading.strip(" :"), s.start, end))
        return result

    def case_at(self, pos: int) -> str | None:
        i = bisect.bisect_right(self._case_starts, pos) - 1
        if i >= 0:
            name, start, end = self.cases[i]
            if start <= pos < end:
                return name
        return None

    def section_at(self, pos: int) -> Section | None:
        """The section containing ``pos`` (sections are contiguous and ordered)."""
        i = bisect.bisect_right(self._section_starts, pos) - 1
        while i >= 0:
            section = self.doc.sections[i]
            if section.start <= pos < section.end:
                return section
            i -= 1
            if i >= 0 and self.doc.sections[i].end <= pos:
                break
        return None

    def _is_heading(self, start: int, end: int) -> bool:
        """Whether the item is (inside) a section heading line."""
        i = bisect.bisect_right(self._section_starts, start) - 1
        if i < 0:
            return False
        hs = self.doc.sections[i].start
        he = self.heading_ends.get(hs)
        return he is not None and hs <= start and end <= he + 1

    def _items(self) -> list[tuple[int, int]]:
        return [(s, e) for s, e in item_spans(self.text) if not self._is_heading(s, e)]

    def _units(self) -> list[Unit]:
        units = []
        text, sections, starts = self.text, self.doc.sections, self._section_starts
        case_at = self.case_at if self.cases else None
        for index, (s, e) in enumerate(self.items):
            for ss, se in sentence_spans(text, s, e):
                # section_at's first test, inline (the section starting last at or before
                # ``ss`` nearly always holds it); section_at itself otherwise.
                i = bisect.bisect_right(starts, ss) - 1
                section = sections[i] if i >= 0 and sections[i].start <= ss < sections[i].end else self.section_at(ss)
                units.append(Unit(ss, se, section, case_at(ss) if case_at else None, index))
        return units

    def _negated(self, m: Match) -> bool:
        before = self.text[max(0, m.start - 12) : m.start].lower()
        return bool(_NO_BEFORE.search(before))

    def evidence(self, start: int, end: int) -> Evidence:
        # Evidence is frozen: the agencies, roles and themes of one sentence share one object
        # (and one copy of its quote) instead of one each.
        cache = self.__dict__.setdefault("_evidence_cache", {})
        found = cache.get((start, end))
        if found is not None:
            return found
        section = self.section_at(start)
        raw_start, raw_end = self.doc.raw_span(start, end)
        found = cache[(start, end)] = Evidence(
            quote=self.text[start:end],
            start=start,
            end=end,
            section=section.kind if section else "other",
            raw_start=raw_start,
            raw_end=raw_end,
        )
        return found

    # -- entities ---------------------------------------------------------------------------
    def _mentions(self, attr: str, with_case: bool = False) -> dict[tuple[str, str | None], tuple[int, list[Evidence]]]:
        """Per entity (and case): how many sentences mention it, and the first few of them.

        A long review names "the mother" hundreds of times; the first MAX_EVIDENCE sentences
        are kept as evidence and ``mentions`` counts them all.
        """
        found: dict[tuple[str, str | None], tuple[int, list[Evidence]]] = {}
        for u in self.units:
            matches = getattr(u, attr)
            if not matches:
                continue
            names = {m.name for m in matches}
            for name in sorted(names):
                if attr == "agencies" and self.tax.sector(name) == PARTNERSHIP:
                    continue
                key = (name, u.case if with_case else None)
                count, evidence = found.get(key, (0, []))
                if len(evidence) < MAX_EVIDENCE:
                    evidence.append(self.evidence(u.start, u.end))
                found[key] = (count + 1, evidence)
        return found

    def involved_agencies(self) -> dict[str, tuple[int, list[Evidence]]]:
        return {name: v for (name, _case), v in self._mentions("agencies").items()}

    def family_members(self) -> list[FamilyMemberRef]:
        return [
            FamilyMemberRef(role=r, case=c, mentions=n, evidence=ev)
            for (r, c), (n, ev) in self._mentions("roles", with_case=True).items()
        ]

    def themes(self) -> list[ThemeRef]:
        found = {name: v for (name, _case), v in self._mentions("themes").items()}
        order = list(self.tax.themes)
        return [
            ThemeRef(name=n, mentions=found[n][0], evidence=found[n][1]) for n in sorted(found, key=order.index)
        ]

    # -- learning points ------------------------------------------------------------------
    def _item_kind(self) -> dict[int, str]:
        """Learning kind for each item index, from its section or its table column."""
        kinds: dict[int, str] = {}
        columns: list[str | None] | None = None
        table_section: Section | None = None
        last_kind: str | None = None
        in_form, form_section = False, None
        pos_to_item = {s: i for i, (s, _e) in enumerate(self.items)}
        line_start = 0
        for line in self.text.split("\n"):
            start = line_start
            line_start += len(line) + 1
            section = self.section_at(start if line else max(0, start - 1))
            if section is not table_section:
                columns, last_kind = None, None
            if section is not form_section:
                in_form = False
            cells = line.split("\t")
            # A form question ("How will you audit the impact?<tab>answer") ends the
            # learning under the current heading: the rest is the form's other fields.
            if len(cells) >= 2 and columns is None and cells[0].strip().endswith("?"):
                in_form, form_section = True, section
            if in_form:
                continue
            stripped = [c.strip() for c in cells]
            non_empty = [c for c in stripped if c]
            # A header row: every non-empty cell names a kind of learning.
            if len(cells) >= 2 and non_empty and all(
                len(c) <= 40 and any(p.search(c) for p, _ in _COLUMN_KINDS) for c in non_empty
            ):
                columns = []
                for c in stripped:
                    kind = next((k for p, k in _COLUMN_KINDS if p.search(c)), None) if c else None
                    columns.append(kind)
                table_section = section
                last_kind = None
                continue
            cell_start = start
            for ci, cell in enumerate(cells):
                s, _e = _strip_span(self.text, cell_start, cell_start + len(cell))
                cell_start += len(cell) + 1
                idx = pos_to_item.get(s)
                if idx is None:
                    continue
                kind = None
                if columns is not None and section is table_section:
                    if len(cells) > 1:
                        # A table row: cells line up with the header from the left. Lines
                        # after the row (a list flattened out of a cell) belong to the
                        # column after the row's last cell, or to the last column.
                        kind = columns[ci] if ci < len(columns) else None
                        nxt = len(cells) if cells[-1].strip() else len(cells) - 1
                        last_kind = columns[min(nxt, len(columns) - 1)]
                    else:
                        kind = last_kind
                if kind is None and columns is None and section is not None:
                    kind = LEARNING_KIND_BY_SECTION.get(section.kind)
                if kind:
                    kinds[idx] = kind
        return kinds

    def _addressees(
        self, item_text: str, item: int, involved: Iterable[str], for_all: bool = False, item_low: str | None = None
    ) -> tuple[list[str], bool]:
        if for_all or _all_addressee(item_text, item_low):
            return sorted(involved), True
        label = _REC_LABEL.match(item_text)
        body = item_text[label.end() :] if label else item_text
        m = _ADDRESSEE_PREFIX.match(body)
        if m:
            who = m.group("who")
            matches = self.tax.agency_matcher.find(who)
            covered = sum(x.end - x.start for x in matches)
            if matches and covered >= 0.5 * len(who.strip()):
                return sorted({x.name for x in matches}), False
        # "Police and children's social care should review …": the subject of the modal verb.
        m = _MODAL_SUBJECT.match(body)
        if m:
            matches = self.tax.agency_matcher.find(m.group("subj"))
            if matches:
                return sorted({x.name for x in matches}), False
        names = []
        for u in self.units_by_item.get(item, ()):
            for x in u.agencies:
                if self.tax.sector(x.name) != PARTNERSHIP and x.name not in names:
                    names.append(x.name)
        return sorted(names), False

    def _learning_for_all_from(self) -> int | None:
        """Where a statement that the following learning is for all agencies ends, if any."""
        # Every match holds "all" (any case): a sentence without it is skipped.
        low = self.plain_low
        for u in self.units:
            if u.section is not None and u.section.kind in LEARNING_KIND_BY_SECTION:
                continue
            if low is not None and low.find("all", u.start, u.end) < 0:
                continue
            if _LEARNING_FOR_ALL.search(self.text, u.start, u.end):
                return u.end
        return None

    def learning_points(self, involved: list[str]) -> list[LearningPoint]:
        kinds = self._item_kind()
        for_all_from = self._learning_for_all_from()
        points = []
        for idx, (s, e) in enumerate(self.items):
            kind = kinds.get(idx)
            if not kind:
                continue
            text = self.text[s:e]
            low = self.plain_low[s:e] if self.plain_low is not None else None
            if len(text.split()) < 4 or _not_a_finding(text, low):
                continue
            for_all = for_all_from is not None and s >= for_all_from and kind == "key_learning"
            agencies, to_all = self._addressees(text, idx, involved, for_all, low)
            themes = []
            for u in self.units_by_item.get(idx, ()):
                for t in u.themes:
                    if t.name not in themes:
                        themes.append(t.name)
            points.append(
                LearningPoint(
                    id=f"{self.review_id}/lp{len(points) + 1:03d}",
                    text=text,
                    kind=kind,
                    themes=themes,
                    agencies=agencies,
                    all_agencies=to_all,
                    case=self.case_at(s),
                    quote=text,
                    evidence=self.evidence(s, e),
                )
            )
        return points

    # -- missed opportunities ---------------------------------------------------------------
    def _missed_by(self, u: Unit, agencies: list[Match], deficit: re.Match[str]) -> list[str]:
        """The agencies that missed the opportunity, not those that were to receive or that
        are credited in a contrasting clause ("Health Visitor noted this, but it was not
        considered"). Where the sentence is also a broken link, its source missed it."""
        link = self.links_by_unit.get(u.start)
        if link is not None and link.directed and link.status == "broken":
            return [link.source]
        text, low = self.text, self.plain_low
        cue = deficit.start() + u.start
        names = []
        for m in agencies:
            before = text[max(u.start, m.start - 25) : m.start]
            if re.search(r"\b(?:to|into)\s+(?:(?:the|a|an)\s+)?(?:\w+\s+)?$", before, re.I):
                continue  # a recipient
            if _PASSIVE_RECIPIENT.match(text, m.end):
                continue  # "the health visitor was not informed": the one left uninformed
            lo, hi = sorted((m.end, cue))
            contrast = _CONTRAST_L.search(low, lo, hi) if low is not None else _CONTRAST.search(text, lo, hi)
            if contrast and _NEW_SUBJECT.match(text, contrast.end()):
                continue  # "X noted this, but it was not considered": credited, not blamed
            names.append(m.name)
        return _unique(names)

    def missed_opportunities(self) -> list[MissedOpportunity]:
        result = []
        low, plain_low = self.low, self.plain_low
        for u in self.units:
            kind = u.section.kind if u.section else "other"
            if kind not in _MO_SECTIONS:
                continue
            text = u.text(self.doc)
            # The cheapest test that rules out most sentences first: all are filters. With
            # the lower-cased sentence, the lower-case twins of the patterns (_lower_twin).
            if plain_low is not None:
                lt = plain_low[u.start : u.end]
                deficit = _DEFICIT_L.search(lt) if _DEFICIT_WORD.search(lt) else None
                if not deficit:
                    continue
                if len(text.split()) < 4 or _not_a_finding(text, lt):
                    continue
                if _PRESCRIPTIVE_L.search(lt) and not _COUNTERFACTUAL_L.search(lt):
                    continue
                if not (u.agencies or _PROFESSIONAL_L.search(lt)):
                    continue
            else:
                word = _DEFICIT_WORD.search(low, u.start, u.end) if low is not None else _DEFICIT_WORD.search(text.lower())
                deficit = _DEFICIT.search(text) if word else None
                if not deficit:
                    continue
                if len(text.split()) < 4 or _not_a_finding(text):
                    continue
                if _PRESCRIPTIVE.search(text) and not _COUNTERFACTUAL.search(text):
                    continue
                if not (u.agencies or _PROFESSIONAL.search(text)):
                    continue
            agencies = self._missed_by(u, [m for m in u.agencies if self.tax.sector(m.name) != PARTNERSHIP], deficit)
            roles = _unique(m.name for m in u.roles)
            themes = _unique(m.name for m in u.themes)
            result.append(
                MissedOpportunity(
                    id=f"{self.review_id}/mo{len(result) + 1:03d}",
                    text=text,
                    quote=text,
                    agencies=agencies,
                    family_members=roles,
                    themes=themes,
                    case=u.case,
                    evidence=self.evidence(u.start, u.end),
                )
            )
        return result

    # -- communication links ----------------------------------------------------------------
    def communication_links(self) -> list[CommunicationLink]:
        links = []
        low = self.plain_low
        for u in self.units:
            kind = u.section.kind if u.section else "other"
            if kind in _LINK_EXCLUDED_SECTIONS:
                continue
            agencies = [m for m in u.agencies if self.tax.sector(m.name) != PARTNERSHIP]
            if len({m.name for m in agencies}) < 2:
                continue
            text = self.text
            # In the lower-cased text where it may be (_lower_twin): the same offsets.
            scan, broken_p, prescriptive_p, effective_p = (
                (low, _BROKEN_L, _PRESCRIPTIVE_L, _EFFECTIVE_L) if low is not None else (text, _BROKEN, _PRESCRIPTIVE, _EFFECTIVE)
            )
            broken = broken_p.search(scan, u.start, u.end)
            status = "broken" if broken else None
            cue = broken
            if status is None:
                if kind == "recommendations" or prescriptive_p.search(scan, u.start, u.end):
                    continue
                cue = effective_p.search(scan, u.start, u.end)
                if cue is None:
                    continue
                status = "effective"
            link = self._direction(u, agencies, cue.start())
            if link is None:
                continue
            source, target, directed = link
            links.append(
                CommunicationLink(
                    id=f"{self.review_id}/link{len(links) + 1:03d}",
                    source=source,
                    target=target,
                    status=status,
                    directed=directed,
                    case=u.case,
                    quote=text[u.start : u.end],
                    evidence=self.evidence(u.start, u.end),
                )
            )
        return links

    def _direction(self, u: Unit, agencies: list[Match], cue_pos: int) -> tuple[str, str, bool] | None:
        text = self.text

        def preceded_by(m: Match, words: str) -> bool:
            before = text[max(u.start, m.start - 25) : m.start]
            return _preceded_by(words).search(before) is not None

        # "between A and B": undirected, in text order.
        between = re.search(r"\bbetween\b", text[u.start : u.end], re.I)
        if between:
            after = [m for m in agencies if m.start > u.start + between.start()]
            names = _unique(m.name for m in after)
            if len(names) >= 2:
                return names[0], names[1], False
        # "X informed Y", "X did not notify Y": the subject passes information to the object.
        low = self.plain_low
        verb = (
            _TELLING_VERB_L.search(low, max(u.start, cue_pos - 5), u.end)
            if low is not None
            else _TELLING_VERB.search(text, max(u.start, cue_pos - 5), u.end)
        )
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
        names = _unique(m.name for m in agencies)
        if len(names) >= 2:
            return names[0], names[1], False
        return None

    # -- all --------------------------------------------------------------------------------
    def record(self) -> ReviewRecord:
        involved = self.involved_agencies()
        points = self.learning_points(list(involved))
        links = self.communication_links()
        self.links_by_unit = {link.evidence.start: link for link in links}
        mos = self.missed_opportunities()
        # Agencies named only as addressees (e.g. the partnership's subgroups) or at either
        # end of a link still appear in the review's agency list, with their evidence.
        agency_evidence = dict(involved)
        for lp in points:
            for name in lp.agencies:
                agency_evidence.setdefault(name, (1, [lp.evidence]))
        for link in links:
            for name in (link.source, link.target):
                agency_evidence.setdefault(name, (1, [link.evidence]))
        agencies = [
            AgencyRef(name=n, sector=self.tax.sector(n), mentions=count, evidence=ev)
            for n, (count, ev) in sorted(agency_evidence.items())
        ]
        cases = [
            CaseRef(name=name, evidence=[self.evidence(start, start + len(name))])
            for name, start, _end in self.cases
            if self.text[start : start + len(name)] == name
        ]
        return ReviewRecord(
            id=self.review_id,
            title=self.meta["title"],
            board=self.meta["board"],
            review_type=self.meta["review_type"],
            year=self.meta["year"],
            source=self.doc.name,
            sha256=self.doc.sha256,
            text_length=len(self.text),
            cases=cases,
            agencies=agencies,
            family_members=self.family_members(),
            themes=self.themes(),
            learning_points=points,
            missed_opportunities=mos,
            communication_links=links,
            timeline=find_timeline(self.text, self.units, self.review_id, self.evidence, self.tax.sector),
        )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def extract(doc: Document, taxonomy: Taxonomy | None = None) -> ReviewRecord:
    """Extract one review's facts from a read document, each with its confidence."""
    tax = taxonomy or load_taxonomy()
    return score_record(_Extraction(doc, tax).record(), tax)
