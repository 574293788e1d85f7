"""Which review this is: its id, title, board, type and year, as a reader of the text would say.

Real documents do not start with their title: a web page starts with "Skip to content", a
mirror of a PDF with its upload details, a news report with a headline and a photo credit, a
briefing with "Background". The rules here (docs/extract-json.md, "Which review this is"):

- **Title**: page furniture (skip links, cookie and navigation text, "Register now", "Most
  read", upload details, "Version 0 of 1", bare URLs, photo credits, dates) is never a title,
  nor is a generic section heading ("Background", "Key findings") or a question. Among the
  heading-like lines (short, one sentence, no final full stop) before the first paragraph of
  prose, the one naming the review's code wins, then one naming a review type, then a headline
  of four words or more, else the first. A text that opens with prose (a news report without
  its headline) gets "<review type> – <code>" when it names its child's code, else its first
  sentence, shortened.
- **Id**: the code in the title lines ("IN14", "SILR15b", "Child X"); else the child's code
  that the body introduces ("known as Child V", "referred to as Child F", "the baby, Child F")
  or the only one it names; else the file name. Codes like "Child D" repeat across boards: the
  build tells them apart by board and year (:func:`told_apart`).
- **Board**: the first full name ("X Safeguarding Children Board/Partnership", "X Local
  Safeguarding Children Board", "X Child Protection Committee", "X Safeguarding Adults Board")
  that names a place; else a board's own acronym ("NSCB"); the generic "LSCB" or "Local
  Safeguarding Children Board" alone names no board.
- **Year**: a year in the title lines, else the year the text says the review was published,
  completed or dated ("published on 13 October 2015", "Published 14th May 2015"), else a
  citation's year ("Fox, J. (2014)"), else the latest year the text mentions; never a year
  after this one.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import PurePath
from typing import NamedTuple

from ..models import Document, ReviewRecord
from .layer import item_spans

_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("CSPR", re.compile(r"\b(?:local\s+)?child\s+safeguarding\s+practice\s+review\b|\bL?CSPR\b", re.I)),
    ("rapid review", re.compile(r"\brapid\s+review\b", re.I)),
    ("SILR", re.compile(r"\bserious\s+incident\s+learning\s+review\b|\bSILR\b", re.I)),
    # Scotland's Significant Case Reviews are its Serious Case Reviews (both "SCR").
    ("SCR", re.compile(r"\b(?:serious|significant)\s+case\s+review\b|\bSCR\b", re.I)),
    ("special practice review", re.compile(r"\bspecial\s+practice\s+review\b", re.I)),
    ("domestic homicide review", re.compile(r"\bdomestic\s+homicide\s+review\b|\bDHR\b", re.I)),
    ("safeguarding adults review", re.compile(r"\bsafeguarding\s+adults?\s+review\b", re.I)),
    ("learning summary", re.compile(r"\blearning\s+summary\b", re.I)),
    ("practice review", re.compile(r"\b(?:child\s+)?practice\s+review\b", re.I)),
    ("learning review", re.compile(r"\blearning\s+review\b|\bcase\s+review\b", re.I)),
    ("learning bulletin", re.compile(r"\b(?:learning|briefing)\s+(?:and\s+improvement\s+)?(?:bulletin|briefing|note)\b|\b7\s*minute\s+briefing\b", re.I)),
]
# How a made-up title names a review type the text gives only as an acronym.
_TYPE_TITLE = {
    "CSPR": "Child Safeguarding Practice Review",
    "SILR": "Serious Incident Learning Review",
    "SCR": "Serious Case Review",
    "domestic homicide review": "Domestic Homicide Review",
}

# A review's own code: "IN14", "SILR15b", "Child X", "Baby T", "Young Person B2" (also
# before a possessive: "Baby J's"), not the start of a name ("Child Xavier").
_CODE = re.compile(
    r"\b((?:[A-Z]{2,6}\d{1,4}[a-z]?)|(?:Child|Baby|Family|Young\s+Person|Sibling|Adult)\s+[A-Z]{1,2}\d{0,2})\b"
    r"(?:(?![a-z'\u2019])|(?=['\u2019](?:s\b|[^A-Za-z]|$)))"
    # on a title in capitals, where it ends the title or a part of it ("SERIOUS CASE REVIEW – CHILD D")
    r"|\b((?:CHILD|BABY|FAMILY|YOUNG\s+PERSON)\s+[A-Z]{1,2}\d{0,2})(?=\s*(?:$|[:\u2013\u2014),-]))"
)
# A child's code as a news report or briefing gives it in its body.
_CHILD_CODE = re.compile(
    r"\b((?:Child|Baby|Young\s+Person)\s+[A-Z]{1,2}\d{0,2})\b(?:(?![a-z'\u2019])|(?=['\u2019](?:s\b|[^A-Za-z]|$)))"
)
_CODE_INTRODUCED = re.compile(
    r"(?:\b(?:known|referred\s+to|named|identified|called|described)\s+as\s+|"
    r"\b(?:baby|child|boy|girl|infant|teenager|toddler|son|daughter|youngster),\s+)"
    r"[\u2018\u201c'\"]?$",
    re.I,
)

_YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
_DATE_LINE = re.compile(
    r"\b(?:completed|published|publication|released|issued|dated|date(?!\s+of\s+(?:birth|death)))\b"
    r"[^\n.]{0,60}?\b(19[89]\d|20\d\d)\b",
    re.I,
)
_CITATION_YEAR = re.compile(r"\((19[89]\d|20\d\d)\)")
# A deadline's year: "by March 2019", "until the end of 2020", "before 1 April 2018".
_DEADLINE = re.compile(
    r"\b(?:by|until|till|before|no\s+later\s+than|deadline\s+(?:of\s+)?)\s+(?:the\s+(?:end|start|spring|summer|autumn|winter)\s+of\s+)?"
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:[A-Z][a-z]+\s+)?$"
)

# A board's name: a place (capitalised words, joined by "and", "&", "upon", "on", "-") before
# the kind of body. The kind is matched in any case ("Tameside safeguarding children board").
_PLACE_WORD = r"(?:[A-Z][\w'\u2019-]*|&|and|upon|on|of|under)"
_BOARD_KIND = (
    r"(?i:(?:local\s+)?safeguarding\s+(?:children(?:'s|\u2019s)?\s+|adults\s+)?(?:board|partnership|partners)"
    r"|children(?:'s|\u2019s)?\s+safeguarding\s+(?:assurance\s+)?(?:board|partnership)"
    r"|(?:child|public)\s+protection\s+committee)"
)
_BOARD_FULL = re.compile(rf"\b((?:{_PLACE_WORD}[ \t]+){{1,6}}?){_BOARD_KIND}\b")
_BOARD_ACRONYM = re.compile(r"\b([A-Z]{1,4}SC[BP]|[A-Z]{1,4}CPC)\b")
_GENERIC_ACRONYMS = {"LSCB", "LSCP", "SCB", "SCP"}
# Words before a board's name that are not part of its place.
_NOT_PLACE = {
    "the", "a", "an", "by", "of", "from", "for", "and", "&", "on", "upon", "under", "local", "our", "its", "their",
    "this", "that", "new", "independent", "chair", "said", "says", "in", "at", "to", "with", "was", "were",
    "yesterday", "today", "last", "following", "after", "when", "but", "however", "meanwhile", "now", "both",
}
# Words before "of" that keep it in a place's name ("Isle of Wight", "City of London").
_OF_PLACE = {"isle", "city", "county", "borough", "vale", "royal", "district"}

# Page furniture: never a title.
_FURNITURE = re.compile(
    # lines that are only a navigation item
    r"^(?:menu|main\s+menu|navigation|home|search|share|print|email|tweet|advertisement|sponsored(?:\s+content)?"
    r"|subscribe|register|sign\s+in|sign\s+up|log\s*in|log\s*out|accessibility|contact\s+us|download)$"
    # lines that start as furniture does
    r"|^(?:skip\s+to\b|skip\s+navigation|jump\s+to\b|back\s+to\s+top|home\s*[>|/\u00bb]|search\s+(?:this|the)\s+site"
    r"|sign\s+(?:in|up)\b|log\s*(?:in|out)\b|register\s+(?:now|today|here|for\s+free)|subscribe\s+(?:now|to|today)"
    r"|already\s+have\s+an\s+account|continue\s+reading|read\s+(?:more|next)\b|most\s+(?:read|popular|viewed|shared)\b"
    r"|related\s+(?:articles|stories|content|links)\b|share\s+(?:this|on|via)\b|follow\s+us\b|print\s+this\b"
    r"|email\s+(?:this|us)\b|(?:last\s+|first\s+)?(?:updated|published|posted|uploaded|modified)\s*"
    r"(?::|on\b|at\b|by\b|\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|$)"
    r"|upload(?:ed)?\s+(?:by|on|date)\b|download\s+(?:the\s+)?(?:pdf|document|report|file|now)\b|file\s+size\b"
    r"|document\s+(?:details|information)$|page\s+\d+(?:\s+of\s+\d+)?$|version\s+\d+\s+of\s+\d+"
    r"|(?:pic(?:ture)?|photo(?:graph)?|image|credit|source)s?\s*:|copyright\b|\u00a9|all\s+rights\s+reserved"
    r"|privacy\s+(?:policy|notice|settings)|terms\s+(?:and|&)\s+conditions|accessibility\s+statement"
    r"|translate\s+this\b|embed\b|report\s+this\b|flag\s+(?:for|as)\b|\d+\s*%\s+found\s+this|\d+\s+ratings?\b"
    r"|open\s+in\s+(?:the\s+)?app\b|view\s+(?:the\s+)?(?:full\s+)?(?:pdf|document)\b"
    r"|(?:https?://|www\.)\S+$|\S+\.(?:pdf|docx?|html?)$)"
    # furniture anywhere in the line
    r"|\bcookies?\b|\b(?:pic|photo|picture|image)\s*:|\((?:source|photo|picture|image|credit)\s*:[^)]*\)\s*$"
    r"|\buploaded\s+(?:by|on)\b|\b\d[\d,.]*\s*(?:views|downloads)\b|\s[>\u00bb]\s",
    re.I,
)
# A line that is only a date ("14 May 2015", "May 2015", "2015-05-14").
_DATE_ONLY = re.compile(
    r"^(?:\w+day,?\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:[A-Z][a-z]+\s+)?\d{4}$|^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$"
)
# Section headings that begin the body of any review: never its title.
_GENERIC_HEADING = re.compile(
    r"^(?:the\s+)?(?:background|summary|introduction|contents|overview|conclusions?|recommendations?|findings"
    r"|key\s+(?:findings|learning|issues|messages|points|actions)|executive\s+summary|purpose|methodology"
    r"|context|case\s+summary|learning|lessons?\s+learn[te]d|next\s+steps|references|appendix\b.*|glossary"
    r"|what\s+happened|about\s+this\s+(?:review|briefing)|terms\s+of\s+reference|acknowledg(?:e)?ments)\s*:?$",
    re.I,
)
_INNER_SENTENCE_END = re.compile(r"[a-z0-9)\"'\u2019\u201d][.!?][\"'\u2019\u201d]?\s+[\"'\u2018\u201c]?[A-Z]")
_SUBJECT_WORD = re.compile(
    r"\b(?:reviews?|report|child|baby|boy|girl|teenager|toddler|infant|son|daughter|mother|father|parents|family"
    r"|death|died|killed|abuse|neglect|harm|injur\w*|safeguarding|protection|case|fail\w*|criticis\w*|missed|lessons?)\b",
    re.I,
)


def _review_type(title_text: str, text: str) -> str:
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(title_text):
            return name
    for name, pattern in _TYPE_PATTERNS:
        if pattern.search(text[:4000]):
            return name
    return "learning review"


def _type_title(review_type: str, text: str) -> str:
    """How a made-up title names the review's type: as the text words it ("Significant Case
    Review"), else its usual name."""
    for name, pattern in _TYPE_PATTERNS:
        if name != review_type:
            continue
        for m in pattern.finditer(text[:4000]):
            words = m.group(0)
            if " " in words:
                return " ".join(w[:1].upper() + w[1:].lower() for w in words.split())
        break
    return _TYPE_TITLE.get(review_type, "Review" if review_type == "learning review" else review_type.title())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "review"


def _clean(line: str) -> str:
    line = re.sub(r"\s+", " ", line).strip()
    return line.strip(" #*_|:\u2013-").strip()


def is_furniture(line: str) -> bool:
    """Page furniture (skip links, cookie and navigation text, sign-up prompts, upload
    details, "Version 0 of 1", bare URLs, photo credits, lone dates): never a title."""
    line = _clean(line)
    return not line or bool(_FURNITURE.search(line) or _DATE_ONLY.match(line))


def _heading_like(line: str) -> bool:
    """Short, one sentence, without a final full stop, and not a question."""
    if len(line) > 160 or len(line.split()) > 22 or line[-1] in ".!?;,":
        return False
    return not _INNER_SENTENCE_END.search(line)


class _Head(NamedTuple):
    title_lines: list[str]  # heading-like lines before the prose, furniture and generic headings left out
    first_sentence: str | None  # the first sentence of prose
    dates: list[str]  # lines before the prose that date the document ("March 2015", "Published 14 May 2015")


_DATING_LINE = re.compile(r"^(?:(?:first\s+)?published|posted|publication\s+date|date\s+of\s+publication)\b", re.I)


def _read_head(doc: Document, limit: int = 12) -> _Head:
    lines: list[str] = []
    dates: list[str] = []
    first_sentence = None
    seen = 0
    for s, e in item_spans(doc.text[:4000]):
        line = _clean(doc.text[s:e])
        if not line:
            continue
        if is_furniture(line):
            if _DATE_ONLY.match(line) or _DATING_LINE.match(line):
                dates.append(line)
            continue
        seen += 1
        if seen > limit:
            break
        if _heading_like(line):
            if not _GENERIC_HEADING.match(line):
                lines.append(line)
            continue
        if line.endswith("?"):  # a question heading ("What is the issue?")
            continue
        first_sentence = re.split(r"(?<=[a-z0-9)\"'\u2019\u201d][.!?])\s+(?=[\"'\u2018\u201c]?[A-Z])", line, maxsplit=1)[0]
        break
    return _Head(lines, first_sentence, dates)


def _pick_title(lines: list[str], code: str | None) -> str | None:
    best = None
    best_score = -1
    for line in lines:
        score = 0
        if code and code.lower() in line.lower():
            score += 8
        if any(p.search(line) for _, p in _TYPE_PATTERNS):
            score += 4
        if _SUBJECT_WORD.search(line):
            score += 2
        if len(line.split()) >= 4:
            score += 1
        if _BOARD_FULL.fullmatch(line):  # the board's name on its own line names the author
            score -= 6
        if score > best_score:
            best, best_score = line, score
    if best is not None and best == code:
        # "Serious Case Review" and "Child D" on lines of their own: one title.
        typed = [line for line in lines if line != code and any(p.search(line) for _, p in _TYPE_PATTERNS)]
        typed = [line for line in typed if not _BOARD_FULL.fullmatch(line)]
        if typed:
            return f"{typed[0]} \u2013 {code}"
    return best


def _shorten(sentence: str, limit: int = 100) -> str:
    sentence = sentence.rstrip(".!?")
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:\u2013- ")
    return cut + "\u2026"


def _body_code(text: str) -> str | None:
    """The child's code the body gives the review: one it introduces ("known as Child V",
    "the baby, Child F"), else the only one it names."""
    head = text[:6000]
    found: list[str] = []
    for m in _CHILD_CODE.finditer(head):
        code = re.sub(r"\s+", " ", m.group(1))
        if _CODE_INTRODUCED.search(head, max(0, m.start() - 40), m.start()):
            return code
        if code not in found:
            found.append(code)
    return found[0] if len(found) == 1 else None


def _place(words: list[str]) -> list[str]:
    """The place in the capitalised words before a board's kind: "Leicestershire and
    Rutland", "Isle of Wight", not "Yesterday Northbury" or "Chair of Northbury"."""
    for i in range(len(words) - 1, 0, -1):
        if words[i].lower() == "of" and words[i - 1].lower() not in _OF_PLACE:
            words = words[i + 1 :]
            break
    while words and words[0].lower() in _NOT_PLACE:
        words = words[1:]
    while words and words[-1].lower() in _NOT_PLACE - {"local"}:
        words = words[:-1]
    return [] if words in ([], ["Local"]) else words


def _board(text: str) -> str | None:
    for m in _BOARD_FULL.finditer(text):
        words = _place(m.group(1).split())
        if not words:
            continue
        kind = re.sub(r"\s+", " ", m.group(0)[len(m.group(1)) :])
        kind = " ".join(w if w.isupper() else w[:1].upper() + w[1:].lower() for w in kind.split())
        if m.group(0).isupper():  # "NORTHBURY SAFEGUARDING CHILDREN BOARD"
            words = [w if w in ("&",) else w.title() if w.isalpha() or "-" in w else w for w in words]
            words = [w.lower() if w.lower() in ("and", "of", "upon", "on") else w for w in words]
            kind = kind.title()
        return " ".join(words) + " " + kind
    for m in _BOARD_ACRONYM.finditer(text):
        if m.group(1) not in _GENERIC_ACRONYMS:
            return m.group(1)
    return None


def board_place(board: str | None) -> str | None:
    """The place a board is named after ("Glasgow" for "Glasgow Child Protection
    Committee"); an acronym ("NSCB") as it is."""
    if not board:
        return None
    place = re.sub(rf"\s*{_BOARD_KIND}$", "", board).strip()
    return place or board


def _year(title_lines: list[str], text: str) -> int | None:
    this_year = _dt.date.today().year
    for line in title_lines:  # and the lines dating the document, after them
        for m in _YEAR.finditer(line):
            if int(m.group(1)) <= this_year:
                return int(m.group(1))
    head = text[:4000]
    for pattern in (_DATE_LINE, _CITATION_YEAR):
        for m in pattern.finditer(head):
            if int(m.group(1)) <= this_year:
                return int(m.group(1))
    # The latest year mentioned, leaving out deadlines ("by March 2019") unless they are all.
    years = [(int(m.group(1)), bool(_DEADLINE.search(text, max(0, m.start() - 40), m.start()))) for m in _YEAR.finditer(text)]
    years = [y for y in years if y[0] <= this_year]
    told = [y for y, deadline in years if not deadline] or [y for y, _ in years]
    return max(told) if told else None


def extract_metadata(doc: Document) -> dict:
    """Review id, title, board, type and year from the document's opening lines and text."""
    head = _read_head(doc)
    title_text = "\n".join(head.title_lines[:6])
    code = None
    for line in head.title_lines[:6]:
        m = _CODE.search(line)
        if m:
            code = re.sub(r"\s+", " ", m.group(1) or m.group(2))
            if m.group(2):  # "CHILD D" -> "Child D"
                code = re.sub(r"^[A-Z]+(?: [A-Z]+)?(?= [A-Z]{1,2}\d{0,2}$)", lambda w: w.group(0).title(), code)
            break
    if code is None:
        code = _body_code(doc.text)
    review_type = _review_type(title_text, doc.text)
    title = _pick_title(head.title_lines[:6], code)
    if title is None:
        if code:
            title = f"{_type_title(review_type, doc.text)} \u2013 {code}"
        elif head.first_sentence:
            title = _shorten(head.first_sentence)
        else:
            title = PurePath(doc.name).stem
    return {
        "id": code or _slug(doc.name.rsplit(".", 1)[0]),
        "title": title,
        "board": _board(doc.text),
        "review_type": review_type,
        "year": _year(head.title_lines[:6] + head.dates, doc.text),
    }


# -- telling reviews with the same code apart ---------------------------------------------


class Claim(NamedTuple):
    """What the build knows of a review when its id is shared: enough to tell it apart."""

    id: str
    source: str
    board: str | None
    year: int | None
    sha256: str = ""


def told_apart(claims: Sequence[Claim]) -> tuple[list[str], list[str]]:
    """The id of each review, unique: ``claims`` sharing an id are told apart by their board's
    place and year ("Child D (Glasgow, 2017)"); those still alike (same code, board and year)
    by their file's name, then by a number in the order of their text's hash. Returns the ids
    (in the order of ``claims``) and one warning per id still shared after board and year.

    A review keeps its plain id when no other shares it: ids depend on the other reviews of
    the corpus only where the codes collide (docs/extract-json.md)."""
    ids = [c.id for c in claims]
    warnings: list[str] = []
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(claims):
        groups[c.id].append(i)
    taken = {c.id for c in claims}
    for rid, members in groups.items():
        if len(members) < 2:
            continue
        by_qualifier: dict[str, list[int]] = defaultdict(list)
        for i in members:
            c = claims[i]
            parts = [p for p in (board_place(c.board), str(c.year) if c.year else None) if p]
            by_qualifier[", ".join(parts)].append(i)
        for qualifier, alike in sorted(by_qualifier.items()):
            if len(alike) == 1:
                c = claims[alike[0]]
                ids[alike[0]] = f"{rid} ({qualifier or PurePath(c.source).stem})"
                continue
            # Same code, board and year (or none given): the file's name tells them apart.
            alike.sort(key=lambda i: (claims[i].source, claims[i].sha256))
            named = [f"{rid} ({', '.join(p for p in (qualifier, PurePath(claims[i].source).stem) if p)})" for i in alike]
            for n, i in enumerate(alike):
                ids[i] = named[n]
            if len(set(named)) < len(named):  # the same file name in two folders
                order = sorted(alike, key=lambda i: (claims[i].sha256, claims[i].source))
                for n, i in enumerate(order, 1):
                    ids[i] = f"{named[alike.index(i)]} #{n}"
            sources = (
                f"{claims[alike[0]].source} and {claims[alike[1]].source} both"
                if len(alike) == 2
                else f"{len(alike)} documents ({', '.join(claims[i].source for i in alike[:3])}, ...)"
            )
            what = f" of {qualifier}" if qualifier else ""
            if len({claims[i].sha256 for i in alike}) == 1 and claims[alike[0]].sha256:
                what += " (the same text: it is counted once per file)"
            warnings.append(
                f"{sources} claim review '{rid}'{what}; told apart as "
                + ", ".join(f"'{ids[i]}'" for i in alike)
                + "."
            )
    # A qualified id could equal another review's plain id: number what is still shared.
    seen: dict[str, int] = {}
    for i, rid in enumerate(ids):
        if rid in seen or (rid in taken and rid != claims[i].id):
            n = 2
            while f"{rid} #{n}" in seen or f"{rid} #{n}" in taken:
                n += 1
            ids[i] = f"{rid} #{n}"
        seen[ids[i]] = i
    return ids, warnings


def with_id(record: ReviewRecord, new_id: str) -> ReviewRecord:
    """``record`` under another review id, its facts' ids ("<review id>/lp001") with it."""
    old = record.id + "/"

    def moved(items: list) -> list:
        return [x.model_copy(update={"id": new_id + "/" + x.id[len(old) :]}) if x.id.startswith(old) else x for x in items]

    return record.model_copy(
        update={
            "id": new_id,
            "learning_points": moved(record.learning_points),
            "missed_opportunities": moved(record.missed_opportunities),
            "communication_links": moved(record.communication_links),
            "timeline": moved(record.timeline),
        }
    )


def distinct_records(records: Sequence[ReviewRecord]) -> tuple[list[ReviewRecord], list[str]]:
    """``records`` with the ids they share told apart (:func:`told_apart`), and its warnings."""
    if len({r.id for r in records}) == len(records):
        return list(records), []
    ids, warnings = told_apart([Claim(r.id, r.source, r.board, r.year, r.sha256) for r in records])
    return [r if r.id == rid else with_id(r, rid) for r, rid in zip(records, ids, strict=True)], warnings
