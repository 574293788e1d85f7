"""The taxonomy as data: agencies, family roles and learning themes from YAML.

The shipped file is ``graph_model/data/taxonomy.yaml``; a user file of the same shape
extends it (new names are added, existing names get extra aliases). Matching is compiled
once into a few combined regular expressions so that extraction stays fast.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from .errors import TaxonomyError, UsageError, yaml_problem
from .safeyaml import regex_may_backtrack

SHIPPED = "taxonomy.yaml"
SHIPPED_CUES = "cues.yaml"
_TOP_KEYS = ("agencies", "family_roles", "themes", "cues")
ENV_VAR = "SGRAPH_TAXONOMY"

# Words that a cue may not match on its own: they stand in nearly every sentence ("should"
# or "not" may: a cue family says what such a word means).
_STOP_CUES = ("the", "a", "an", "and", "or", "of", "to", "in", "on", "all", "it", "is", "be", "as", "was", "were")
# Words that on their own would match almost everywhere: never allowed as an alias.
_STOP_ALIASES = frozenset(
    "the a an and or of to in on all it is be as did not was were has have had been are am do does done this that "
    "these those with for from by at but if no nor so can could will would shall should may might must he she they "
    "we you i me him her his hers its their them our us your who whom whose which what when where why how there "
    "then than also any some more most other such into about after before up out over under one two very just only "
    "own same too each both few yes".split()
)


class _Entry(BaseModel):
    aliases: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)
    not_after: list[str] = Field(default_factory=list)
    not_before: list[str] = Field(default_factory=list)

    @field_validator("aliases", "not_after", "not_before", mode="before")
    @classmethod
    def _strings(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v) if isinstance(v, (int, float)) else v for v in value]
        return value


class AgencyDef(_Entry):
    name: str
    sector: str


class RoleDef(_Entry):
    role: str


class ThemeDef(BaseModel):
    name: str
    description: str = ""
    triggers: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)


class _TaxonomyFile(BaseModel):
    agencies: list[AgencyDef] = Field(default_factory=list)
    family_roles: list[RoleDef] = Field(default_factory=list)
    themes: list[ThemeDef] = Field(default_factory=list)
    # Extraction's cue words by family (data/cues.yaml): regular expressions.
    cues: dict[str, list[str]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """One occurrence of a taxonomy entry in a text."""

    name: str  # canonical agency name, role, or theme name
    start: int
    end: int


class Matcher:
    """Finds the entries of one kind (agencies, roles or themes) in text.

    Plain phrases go into two combined regular expressions (case-insensitive, and
    case-sensitive for capitals-only abbreviations); overlapping matches are resolved
    leftmost-longest, then ``not_after``/``not_before`` vetoes are applied.
    """

    def __init__(self, entries: list[tuple[str, list[str], list[str], list[str], list[str]]]):
        # entries: (name, phrases, regexes, not_after, not_before)
        self._lookup_ci: dict[str, str] = {}
        self._lookup_cs: dict[str, str] = {}
        self._vetoes: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        # (name, pattern, group, lower-case strings one of which every match contains or None,
        # the same pattern without IGNORECASE for the lower-cased text or None: _case_free)
        self._regexes: list[
            tuple[str, re.Pattern[str], str | int, tuple[str, ...] | None, re.Pattern[str] | None]
        ] = []
        for name, phrases, regexes, not_after, not_before in entries:
            self._vetoes[name] = (
                tuple(p.lower() for p in not_after),
                tuple(p.lower() for p in not_before),
            )
            for phrase in phrases:
                key = _norm(phrase)
                if _is_abbreviation(phrase):
                    self._lookup_cs[key] = name
                else:
                    self._lookup_ci[key.lower()] = name
            for pattern in regexes:
                compiled = re.compile(pattern, re.IGNORECASE)
                group = "m" if "m" in compiled.groupindex else 0
                fast = re.compile(pattern) if _case_free(pattern) else None
                self._regexes.append((name, compiled, group, _required_strings(pattern, re.IGNORECASE), fast))
        self._vetoed_names = {name for name, (after, before) in self._vetoes.items() if after or before}
        self._ci = _combine(self._lookup_ci, re.IGNORECASE)
        self._ci_lower = _combine(self._lookup_ci, 0)  # for lower-cased text: keys are lower-case
        # The same phrases after one character that may stand before a match, consumed
        # instead of tested by a lookbehind: see :meth:`_find_lower`.
        self._ci_sep = _combine(self._lookup_ci, 0, lookbehind=False, head=_SEPARATOR)
        self._names: dict[str, str] = {}  # matched text -> canonical name
        self._cs = _combine(self._lookup_cs, 0)
        # The same without the leading "not after a word character" test: a pattern that
        # starts with its phrases lets the regex engine skip ahead to the characters that
        # can start one (capitals), several times faster; the test is made on each hit.
        self._cs_head = _combine(self._lookup_cs, 0, lookbehind=False)

    def find(self, text: str) -> list[Match]:
        """All non-overlapping matches in ``text``, in order."""
        found: list[Match] = []
        names = self._names
        sources = 0  # how many of the scans below found something
        low = text.lower()
        if self._ci is not None:
            # Lower-case the text once and scan it with a case-sensitive pattern (about twice
            # as fast as IGNORECASE); only when lower-casing keeps every offset in place.
            if len(low) == len(text):
                spans = self._find_lower(low)
                scan = low
            else:
                spans = [m.span() for m in self._ci.finditer(text)]
                scan = text
            for start, end in spans:
                key = scan[start:end]
                name = names.get(key)
                if name is None:
                    name = names[key] = self._lookup_ci[_norm(key).lower()]
                found.append(Match(name, start, end))
            sources += bool(found)
        if self._cs_head is not None:
            # Same matches as ``self._cs.finditer(text)``: a hit right after a word character
            # is dropped and the search resumes one character after its start.
            n = len(found)
            search, word_before = self._cs_head.search, _WORD_BEFORE.match
            pos = 0
            while (m := search(text, pos)) is not None:
                start = m.start()
                if start and word_before(text, start - 1):
                    pos = start + 1
                    continue
                key = "\x00" + m.group(0)
                name = names.get(key)
                if name is None:
                    name = names[key] = self._lookup_cs[_norm(m.group(0))]
                found.append(Match(name, start, m.end()))
                pos = m.end()
            sources += len(found) > n
        if self._regexes:
            # A regex that needs one of a few literal strings is skipped when none of them
            # is in the lower-cased text. Only when lower-casing keeps every offset in place
            # and the text is :func:`case_plain`.
            plain = len(low) == len(text) and case_plain(text)
            for name, pattern, group, needs, fast in self._regexes:
                if plain and needs is not None and not any(k in low for k in needs):
                    continue
                n = len(found)
                # The same matches, faster: the pattern without IGNORECASE on the lower-cased
                # text (see :func:`_case_free`), where that is the same search.
                scan, pattern = (low, fast) if plain and fast is not None else (text, pattern)
                for m in pattern.finditer(scan):
                    start, end = m.span(group)
                    if end > start:
                        found.append(Match(name, start, end))
                sources += len(found) > n
        if sources > 1:
            found.sort(key=lambda x: (x.start, -(x.end - x.start)))
        # else: one scan's matches are already in order and never overlap.
        result: list[Match] = []
        last_end = -1
        vetoed = self._vetoed_names
        for match in found:
            if match.start < last_end:
                continue
            if match.name in vetoed and self._vetoed(text, match):
                continue
            result.append(match)
            last_end = match.end
        return result

    def _find_lower(self, low: str) -> list[tuple[int, int]]:
        """The spans of ``self._ci_lower.finditer(low)``, found faster.

        That pattern starts with a lookbehind, so the regex engine tries every position of
        the text. ``self._ci_sep`` instead starts with a character class (every character
        but ASCII word characters and "&"), which the engine skips to in a tight loop, and
        consumes it: a hit at ``q`` is a match at ``q + 1`` when ``low[q]`` is not a word
        character (only a non-ASCII one can be). A match at 0 has no character before it and
        is looked for with the original pattern; after a match ending at ``e`` the search
        resumes at ``e - 1``, whose character the lookbehind would have tested.
        """
        spans: list[tuple[int, int]] = []
        pos = 0
        first = self._ci_lower.match(low)
        if first is not None:
            spans.append(first.span())
            pos = first.end() - 1
        search, word = self._ci_sep.search, _WORD_BEFORE.match
        while (m := search(low, pos)) is not None:
            q = m.start()
            if low[q] >= "\x80" and word(low, q):
                pos = q + 1  # a letter such as "é": no match can start right after it
                continue
            spans.append((q + 1, m.end()))
            pos = m.end() - 1
        return spans

    def _vetoed(self, text: str, match: Match) -> bool:
        not_after, not_before = self._vetoes.get(match.name, ((), ()))
        if not_after:
            before = text[max(0, match.start - 40) : match.start].lower().rstrip()
            if before.endswith(not_after):  # any of them
                return True
        if not_before:
            after = text[match.end : match.end + 40].lower().lstrip()
            # startswith(tuple) first: most matches are followed by none of the words.
            if after.startswith(not_before) and any(
                after.startswith(w) and not after[len(w) : len(w) + 1].isalnum() for w in not_before
            ):
                return True
        return False


def _norm(phrase: str) -> str:
    phrase = phrase.replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", phrase.strip())


def _is_abbreviation(phrase: str) -> bool:
    letters = [c for c in phrase if c.isalpha()]
    return bool(letters) and phrase == phrase.upper() and len(phrase) <= 6


def _char_pattern(ch: str) -> str:
    if ch == " ":
        return r"\s+"
    if ch == "'":
        return "['\u2019]"
    return re.escape(ch)


def _trie_pattern(phrases: list[str]) -> str:
    """One regular expression matching any of ``phrases``, factored as a trie.

    Python's ``re`` tries alternatives one by one; sharing prefixes ("health visitor",
    "health visiting", "health visitors") makes a scan over long text many times faster
    than a flat alternation. Longer phrases are preferred at each branch.
    """
    trie: dict = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict) -> str:
        end = "" in node
        branches = [_char_pattern(ch) + emit(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            # The phrase may stop here, but a longer one that continues is tried first.
            return "(?:" + body + ")?" if len(branches) > 1 or len(body) > 1 else body + "?"
        return body

    return emit(trie)


def _combine(lookup: dict[str, str], flags: int, lookbehind: bool = True, head: str = "") -> re.Pattern[str] | None:
    if not lookup:
        return None
    body = _trie_pattern(sorted(lookup))
    head = r"(?<![\w&])" if lookbehind else head
    return re.compile(rf"{head}(?:{body})(?![\w&])", flags)


# Any character that may stand right before a phrase (not an ASCII word character nor "&"),
# and every non-ASCII character (whether it is a word character is tested on each hit).
_SEPARATOR = "[\\x00-%'-/:-@\\[-^`{-\\U0010ffff]"


_WORD_BEFORE = re.compile(r"[\w&]")


def _required_strings(pattern: str, flags: int) -> tuple[str, ...] | None:
    """Lower-case ASCII strings one of which every match of ``pattern`` contains, or None.

    Read from the parsed pattern: the longest run of literal characters (or small sets of
    them, as in "SC[BP]") that every match must pass through, at the top level or inside a
    plain group. Used only to skip a regex on a text that holds none of the strings.
    """
    try:
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, flags)
    except Exception:  # pragma: no cover - the parser is private to each Python version
        return None
    best: tuple[str, ...] | None = None

    def consider(run: list[str]) -> None:
        nonlocal best
        if run and min(map(len, run)) >= 2 and (best is None or min(map(len, run)) > min(map(len, best))):
            best = tuple(run)

    def walk(seq) -> None:
        run: list[str] = []
        for op, av in seq:
            chars: list[str] | None = None
            if op is c.LITERAL:
                chars = [chr(av)]
            elif op is c.IN and av and all(o is c.LITERAL for o, _v in av) and len(av) <= 4:
                chars = [chr(v) for _o, v in av]
            if chars is not None and all(ch.isascii() for ch in chars):
                chars = sorted({ch.lower() for ch in chars})
                if run and len(run) * len(chars) > 8:
                    consider(run)
                    run = []
                run = [r + ch for r in run for ch in chars] if run else chars
                continue
            consider(run)
            run = []
            if op is c.SUBPATTERN and not av[1] and not av[2]:  # a group without inline flags
                walk(av[3])
        consider(run)

    walk(parsed)
    return best


def case_plain(text: str) -> bool:
    """Whether ``text`` has none of the characters IGNORECASE equates with an ASCII letter
    that lower-casing does not turn into that letter alone ("İ" becomes "i" and a combining
    dot; dotless "ı" and long "ſ" stay): then a case-insensitive match of a lower-case ASCII
    literal means ``text.lower()`` holds the literal."""
    return "\u0130" not in text and "\u0131" not in text and "\u017f" not in text


def _safe_char(code: int) -> bool:
    """A pattern character that matches the same without IGNORECASE on lower-cased text:
    no ASCII capital, and no non-ASCII character with a case or one that IGNORECASE equates
    with an ASCII letter."""
    ch = chr(code)
    if ch.isascii():
        return not ch.isupper()
    return ch not in "\u0130\u0131\u017f\u212a" and ch.lower() == ch == ch.upper()


def _case_free(pattern: str) -> bool:
    r"""Whether ``pattern`` compiled without IGNORECASE finds on ``text.lower()`` exactly what
    it finds with IGNORECASE on ``text``, for any text that lower-casing keeps the same
    length and that holds neither "ı" nor "ſ" (``Matcher.find``'s ``plain``).

    IGNORECASE compares the lower-cased character of the text with the pattern's characters
    and their case variants; for a pattern whose characters are all their own lower case and
    have no other variant, that is the test the plain pattern makes on the lower-cased text.
    ``\w``, ``\s``, ``\d`` and ``\b`` are unchanged by lower-casing one character into one.
    Read from the parsed pattern; anything not understood (inline flags, large ranges, other
    opcodes) answers False, and the pattern keeps scanning the original text.
    """
    try:
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, re.IGNORECASE)
    except Exception:  # pragma: no cover - the parser is private to each Python version
        return False
    if parsed.state.flags & ~(re.IGNORECASE | re.UNICODE):
        return False  # an inline global flag

    plain_ops = {c.ANY, c.AT, c.CATEGORY, c.NEGATE, c.FAILURE, c.SUCCESS}

    def ok_set(items) -> bool:
        for op, av in items:
            if op is c.LITERAL:
                if not _safe_char(av):
                    return False
            elif op is c.RANGE:
                lo, hi = av
                if hi - lo > 512 or not all(_safe_char(x) for x in range(lo, hi + 1)):
                    return False
            elif op not in (c.CATEGORY, c.NEGATE):
                return False
        return True

    def ok(seq) -> bool:
        for op, av in seq:
            if op in (c.LITERAL, c.NOT_LITERAL):
                if not _safe_char(av):
                    return False
            elif op is c.IN:
                if not ok_set(av):
                    return False
            elif op is c.SUBPATTERN:
                _group, add, rem, sub = av
                if add or rem or not ok(sub):
                    return False
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                if not ok(av[2]):
                    return False
            elif op is c.BRANCH:
                if not all(ok(b) for b in av[1]):
                    return False
            elif op in (c.ASSERT, c.ASSERT_NOT):
                if not ok(av[1]):
                    return False
            elif op is c.ATOMIC_GROUP:
                if not ok(av):
                    return False
            elif op is c.GROUPREF:
                continue
            elif op not in plain_ops:
                return False
        return True

    return ok(parsed)


@dataclass(frozen=True)
class Agency:
    name: str
    sector: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    name: str
    description: str
    triggers: tuple[str, ...]


class Taxonomy:
    """The loaded taxonomy with compiled matchers."""

    def __init__(self, data: _TaxonomyFile, sources: tuple[str, ...]):
        self.sources = sources
        self.agencies: dict[str, Agency] = {
            a.name: Agency(a.name, a.sector, tuple(a.aliases)) for a in data.agencies
        }
        self.roles: tuple[str, ...] = tuple(r.role for r in data.family_roles)
        self.themes: dict[str, Theme] = {
            t.name: Theme(t.name, t.description, tuple(t.triggers)) for t in data.themes
        }
        self.agency_matcher = Matcher(
            [(a.name, [a.name, *a.aliases], a.regex, a.not_after, a.not_before) for a in data.agencies]
        )
        self.role_matcher = Matcher(
            [(r.role, r.aliases, r.regex, r.not_after, r.not_before) for r in data.family_roles]
        )
        self.theme_matcher = Matcher([(t.name, t.triggers, t.regex, [], []) for t in data.themes])
        # Extraction's cue words by family, compiled by graph_model.extract.cues.
        self.cues: dict[str, tuple[str, ...]] = {family: tuple(items) for family, items in data.cues.items()}

    def sector(self, agency: str) -> str:
        return self.agencies[agency].sector

    def resolve_agency(self, name: str) -> str:
        """The canonical agency name for a canonical name or alias (any case).

        Raises :class:`UsageError` with the closest canonical names when unknown.
        """
        wanted = _norm(name).lower()
        for agency in self.agencies.values():
            if wanted == agency.name.lower() or wanted in (_norm(a).lower() for a in agency.aliases):
                return agency.name
        matches = self.agency_matcher.find(_norm(name))
        if len(matches) == 1 and matches[0].end - matches[0].start == len(_norm(name)):
            return matches[0].name
        choices = {a.name.lower(): a.name for a in self.agencies.values()}
        for agency in self.agencies.values():
            for alias in agency.aliases:
                choices.setdefault(alias.lower(), agency.name)
        raise UsageError(f"Unknown agency '{name}'.{did_you_mean(name, choices)} Run 'sgraph taxonomy' to list agencies.")


def did_you_mean(name: str, choices: dict[str, str]) -> str:
    """" Did you mean: A, B?" for the (up to three) closest of ``choices`` to ``name``, or "".

    ``choices`` maps each lower-case spelling to the name to suggest (several spellings,
    e.g. an agency's aliases, may suggest the same name)."""
    close = difflib.get_close_matches(_norm(name).lower(), list(choices), n=6, cutoff=0.6)
    suggestions = list(dict.fromkeys(choices[c] for c in close))[:3]
    return f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""


def _read_yaml(path: Path | None, text: str, label: str) -> dict:
    from . import safeyaml

    try:
        data = safeyaml.load(text)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{label}: {yaml_problem(exc)}.") from None
    if data is None:
        raise TaxonomyError(f"{label}: is empty.")
    if not isinstance(data, dict):
        raise TaxonomyError(f"{label}: must be a mapping with 'agencies', 'family_roles' and 'themes'.")
    unknown = set(data) - set(_TOP_KEYS)
    if unknown:
        raise TaxonomyError(
            f"{label}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}; "
            "expected 'agencies', 'family_roles', 'themes' and 'cues'."
        )
    return data


def _line_of(text: str, needle: str) -> str:
    if not needle:
        return ""
    word = re.compile(rf"(?<![\w]){re.escape(needle)}(?![\w])")
    for number, line in enumerate(text.splitlines(), start=1):
        if word.search(line):
            return f" (line {number})"
    return ""


def _parse(data: dict, text: str, label: str) -> _TaxonomyFile:
    try:
        return _TaxonomyFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        where = ".".join(str(p) for p in loc)
        line = ""
        # Point at the offending entry: find the entry's name in the text.
        if len(loc) >= 2 and isinstance(loc[1], int):
            entries = data.get(str(loc[0])) or []
            if isinstance(entries, list) and loc[1] < len(entries) and isinstance(entries[loc[1]], dict):
                entry = entries[loc[1]]
                ident = entry.get("name") or entry.get("role")
                if ident:
                    line = _line_of(text, str(ident))
        raise TaxonomyError(f"{label}: {where}: {err['msg'].lower()}{line}.") from None


def _merge(base: _TaxonomyFile, extra: _TaxonomyFile) -> _TaxonomyFile:
    agencies = {a.name.lower(): a.model_copy(deep=True) for a in base.agencies}
    for a in extra.agencies:
        key = a.name.lower()
        if key in agencies:
            cur = agencies[key]
            cur.aliases += [x for x in a.aliases if x not in cur.aliases]
            cur.regex += a.regex
            cur.not_after += a.not_after
            cur.not_before += a.not_before
        else:
            agencies[key] = a
    roles = {r.role.lower(): r.model_copy(deep=True) for r in base.family_roles}
    for r in extra.family_roles:
        key = r.role.lower()
        if key in roles:
            roles[key].aliases += [x for x in r.aliases if x not in roles[key].aliases]
            roles[key].regex += r.regex
        else:
            roles[key] = r
    themes = {t.name.lower(): t.model_copy(deep=True) for t in base.themes}
    for t in extra.themes:
        key = t.name.lower()
        if key in themes:
            themes[key].triggers += [x for x in t.triggers if x not in themes[key].triggers]
            themes[key].regex += t.regex
        else:
            themes[key] = t
    cues = {family: list(items) for family, items in base.cues.items()}
    for family, items in extra.cues.items():
        cues.setdefault(family, [])
        cues[family] += [x for x in items if x not in cues[family]]
    return _TaxonomyFile(
        agencies=list(agencies.values()), family_roles=list(roles.values()), themes=list(themes.values()), cues=cues
    )


def _check(tax: _TaxonomyFile, texts: dict[str, str], shipped_cues: dict[str, list[str]]) -> None:
    """Reject aliases that would break matching, naming the file and line."""

    def where(alias: str) -> str:
        # The user's file first: a problem there is the likelier one.
        for label, text in reversed(list(texts.items())):
            line = _line_of(text, alias)
            if line:
                return f"{label}{line}"
        return next(iter(texts))

    def where_blank() -> str:  # the first "name:" / "role:" left blank, the user's file first
        for label, text in reversed(list(texts.items())):
            m = re.search(r"""(?m)^[ \t-]*(?:name|role):[ \t]*(?:""|''|~|null)?[ \t]*(?:#.*)?$""", text)
            if m:
                return f"{label} (line {text.count(chr(10), 0, m.start()) + 1})"
        return next(reversed(list(texts)))

    kinds: list[tuple[str, Iterable[tuple[str, list[str], list[str]]]]] = [
        ("agency", ((a.name, [a.name, *a.aliases], a.regex) for a in tax.agencies)),
        ("family role", ((r.role, r.aliases, r.regex) for r in tax.family_roles)),
        ("theme", ((t.name, t.triggers, t.regex) for t in tax.themes)),
    ]
    for kind, entries in kinds:
        owner: dict[str, str] = {}
        for name, phrases, regexes in entries:
            if not name or not name.strip():
                raise TaxonomyError(f"{where_blank()}: {'an' if kind[0] in 'aeiou' else 'a'} {kind} has an empty name.")
            for phrase in phrases:
                if not isinstance(phrase, str) or len(_norm(phrase)) < 2:
                    raise TaxonomyError(
                        f"{where(str(phrase))}: {kind} '{name}' has the alias {phrase!r}, "
                        "which is too short to match reliably (2 characters at least)."
                    )
                if _norm(phrase).lower() in _STOP_ALIASES:
                    raise TaxonomyError(
                        f"{where(phrase)}: {kind} '{name}' has the alias '{phrase}', a common word "
                        "that would match almost every sentence."
                    )
                key = _norm(phrase) if _is_abbreviation(phrase) else _norm(phrase).lower()
                other = owner.get(key)
                if other is not None and other != name:
                    raise TaxonomyError(
                        f"{where(phrase)}: the alias '{phrase}' belongs to both {kind} '{other}' and "
                        f"'{name}'; each alias must name one {kind}."
                    )
                owner[key] = name
            for pattern in regexes:
                _check_regex(pattern, f"{kind} '{name}'", where)
    for family, cues in tax.cues.items():
        for cue in cues:
            # The shipped cues bound every repetition they nest ("(?:\w+\s+){0,3}"); a user's
            # cue may not nest one at all.
            _check_regex(cue, f"cue family '{family}'", where, backtrack=cue not in shipped_cues.get(family, ()))
            if any(re.fullmatch(rf"\b(?:{cue})", word, re.IGNORECASE) for word in _STOP_CUES):
                raise TaxonomyError(
                    f"{where(cue)}: cue family '{family}' has the cue '{cue}', which matches a common word "
                    "on its own and would match almost every sentence."
                )


def _check_regex(pattern: object, owner: str, where, backtrack: bool = True) -> None:
    """Refuse a regex that is not a string, does not compile, matches empty text or (with
    ``backtrack``) repeats a repetition or an alternation."""
    if not isinstance(pattern, str):
        raise TaxonomyError(f"{where(str(pattern))}: {owner} has {pattern!r}, which is not a regular expression.")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise TaxonomyError(f"{where(pattern)}: {owner} has an invalid regex: {exc}.") from None
    if compiled.search("") is not None:
        raise TaxonomyError(f"{where(pattern)}: {owner} has a regex that matches empty text.")
    if backtrack and regex_may_backtrack(pattern):
        raise TaxonomyError(
            f"{where(pattern)}: {owner} has a regex that repeats a repetition or an "
            "alternation, e.g. '(a|aa)+' or '(a+)+', which can take hours on one sentence; "
            "rewrite it without the nesting."
        )


def _shipped_text(name: str = SHIPPED) -> str:
    return resources.files("graph_model").joinpath("data", name).read_text(encoding="utf-8")


def load_taxonomy(extra: str | os.PathLike[str] | None = None) -> Taxonomy:
    """The shipped taxonomy, extended by ``extra`` (or ``$SGRAPH_TAXONOMY``) if given."""
    extra = extra or os.environ.get(ENV_VAR) or None
    return _load_cached(os.path.realpath(extra) if extra else None)  # realpath: a symlink loop is not an exception


@lru_cache(maxsize=8)
def _load_cached(extra: str | None) -> Taxonomy:
    text = _shipped_text()
    texts = {"taxonomy.yaml (shipped)": text}
    data = _parse(_read_yaml(None, text, "taxonomy.yaml (shipped)"), text, "taxonomy.yaml (shipped)")
    cues_text = _shipped_text(SHIPPED_CUES)
    texts["cues.yaml (shipped)"] = cues_text
    data.cues = _parse(_read_yaml(None, cues_text, "cues.yaml (shipped)"), cues_text, "cues.yaml (shipped)").cues
    shipped_cues = {family: list(items) for family, items in data.cues.items()}
    sources = ("shipped",)
    if extra:
        from .safeyaml import read_text_file

        path = Path(extra)
        if not (path.exists() or path.is_symlink()):
            raise TaxonomyError(f"{path}: taxonomy file does not exist.")
        user_text = read_text_file(path, TaxonomyError)
        texts[str(path)] = user_text
        user = _parse(_read_yaml(path, user_text, str(path)), user_text, str(path))
        for family in user.cues:
            if family not in data.cues:
                raise TaxonomyError(
                    f"{path}{_line_of(user_text, family)}: unknown cue family '{family}'; "
                    f"the families are {', '.join(sorted(data.cues))}."
                )
        data = _merge(data, user)
        sources = (*sources, str(path))
    _check(data, texts, shipped_cues)
    return Taxonomy(data, sources)


def iter_canonical(tax: Taxonomy) -> Iterator[tuple[str, str, str]]:
    """(kind, name, detail) rows for listing the taxonomy."""
    for a in tax.agencies.values():
        yield "agency", a.name, a.sector
    for r in tax.roles:
        yield "family role", r, ""
    for t in tax.themes.values():
        yield "theme", t.name, t.description
