"""Timeline: the dates and periods a review's clean text mentions, each with the event it dates.

Deterministic and rule-based, like :mod:`graph_model.extract` (which calls
:func:`find_timeline` at the end of extraction). Two stages:

1. :func:`find_dates` finds date expressions in the text and normalises each to a range of
   days (ISO ``date_from``/``date_to``) with a precision:

   * ``day``: "14th September 2015", "14 th September 2015", "14 September 2015",
     "3rd of April 2020", "September 14, 2015", "14/09/2015", "14/9/15", "14.09.2015",
     "2015-09-14" (numbers are day/month/year, the British order);
   * ``month``: "September 2015", "Sept 2015", "Sept. 2015", "SEPTEMBER 2015", "September
     of 2015" (not "may 2015": "may" in lower case is a verb);
     "early/mid/late September 2015" and "the start/middle/end of September 2015" narrow
     the month to its days 1-10, 11-20 or 21-end;
   * ``season``: "summer 2015", "the spring of 2015", "winter 2015/16", "the autumn term
     2016", "early/mid/late 2016", "the start/end of 2016", "the first/second half of
     2016", "Christmas 2015", "Easter 2016";
   * ``year``: "2013", "in 2013", "during 2014";
   * ``range``: two of the above joined ("July/August 2015", "July - August 2015",
     "between July and September 2015", "from March 2014 to June 2015", "14-16 September
     2015", "between 2013 and 2015", "2013-2015", "2013/14").

   A year on its own is a date only where it reads as one. It is not a date inside a code
   or number ("SCR2015", "2015/123", "£2015", "1990s", "3.2015", "2015%"), after a
   capitalised word that makes it part of a name or title ("Children Act 1989", "Working
   Together 2018", "Sibling Group S (2021)"; not after "In", "During", "By" …), before the
   name of a kind of document ("the 1989 Act"), after "page", "paragraph", "section",
   "tel" and the like, beside other digits (phone numbers: "0300 2015 123"), or as a count
   ("2000 children", unless after "in"/"during"…), or cited with its authors ("Brandon et
   al (2012)", "(Munro, 2011)"). Two-digit years are read only in numeric dates with
   slashes ("14/9/15") and in year spans ("2013/14"): a code such as "JN15" is never a
   year. A month needs a year ("in March" is not placed), except as the first end of a
   range that ends with one ("July/August 2015"); an impossible day ("29 February 2015")
   leaves its month.

2. :func:`find_timeline` attaches each date to the event it dates: the sentence of the
   extraction it occurs in (or, where one sentence has several dates that are not one
   range, the clause around each: "Various incidents over the course of summer 2015, but
   Section 47 on 14 th September 2015 led to the Review" gives two events). The event
   keeps the sentence's (clause's) verbatim quote, span and section (the evidence every fact
   carries), the agencies and family roles named in it, and its case. Events are ordered by
   date (``date_from``, then ``date_to``) and, for equal dates, by position in the text.

What is not an event: dates in the title block (front matter: "Published by …, March
2022") and in recommendations (deadlines, not events), metadata lines ("Date Learning
Summary completed <tab> 13 th June 2016", "Published …, March 2022"), headings, and dates
after the current year (plans and targets). Ages ("when he was 11 weeks old") and relative
times ("two weeks later") are not placed: reviews withhold dates of birth, so an age has no
date to count from.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as _dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dateutil.easter import easter

from .models import Evidence, TimelineEvent

PARTNERSHIP = "partnership"  # the sector whose agencies are never counted as involved (see extract.py)

# Sections whose dates are not events of the case: the front matter and the recommendations.
EXCLUDED_SECTIONS = frozenset({"title", "recommendations"})

# ---------------------------------------------------------------------------------------
# Date expressions

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}


# Any casing here; :func:`_month_number` then keeps only the casings reviews use.
_MONTH_NAMES = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
_FULL_NAMES = frozenset(n for n in _MONTHS if len(n) > 4) | {"may", "june", "july"}


def _month_number(name: str) -> int | None:
    """The month a matched name stands for, if it is written as reviews write months:
    "September", "SEPTEMBER", "september" (but not "may", a verb), "Sept", "SEPT", "Sept."
    — never "sept" or "mAy", so that "mar" or "may" in running text is not a month."""
    bare = name.rstrip(".")
    low = bare.lower()
    if low not in _MONTHS or (bare != name and low in _FULL_NAMES):
        return None
    if bare == low.capitalize() or bare == low.upper() or (bare == low and low in _FULL_NAMES and low != "may"):
        return _MONTHS[low]
    return None


_S = r"[^\S\n\t]"  # a space inside a date: never a line break or a table's cell break
_MONTH = rf"(?<!\w)(?i:{_MONTH_NAMES})\b\.?"
_YEAR = r"(?:19|20)\d\d"
_ORD = rf"(?:{_S}?(?:st|nd|rd|th)\b)?"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
# UK school terms, approximately (spring term runs to Easter, summer term from it).
_TERMS = {"autumn": (9, 12), "spring": (1, 3), "summer": (4, 7)}
# Parts of a year and of a month (inclusive month / day numbers).
_YEAR_PARTS = {
    "early": (1, 4), "mid": (5, 8), "late": (9, 12),
    "start": (1, 3), "beginning": (1, 3), "middle": (5, 8), "end": (10, 12),
    "first half": (1, 6), "second half": (7, 12), "latter half": (7, 12), "latter part": (7, 12),
}
_MONTH_PARTS = {"early": (1, 10), "start": (1, 10), "beginning": (1, 10), "mid": (11, 20), "middle": (11, 20),
                "late": (21, 31), "end": (21, 31)}

_PART_PREFIX = r"(?<!\w)(?i:(?P<part>early|mid|late)(?:-|" + _S + r"+)|(?P<partof>start|beginning|middle|end)" + _S + r"+of" + _S + r"+)"

# Each atom: (kind, pattern). The year group is optional where the atom may be the left end of
# a range that takes its year from the right end ("July/August 2015", "14-16 September").
_ATOMS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(rf"(?<![\w/.-])(?P<y>{_YEAR})-(?P<mo>0[1-9]|1[0-2])-(?P<d>[0-3]\d)(?![\w/]|[.-]\d)")),
    (
        "numeric",
        re.compile(
            rf"(?<![\w/.:-])(?P<d>{_DAY})(?:(?P<sep>[/.-])(?P<mo>0?[1-9]|1[0-2])(?P=sep)(?P<y>{_YEAR})"
            rf"|/(?P<mo2>0?[1-9]|1[0-2])/(?P<yy>\d\d))(?![\w/%]|[.,:-]\d)"
        ),
    ),
    (
        "day_range",
        re.compile(
            rf"(?<![\w/.-])(?P<d>{_DAY}){_ORD}{_S}*(?:[-\u2013\u2014]|{_S}(?:to|and|until){_S})"
            rf"{_S}*(?P<d2>{_DAY}){_ORD}(?:{_S}+of)?{_S}+(?P<m>{_MONTH})(?:,?{_S}+(?P<y>{_YEAR}))?(?!\w|/\d)"
        ),
    ),
    (
        "day_month",
        re.compile(
            rf"(?<![\w/.-])(?P<d>{_DAY}){_ORD}(?:{_S}+of)?{_S}+(?P<m>{_MONTH})(?:,?{_S}+(?P<y>{_YEAR}))?(?!\w|/\d)"
        ),
    ),
    (
        "month_day",
        re.compile(rf"(?P<m>{_MONTH}){_S}+(?P<d>{_DAY}){_ORD},?{_S}+(?P<y>{_YEAR})(?!\w|/\d)"),
    ),
    (
        "month",
        re.compile(rf"(?:{_PART_PREFIX})?(?P<m>{_MONTH})(?:,?{_S}+(?:of{_S}+)?(?P<y>{_YEAR}))?(?!\w|/\d)"),
    ),
    (
        "season",
        re.compile(
            rf"(?<!\w)(?i:(?P<s>spring|summer|autumn|fall|winter)(?P<term>{_S}+term)?(?:{_S}+holidays?)?)"
            rf"(?:,?{_S}+(?:of{_S}+)?(?P<y>{_YEAR})(?:{_S}*/{_S}*(?P<y2>\d\d(?:\d\d)?))?)?(?!\w|/\d)"
        ),
    ),
    (
        "year_part",
        re.compile(
            rf"(?<!\w)(?i:(?P<part>early|mid|late)(?:-|{_S}+)|(?P<partof>start|beginning|middle|end|first{_S}+half|"
            rf"second{_S}+half|latter{_S}+half|latter{_S}+part){_S}+of{_S}+)(?P<y>{_YEAR})(?![\w/%]|[.,]\d)"
        ),
    ),
    ("holiday", re.compile(rf"(?<!\w)(?P<h>Christmas|Easter)(?:{_S}+(?:period|holidays?))?(?:,?{_S}+(?:of{_S}+)?)(?P<y>{_YEAR})(?!\w|/\d)")),
    (
        "year",
        re.compile(
            rf"(?<![\w\u00a3$\u20ac#/.,:-])(?P<y>{_YEAR})(?:{_S}*(?P<sep>[-\u2013/]){_S}*(?P<y2>{_YEAR}|\d\d))?"
            rf"(?![\w%/]|[.,]\d|{_S}*[-\u2013/]{_S}*\d)"
        ),
    ),
]

# A bare year is part of a name or title after a capitalised word, unless the word is one of
# these (prepositions and the like at the start of a sentence, or in capitals).
_YEAR_LEADS = frozenset(
    "in during by from since until till between before after throughout through of to and or around about "
    "circa c ca early late mid as at on for the this that also then but both until up over into within "
    "spring summer autumn winter".split()
)
# Words after which a number is not a year.
_NOT_YEAR_AFTER = frozenset(
    "page pages p pp para paras paragraph paragraphs section sections chapter chapters no nos number numbers ref "
    "reference tel telephone phone mobile fax ext extension room version v item items appendix annex figure table "
    "line lines code id case cases footnote note".split()
)
_DATE_PREPOSITION = frozenset("in during by from since until till between before after throughout through of to around about circa".split())
_COUNT_NOUN = re.compile(
    r"[^\S\n]+(?:children|cases|people|persons|referrals|families|contacts|incidents|calls|visits|hours|days|weeks|"
    r"miles|words|pages|staff|pupils|reviews|professionals|practitioners|babies|notifications|assessments|pounds|"
    r"metres|meters|grams|g|kg|ml|mg|km|units|times|members|households|adults|young\s+people)\b",
    re.I,
)
_DOCUMENT_NOUN = re.compile(
    r"[^\S\n]+(?:Act|Acts|Regulations?|Order|Rules|Bill|Guidance|Code|Directive|Convention|Framework|Protocol|"
    r"Standards|Edition|Census|Report|Review)\b"
)
# A year cited with its authors: "Brandon et al (2012)", "(Munro, 2011)", "(Department for
# Education, 2018)"; "Munro (2011)" is already a capitalised word before a year.
_CITATION_BEFORE = re.compile(
    r"(?:\bet[^\S\n]+al\.?,?[^\S\n]*\(?|\([A-Z][\w'\u2019&-]*\.?(?:[^\S\n]+(?:for|of|and|the|&|[A-Z][\w'\u2019&-]*\.?))*"
    r"(?:[^\S\n]+et[^\S\n]+al\.?)?,)[^\S\n]*$"
)
_PERCENT = re.compile(r"[^\S\n]*(?:%|per[^\S\n]*cent\b|percent\b)", re.I)


@dataclass(frozen=True)
class DateMatch:
    """One date expression: ``text[start:end] == date_text``; ``date_from``/``date_to`` are ISO days."""

    start: int
    end: int
    date_text: str
    date_from: str
    date_to: str
    precision: str  # day, month, season, year, range


@dataclass
class _Atom:
    start: int
    end: int
    kind: str
    lo: _dt.date | None  # None while the year is missing (the left end of a range)
    hi: _dt.date | None
    precision: str
    prefix: str | None = None  # "between" / "from" before the atom
    prefix_start: int | None = None
    # For an atom without a year: how to make its range once the year is known.
    make: Callable[[int], tuple[_dt.date, _dt.date]] | None = None
    month: int | None = None


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _month_span(year: int, first: int, last: int) -> tuple[_dt.date, _dt.date]:
    """Months ``first``..``last`` of ``year``; a span past December runs into the next year."""
    if last < first:
        return _dt.date(year, first, 1), _dt.date(year + 1, last, _last_day(year + 1, last))
    return _dt.date(year, first, 1), _dt.date(year, last, _last_day(year, last))


def _full_year(y: int, yy: str) -> int | None:
    """The year a second year written as ``yy`` means after ``y`` ("2013/14" → 2014), or None
    when the two do not make a span of one to ten years."""
    if len(yy) == 4:
        y2 = int(yy)
    else:
        y2 = y // 100 * 100 + int(yy)
        if y2 < y:
            y2 += 100
    return y2 if 1 <= y2 - y <= 10 else None


def _prev_word(text: str, pos: int) -> tuple[str, str]:
    """The word before ``pos`` (skipping spaces and one opening bracket) and what separates them."""
    lo = max(0, pos - 40)
    m = re.search(r"([^\W\d_][\w'\u2019&.-]*)([^\S\n]*\(?[^\S\n]*)$", text[lo:pos])
    if not m:
        return "", text[lo:pos][-3:]
    word = m.group(1)
    if word.endswith(".") and word[:-1].lower() not in _NOT_YEAR_AFTER:
        return "", m.group(2)  # the end of the sentence before
    return word, m.group(2)


def _year_is_date(text: str, start: int, end: int) -> bool:
    """Whether a bare year (or year span) at ``text[start:end]`` reads as a date (see the module doc)."""
    word, gap = _prev_word(text, start)
    low = word.lower().rstrip(".")
    before = text[max(0, start - 2) : start]
    if re.fullmatch(r"\d[^\S\n-]|\d-", before) or re.match(r"[^\S\n]?-?[^\S\n]?\d", text[end : end + 3]):
        return False  # beside other digits: a phone number or a list of numbers
    if _PERCENT.match(text, end) or _CITATION_BEFORE.search(text, max(0, start - 60), start):
        return False
    if word and gap.strip("\t \u00a0") in ("", "(") and len(gap) <= 3:
        if low in _NOT_YEAR_AFTER:
            return False
        if word[0].isupper() and low not in _YEAR_LEADS and low not in _MONTHS:
            return False  # "Children Act 1989", "Working Together 2018", "Group S (2021)"
    leads = low in _DATE_PREPOSITION and gap.strip() == ""
    if not leads and (_COUNT_NOUN.match(text, end) or _DOCUMENT_NOUN.match(text, end)):
        return False  # "2000 children", "the 1989 Act"
    return True


def _atom(kind: str, m: re.Match[str], text: str) -> _Atom | None:
    g = m.groupdict()
    y = int(g["y"]) if g.get("y") else None
    start, end = m.start(), m.end()
    try:
        if kind == "iso":
            d = _dt.date(y, int(g["mo"]), int(g["d"]))
            return _Atom(start, end, kind, d, d, "day")
        if kind == "numeric":
            if g.get("yy"):
                yy = int(g["yy"])
                year = 2000 + yy if 2000 + yy <= _dt.date.today().year else 1900 + yy
                d = _dt.date(year, int(g["mo2"]), int(g["d"]))
            else:
                d = _dt.date(y, int(g["mo"]), int(g["d"]))
            return _Atom(start, end, kind, d, d, "day")
        if kind in ("day_month", "month_day"):
            month, day = _month_number(g["m"]), int(g["d"])
            if month is None:
                return None

            def make(year: int, month: int = month, day: int = day) -> tuple[_dt.date, _dt.date]:
                d = _dt.date(year, month, day)
                return d, d

            if y is None:
                _dt.date(2000, month, day)  # a day no month has (31 June) is not a date
                return _Atom(start, end, kind, None, None, "day", make=make, month=month)
            lo, hi = make(y)
            return _Atom(start, end, kind, lo, hi, "day", month=month)
        if kind == "day_range":
            month, d1, d2 = _month_number(g["m"]), int(g["d"]), int(g["d2"])
            if month is None or d2 <= d1:
                return None

            def make(year: int, month: int = month, d1: int = d1, d2: int = d2) -> tuple[_dt.date, _dt.date]:
                return _dt.date(year, month, d1), _dt.date(year, month, d2)

            if y is None:
                make(2000)
                return _Atom(start, end, kind, None, None, "range", make=make, month=month)
            lo, hi = make(y)
            return _Atom(start, end, kind, lo, hi, "range", month=month)
        if kind == "month":
            month = _month_number(g["m"])
            if month is None:
                return None
            part = (g.get("part") or g.get("partof") or "").lower()

            def make(year: int, month: int = month, part: str = part) -> tuple[_dt.date, _dt.date]:
                first, last = _MONTH_PARTS.get(part, (1, 31))
                return _dt.date(year, month, first), _dt.date(year, month, min(last, _last_day(year, month)))

            if y is None:
                if part:
                    return None
                return _Atom(start, end, kind, None, None, "month", make=make, month=month)
            lo, hi = make(y)
            return _Atom(start, end, kind, lo, hi, "month", month=month)
        if kind == "season":
            season = g["s"].lower()
            if g.get("term"):
                if season not in _TERMS:
                    return None
                first, last = _TERMS[season]
            else:
                first, last = _SEASONS[season]

            def make(year: int, first: int = first, last: int = last) -> tuple[_dt.date, _dt.date]:
                return _month_span(year, first, last)

            if y is None:
                return _Atom(start, end, kind, None, None, "season", make=make, month=first)
            if g.get("y2"):
                y2 = _full_year(y, g["y2"])
                if y2 != y + 1 or season != "winter":
                    return None  # only "winter 2015/16" names two years
            lo, hi = make(y)
            return _Atom(start, end, kind, lo, hi, "season", month=first)
        if kind == "year_part":
            part = " ".join((g.get("part") or g.get("partof") or "").lower().split())
            first, last = _YEAR_PARTS[part]
            lo, hi = _month_span(y, first, last)
            return _Atom(start, end, kind, lo, hi, "season")
        if kind == "holiday":
            if g["h"] == "Christmas":
                return _Atom(start, end, kind, _dt.date(y, 12, 24), _dt.date(y, 12, 26), "season")
            sunday = easter(y)
            return _Atom(start, end, kind, sunday - _dt.timedelta(days=2), sunday + _dt.timedelta(days=1), "season")
        if kind == "year":
            if not _year_is_date(text, start, end):
                return None
            if g.get("y2"):
                y2 = _full_year(y, g["y2"])
                if y2 is None:
                    return None  # "2019-02", "2015/99": a code, not a span of years
                return _Atom(start, end, kind, _dt.date(y, 1, 1), _dt.date(y2, 12, 31), "range")
            return _Atom(start, end, kind, _dt.date(y, 1, 1), _dt.date(y, 12, 31), "year")
    except ValueError:  # no such day (31/02/2015, 29 February 2015)
        return None
    return None


# Every date has a year: four digits, or two after a slash ("14/9/15", "2013/14"). The atoms
# are looked for only around them, from WINDOW_BEFORE characters before (room for the left
# end of a range such as "between 14th and 16th of September") to WINDOW_AFTER after (room
# for the lookaheads): a review is mostly text without dates, and scanning all of it with
# every pattern would cost about a third of the whole extraction.
_ANCHOR = re.compile(r"(?:19|20)\d\d|/\d\d(?!\d)")
WINDOW_BEFORE = 90
WINDOW_AFTER = 16


def _windows(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for m in _ANCHOR.finditer(text):
        lo, hi = max(0, m.start() - WINDOW_BEFORE), min(len(text), m.end() + WINDOW_AFTER)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


# Strings one of which every match of an atom contains (lower-case), where there are a few:
# a pattern is skipped in a window that holds none of them. Tested on lower-cased ASCII
# windows only, where a case-insensitive match can only be the ASCII letters themselves.
_ATOM_NEEDS: dict[str, tuple[str, ...]] = {
    "iso": ("-",),
    "numeric": ("/", ".", "-"),
    "season": ("spring", "summer", "autumn", "fall", "winter"),
    "year_part": ("early", "mid", "late", "start", "beginning", "middle", "end", "first", "second", "latter"),
    "holiday": ("christmas", "easter"),
}
_ATOM_SCANS = [(kind, pattern, _ATOM_NEEDS.get(kind)) for kind, pattern in _ATOMS]


def _atoms(text: str) -> list[_Atom]:
    """Every date atom, overlaps resolved leftmost-longest."""
    found: list[_Atom] = []
    for lo, hi in _windows(text):
        window = text[lo:hi]
        low = window.lower() if window.isascii() else None
        for kind, pattern, needs in _ATOM_SCANS:
            if needs is not None and low is not None and not any(k in low for k in needs):
                continue  # the pattern cannot match in this window
            for m in pattern.finditer(text, lo, hi):
                a = _atom(kind, m, text)
                if a is not None:
                    found.append(a)
    found.sort(key=lambda a: (a.start, -(a.end - a.start)))
    out: list[_Atom] = []
    last_end = -1
    for a in found:
        if a.start >= last_end:
            out.append(a)
            last_end = a.end
    return out


_CONNECTOR = re.compile(
    r"[^\S\n\t]*(?:[-\u2013\u2014/]|(?P<word>to|until|till|through|and|into))[^\S\n\t]*",
    re.I,
)
_RANGE_PREFIX = re.compile(r"\b(?P<pre>between|from)[^\S\n\t]+$", re.I)


def _combine(text: str, atoms: list[_Atom]) -> list[DateMatch]:
    """Join "A - B", "A/B", "between A and B", "from A to B" into ranges; give a yearless left
    end the year of the right end; drop what still has no year."""
    out: list[DateMatch] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        b = atoms[i + 1] if i + 1 < len(atoms) else None
        joined = None
        if b is not None and b.lo is not None:
            conn = _CONNECTOR.fullmatch(text, a.end, b.start)
            pre = _RANGE_PREFIX.search(text, max(0, a.start - 12), a.start)
            if conn is not None:
                word = (conn.group("word") or "").lower()
                prefix = pre.group("pre").lower() if pre else ""
                ok = True
                if prefix == "between" and word not in ("and", ""):
                    ok = False
                if word == "and" and prefix != "between" and a.lo is not None:
                    ok = False  # "in March 2014 and June 2015": two dates, not a range
                if word in ("to", "until", "till", "through", "into") and prefix == "between":
                    ok = False
                if ok:
                    lo, hi = a.lo, a.hi
                    if lo is None and a.make is not None:
                        year = b.lo.year
                        if a.month is not None and b.lo.month < a.month:
                            year -= 1  # "December/January 2016"
                        try:
                            lo, hi = a.make(year)
                        except ValueError:
                            lo = None
                    if lo is not None and lo <= b.hi:
                        s = pre.start("pre") if pre else a.start
                        joined = DateMatch(s, b.end, text[s : b.end], lo.isoformat(), b.hi.isoformat(), "range")
        if joined is not None:
            out.append(joined)
            i += 2
            continue
        if a.lo is not None:
            s = a.start
            if a.kind == "day_range":  # "between 14 and 16 September 2015"
                pre = _RANGE_PREFIX.search(text, max(0, a.start - 12), a.start)
                s = pre.start("pre") if pre else s
            out.append(DateMatch(s, a.end, text[s : a.end], a.lo.isoformat(), a.hi.isoformat(), a.precision))
        i += 1
    return out


def find_dates(text: str) -> list[DateMatch]:
    """Every date or period in ``text``, in text order (see the module doc for the forms)."""
    return _combine(text, _atoms(text))


# ---------------------------------------------------------------------------------------
# Events

# A metadata line: "Date Learning Summary completed <tab> 13 th June 2016", "Published by …,
# March 2022", "Date: 3 May 2019".
_META_CUE = re.compile(
    r"\b(?:published|publication|completed|completion|issued|approved|ratified|updated|revised|version|dated|"
    r"signed[^\S\n]+off)\b|^\W*date\b[^\S\n]*[:\t\u2013-]|\bdate[^\S\n]+of[^\S\n]+(?:the[^\S\n]+)?"
    r"(?:report|review|publication|issue|completion|approval)\b|\b(?:report|review|publication|issue)[^\S\n]+date\b",
    re.I,
)
# Where a sentence holding several dates is cut into clauses (the last such break between two
# dates); the connective itself is left out of the clauses.
_CLAUSE_BREAK = re.compile(
    r"[^\S\n]*(?:;|,[^\S\n]*(?:but|whereas|while|whilst|although|though|however|and|then|before|after|when|until)\b|"
    r"[^\S\n]+(?:but|whereas|whilst|although)\b|[^\S\n]+[\u2013\u2014-][^\S\n]+)[^\S\n]*",
    re.I,
)
_LEADING_CONNECTIVE = re.compile(r"(?:(?:but|and|then|while|whilst|whereas|although|though|however|yet|so)\b,?[^\S\n]*)+", re.I)
MIN_CLAUSE_WORDS = 3  # words besides the date a clause needs to stand as an event of its own


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class SentenceUnit(Protocol):
    """What :func:`find_timeline` needs of the extraction's sentences (``extract.Unit``)."""

    start: int
    end: int
    case: str | None
    agencies: Sequence[_Named]
    roles: Sequence[_Named]


def _is_metadata(text: str, start: int) -> bool:
    """A date on a line saying when the document was published, completed, updated …: a label
    and its value ("Date completed<tab>…", "Report date: …"), or a short line near the top
    ("Published by …, March 2022"). "The SCR published in 2014 found that …" is an event."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    if len(before.split()) > 8 or not _META_CUE.search(before):
        return False
    if re.search(r"[\t:][^\S\n]*$", before):
        return True
    line_end = text.find("\n", start)
    return start < 3000 and len(text[line_start : line_end if line_end >= 0 else len(text)].split()) <= 14


def _clauses(text: str, start: int, end: int, dates: list[DateMatch]) -> list[tuple[int, int]]:
    """The span of the event of each date in the sentence ``[start, end)``: the whole sentence,
    or the clause around each date where the sentence breaks between them."""
    whole = [(start, end)] * len(dates)
    if len(dates) < 2:
        return whole
    cuts: list[tuple[int, int]] = []  # (end of one clause, start of the next)
    for left, right in zip(dates, dates[1:], strict=False):
        last = None
        for m in _CLAUSE_BREAK.finditer(text, left.end, right.start):
            last = m
        if last is None:
            return whole
        nxt = last.end()
        lead = _LEADING_CONNECTIVE.match(text, nxt, right.start)
        if lead:
            nxt = lead.end()
        cuts.append((last.start(), nxt))
    spans: list[tuple[int, int]] = []
    s = start
    for e, nxt in cuts:
        spans.append((s, e))
        s = nxt
    spans.append((s, end))
    for (s, e), d in zip(spans, dates, strict=True):
        rest = text[s : d.start] + " " + text[d.end : e]
        if len(re.findall(r"[^\W\d_]{2,}", rest)) < MIN_CLAUSE_WORDS:
            return whole  # a list of dates ("in March, May and June 2015"): one sentence each
    return spans


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def find_timeline(
    text: str,
    units: Sequence[SentenceUnit],
    review_id: str,
    evidence: Callable[[int, int], Evidence],
    sector: Callable[[str], str] | None = None,
    today: _dt.date | None = None,
) -> list[TimelineEvent]:
    """The review's timeline: one event per date found in the extraction's sentences.

    ``units`` are the extraction's sentences in text order (:class:`SentenceUnit`: span, case,
    agency and role matches with absolute offsets); ``evidence(start, end)`` makes the
    evidence of a span exactly as for every other fact; ``sector(name)`` leaves out the
    partnership (never counted as involved in the case). Dates after ``today``'s year are
    plans, not events.
    """
    this_year = (today or _dt.date.today()).year
    starts = [u.start for u in units]
    # Dates grouped by the sentence (run of sentences, for a date across a full stop such
    # as "Sept. 2015") they fall in.
    groups: dict[tuple[int, int], list[DateMatch]] = {}
    for d in find_dates(text):
        if int(d.date_from[:4]) > this_year:
            continue
        i = bisect.bisect_right(starts, d.start) - 1
        if i < 0 or units[i].end <= d.start:
            continue  # in a heading or between items
        j = i
        while units[j].end < d.end and j + 1 < len(units) and units[j + 1].start < d.end:
            j += 1
        if units[j].end < d.end:
            continue
        if _is_metadata(text, d.start):
            continue
        groups.setdefault((i, j), []).append(d)
    events: list[tuple[tuple, dict]] = []
    for (i, j), dates in groups.items():
        first, last = units[i], units[j]
        start, end = first.start, last.end
        ev_sentence = evidence(start, end)
        if ev_sentence.section in EXCLUDED_SECTIONS:
            continue
        agencies = [m for k in range(i, j + 1) for m in units[k].agencies]
        roles = [m for k in range(i, j + 1) for m in units[k].roles]
        if sector is not None:
            agencies = [m for m in agencies if sector(m.name) != PARTNERSHIP]
        for d, (s, e) in zip(dates, _clauses(text, start, end, dates), strict=True):
            ev = evidence(s, e)
            events.append((
                (d.date_from, d.date_to, s, d.start),
                {
                    "date_text": d.date_text,
                    "date_start": d.start,
                    "date_end": d.end,
                    "date_from": d.date_from,
                    "date_to": d.date_to,
                    "precision": d.precision,
                    "text": ev.quote,
                    "quote": ev.quote,
                    "agencies": _unique(m.name for m in agencies if s <= m.start and m.end <= e),
                    "family_members": _unique(m.name for m in roles if s <= m.start and m.end <= e),
                    "case": first.case,
                    "evidence": ev,
                },
            ))
    events.sort(key=lambda x: x[0])
    return [TimelineEvent(id=f"{review_id}/ev{n:03d}", **fields) for n, (_key, fields) in enumerate(events, 1)]
