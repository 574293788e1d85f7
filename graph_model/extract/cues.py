"""Cue words as compiled patterns: the families of ``data/cues.yaml`` (and a user's additions).

Each family is searched as one pattern, ``\\b(?:cue|cue|...)``, case-insensitively. Where a
family's text is its own lower case (``taxonomy._case_free``), a *twin* compiled without
IGNORECASE scans the lower-cased text instead: the same matches at the same offsets, several
times faster (the engine compares characters without folding them).

Also here: the fixed patterns of a review's structure that are not vocabulary (a line that
is not a finding, "all agencies" addressees), with the fast forms of their tests.
"""

from __future__ import annotations

import re

from ..taxonomy import Taxonomy, _case_free, _required_strings, case_plain

# The families extraction reads; a taxonomy file may add cues to these, not new families.
BROKEN_FAMILIES = ("broken", "broken_named", "broken_recipient", "broken_refused", "broken_from", "broken_between")


class Cue:
    """One family of cue words: ``search`` on the text, or on the lower-cased text with ``low``."""

    __slots__ = ("pattern", "twin", "words")

    def __init__(self, cues: tuple[str, ...]):
        body = "|".join(f"(?:{c})" for c in cues) if cues else "(?!)"
        self.pattern = re.compile(rf"\b(?:{body})", re.IGNORECASE)
        self.twin = re.compile(self.pattern.pattern) if _case_free(self.pattern.pattern) else None
        # Lower-case strings one of which every match holds (None: no such list): a text
        # holding none of them is skipped without running the pattern.
        words: list[str] = []
        for cue in cues:
            required = _required_strings(cue, re.IGNORECASE)
            if required is None:
                words = []
                break
            words += required
        self.words = re.compile("|".join(map(re.escape, sorted(set(words))))) if words else None

    def search(self, text: str, low: str | None = None, start: int = 0, end: int | None = None) -> re.Match[str] | None:
        """The first match in ``text[start:end]``; ``low``, when given, is ``text`` lower-cased
        with the same length and :func:`taxonomy.case_plain` (the twin then scans it)."""
        end = len(text) if end is None else end
        if low is not None and self.twin is not None:
            if self.words is not None and not self.words.search(low, start, end):
                return None
            return self.twin.search(low, start, end)
        return self.pattern.search(text, start, end)

    def finditer(self, text: str, low: str | None = None, start: int = 0, end: int | None = None):
        end = len(text) if end is None else end
        if low is not None and self.twin is not None:
            return self.twin.finditer(low, start, end)
        return self.pattern.finditer(text, start, end)


class Cues:
    """Every cue family of one taxonomy, compiled."""

    def __init__(self, tax: Taxonomy):
        families = tax.cues
        self.families = {name: Cue(items) for name, items in families.items()}
        self.deficit = self.families["deficit"]
        self.prescriptive = self.families["prescriptive"]
        self.counterfactual = self.families["counterfactual"]
        self.professional = self.families["professional"]
        self.effective = self.families["effective"]
        self.telling = self.families["telling"]
        self.contrast = self.families["contrast"]
        self.consequence = self.families["consequence"]
        self.reporting = self.families["reporting"]
        self.broken_kinds = [(name, self.families[name]) for name in BROKEN_FAMILIES]
        # Any breakdown at all: the union of the breakdown families.
        self.broken = Cue(tuple(c for name in BROKEN_FAMILIES for c in families.get(name, ())))


def cues_of(tax: Taxonomy) -> Cues:
    """The compiled cues of ``tax`` (compiled once per taxonomy)."""
    found = getattr(tax, "_compiled_cues", None)
    if found is None:
        found = Cues(tax)
        tax._compiled_cues = found  # type: ignore[attr-defined]
    return found


# ---------------------------------------------------------------------------------------
# Structure: not vocabulary, so not data


def lower_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` without IGNORECASE, for the lower-cased text (see the module's docstring)."""
    if not _case_free(pattern.pattern):  # pragma: no cover - a pattern edited without care
        raise ValueError(f"pattern is not case-free: {pattern.pattern[:60]}")
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


NOT_A_FINDING = re.compile(r"^\(.*\)$|[:\u2013-]\s*-?$|^(?:here\s+(?:are|is)\b|the\s+full\s+report\b|for\s+(?:more|further)\s+information\b|click\s+here\b|this\s+(?:bulletin|briefing|newsletter|document)\s+(?:is|has|was)\b)|^no\s+(?:single|multi)[-\s]agency\s+learning|learning\s+points?\s+were\s+identified", re.I | re.S)
# The same test in three parts (:func:`not_a_finding`): a search for the whole alternation
# tries all five alternatives at every position of a long item. The alternatives anchored
# with "^" can only match at the start; the one ending with "$" starts with a character
# class the engine skips to; the last needs the letters "learning".
NAF_HEAD = re.compile(
    r"\(.*\)$|(?:here\s+(?:are|is)\b|the\s+full\s+report\b|for\s+(?:more|further)\s+information\b|click\s+here\b|"
    r"this\s+(?:bulletin|briefing|newsletter|document)\s+(?:is|has|was)\b)|no\s+(?:single|multi)[-\s]agency\s+learning",
    re.I | re.S,
)
NAF_END = re.compile(r"[:\u2013-]\s*-?$", re.I | re.S)
NAF_POINTS = re.compile(r"learning\s+points?\s+were\s+identified", re.I | re.S)
NAF_HEAD_L = lower_twin(NAF_HEAD)

ALL_GROUP = r"(?:multi[-\s]agency\s+)?(?:agencies|professionals|practitioners|partners|partner\s+agencies|staff|services|organisations)\b"
# "All – …", "All agencies …", "To ensure all practitioners …", "… shared by all agencies".
ALL_ADDRESSEE = re.compile(
    rf"^all\s*[-\u2013\u2014:]|^(?:to\s+ensure\s+|ensure\s+(?:that\s+)?)?all\s+{ALL_GROUP}|\b(?:by|for|to|across)\s+all\s+{ALL_GROUP}|^all\s+{ALL_GROUP}"
    # "Agencies are required to …", "Professionals should …": every agency, none named.
    r"|^(?:agencies|professionals|practitioners|partners|partner\s+agencies)\s+(?:should|must|will|need\s+to|"
    r"are\s+(?:required|expected|asked|reminded|encouraged)\s+to)\b",
    re.I,
)
# ALL_ADDRESSEE in two parts (:func:`all_addressee`): the alternatives anchored with "^",
# and the one that may match anywhere.
ALL_HEAD = re.compile(
    rf"all\s*[-\u2013\u2014:]|(?:to\s+ensure\s+|ensure\s+(?:that\s+)?)?all\s+{ALL_GROUP}|all\s+{ALL_GROUP}"
    r"|(?:agencies|professionals|practitioners|partners|partner\s+agencies)\s+(?:should|must|will|need\s+to|"
    r"are\s+(?:required|expected|asked|reminded|encouraged)\s+to)\b",
    re.I,
)
ALL_MID = re.compile(rf"\b(?:by|for|to|across)\s+all\s+{ALL_GROUP}", re.I)
ALL_HEAD_L = lower_twin(ALL_HEAD)
# A statement that the learning which follows is for every agency: "it is important that
# all multi-agency partners are aware of the learning themes below".
LEARNING_FOR_ALL = re.compile(
    rf"\ball\s+{ALL_GROUP}[^.\n]{{0,120}}\b(?:learning|lessons|messages|themes|points)\b[^.\n]{{0,40}}\b(?:below|following|that\s+follow)\b",
    re.I,
)


def not_a_finding(text: str, low: str | None = None) -> bool:
    """``bool(NOT_A_FINDING.search(text))``, faster (see :data:`NAF_HEAD`); ``low``, when
    given, is ``text`` lower-cased as for :class:`Cue`."""
    if (NAF_HEAD_L.match(low) if low is not None else NAF_HEAD.match(text)) or NAF_END.search(text):
        return True
    if "learning" not in text.lower() and case_plain(text):
        return False
    return NAF_POINTS.search(text) is not None


def all_addressee(text: str, low: str | None = None) -> bool:
    """``bool(ALL_ADDRESSEE.search(text))``, faster: the alternatives anchored with "^" are
    tried at the start only, the other one only where the text holds "all"."""
    if ALL_HEAD_L.match(low) if low is not None else ALL_HEAD.match(text):
        return True
    if "all" not in text.lower() and case_plain(text):
        return False
    return ALL_MID.search(text) is not None
