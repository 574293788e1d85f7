"""Property-based tests: extraction never raises on arbitrary text, every quote is verbatim,
every edge's endpoints exist, every fact has evidence, and building twice is identical."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_model.build import build_graph, graph_to_data
from graph_model.extract import extract
from graph_model.models import Document
from graph_model.read import detect_sections, normalise
from graph_model.taxonomy import load_taxonomy

TAX = load_taxonomy()

# Words that make the extractor work: agencies, roles, cues, headings, list marks.
VOCAB = [
    "Key learning", "Recommendations", "Summary", "Good practice", "Findings", "Child A", "Child B",
    "All -", "Police -", "the GP", "health visitor", "HV", "CSC", "A&E", "social worker", "school",
    "mother", "father", "stepfather", "baby", "did not share", "referral was made by", "to", "from",
    "between", "and", "no strategy meeting was held", "missed opportunity", "should", "not considered",
    "information", "escalation", "neglect", "<script>alert(1)</script>", "'}) DETACH DELETE n //",
    "\u2022", "\u2013", "1.", "\t", "\n", "\n\n", ".", ",", "?", ":", "(", ")", "é", "\u200b", "\x00",
    # dates, and numbers that are not dates
    "14 th September 2015", "in 2013", "July / August 2015", "summer 2015", "Sept.", "2015", "14/09/2015", "31",
    "between", "early 2016", "Children Act 1989", "2013/14", "-", "/", "Published", "completed", "0300",
]

texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(VOCAB), max_size=80).map(" ".join),
    st.lists(st.sampled_from(VOCAB), max_size=80).map("".join),
)


def _doc(raw: str) -> Document:
    text, offsets = normalise(raw)
    return Document(
        path="p.txt",
        name="p.txt",
        format="txt",
        raw=raw,
        text=text,
        offsets=offsets,
        sections=detect_sections(text),
        sha256=hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest(),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_extraction_never_raises_and_quotes_are_verbatim(raw):
    doc = _doc(raw)
    record = extract(doc, TAX)
    evidence = [e for a in record.agencies for e in a.evidence]
    evidence += [e for f in record.family_members for e in f.evidence]
    evidence += [e for t in record.themes for e in t.evidence]
    for fact in [*record.learning_points, *record.missed_opportunities, *record.communication_links, *record.timeline]:
        assert fact.quote == fact.evidence.quote
        evidence.append(fact.evidence)
    for event in record.timeline:
        assert doc.text[event.date_start : event.date_end] == event.date_text
        assert event.evidence.start <= event.date_start < event.date_end <= event.evidence.end
        assert event.date_from <= event.date_to
    for e in evidence:
        assert doc.text[e.start : e.end] == e.quote
        assert 0 <= e.raw_start <= e.raw_end <= len(doc.raw)
    for a in record.agencies:
        assert a.evidence, a.name
    for link in record.communication_links:
        assert link.source != link.target


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=4))
def test_graph_edges_have_endpoints_and_build_is_deterministic(raws):
    records = []
    for i, raw in enumerate(raws):
        rec = extract(_doc(raw), TAX)
        records.append(rec.model_copy(update={"id": f"R{i}", "source": f"r{i}.txt"}))
    g = build_graph(records, TAX)
    for u, v in g.edges():
        assert u in g and v in g
        assert "label" in g.nodes[u] and "label" in g.nodes[v]
    assert graph_to_data(build_graph(list(reversed(records)), TAX)) == graph_to_data(g)


# Pieces of taxonomy phrases and the characters around them that the fast phrase scan
# (Matcher._find_lower) treats specially: non-ASCII letters and non-letters, "&", "_", DEL.
_PHRASE_BITS = st.sampled_from(
    [p for m in (TAX.agency_matcher, TAX.role_matcher, TAX.theme_matcher) for p in list(m._lookup_ci)[:40]]
    + [" ", "\n", "\t", "é", "\x7f", "&", "_", "-", "'", "\u2019", "(", ".", "a", "1", "\u00a0", "\u017f", "\ud800"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PHRASE_BITS, max_size=12).map("".join), st.sampled_from(["agency", "role", "theme"]))
def test_fast_phrase_scan_finds_what_the_lookbehind_pattern_finds(text, kind):
    matcher = getattr(TAX, f"{kind}_matcher")
    low = text.lower()
    assert matcher._find_lower(low) == [m.span() for m in matcher._ci_lower.finditer(low)]


# Pieces of the learning-point and addressee cues, in several casings, with the characters
# IGNORECASE equates with ASCII letters ("İ", "ı", "ſ", the Kelvin sign) and the ones the
# anchored alternatives care about (brackets, dashes, colons, line breaks at the end).
_CUE_BITS = st.sampled_from(
    [
        "(", ")", ":", "-", "\u2013", "\u2014", " ", "\n", "\t", "all", "ALL", "All", "aLl", "by", "for", "to", "across",
        "agencies", "Professionals", "practitioners", "partner agencies", "staff", "multi-agency", "should", "must",
        "are required to", "ensure", "to ensure", "that", "here is", "the full report", "for more information",
        "click here", "this bulletin is", "no single agency learning", "No multi-agency learning", "learning",
        "LEARNING", "points", "point", "were", "identified", "learnıng", "LEARN\u0130NG", "\u017ftaff", "a\u212aa",
        "\u0131", "\u0130", "\u017f", "x", "é", "below", "following", "themes", ".",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_CUE_BITS, max_size=14).map("".join))
def test_factored_learning_point_filters_equal_the_single_patterns(text):
    from graph_model.extract import cues as x

    assert x.not_a_finding(text) == bool(x.NOT_A_FINDING.search(text))
    assert x.all_addressee(text) == bool(x.ALL_ADDRESSEE.search(text))


@settings(max_examples=1000, deadline=None)
@given(st.lists(_CUE_BITS, max_size=14).map("".join), st.integers(0, 40), st.integers(0, 40))
def test_span_substring_prefilters_never_drop_a_match(text, a, b):
    """The substring tests extraction runs before a pattern (a cue family's required words on
    the lower-cased document, "all" before the learning-for-all pattern) never skip a match."""
    from graph_model.extract import cues as x
    from graph_model.taxonomy import case_plain

    s, e = sorted((min(a, len(text)), min(b, len(text))))
    low = text.lower()
    if len(low) != len(text) or not case_plain(text):
        return  # extraction then does not use the lower-cased document
    for family in x.cues_of(TAX).families.values():
        if family.pattern.search(text, s, e) and family.words is not None:
            assert family.words.search(low, s, e), family.pattern.pattern[:60]
    if x.LEARNING_FOR_ALL.search(text, s, e):
        assert low.find("all", s, e) >= 0


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([" ", "\t", "\n", "\r", "a", "-", "\u00a0", "\u2028"]), max_size=12).map("".join))
def test_normalise_skips_the_space_passes_only_when_they_find_nothing(text):
    from graph_model import read as r

    trailing = " \n" in text or "\t\n" in text or text.endswith((" ", "\t"))
    assert trailing == bool(r._TRAILING_RE.search(text))
    assert ("\n " in text or text.startswith(" ")) == bool(r._LEADING_SPACES_RE.search(text))


# Patterns the lower-cased scan of Matcher.find may take (taxonomy.py:_case_free), and
# pieces of text for them, in several casings and with the characters IGNORECASE treats
# specially.
_CASE_FREE_PATTERNS = [
    r[1].pattern for m in (TAX.agency_matcher, TAX.role_matcher, TAX.theme_matcher) for r in m._regexes if r[4] is not None
] + [r"\b(?:to|by)\s+(?P<m>m[a-z]+al\s+health)\b(?!\s+act)", r"[^a-z\s]{2}k", r"(?<![\w&])s\w*?(?=[-\u2013])", r"(a)\1"]
_CASE_BITS = st.sampled_from(
    ["to", "TO", "By", "mental", "Mental", "MENTAL", "health", "Health", " ", "\n", "\t", "act", "Act", "-", "\u2013",
     "k", "K", "\u212a", "s", "S", "\u017f", "\u0131", "\u0130", "é", "É", "&", "_", "1", "aA", "Aa", "needs", "trust",
     ",", "with", "and", "were", "\u00df", "\u03a3", "\u03c3"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_CASE_BITS, max_size=16).map("".join), st.sampled_from(_CASE_FREE_PATTERNS))
def test_case_free_pattern_on_lower_text_finds_what_ignorecase_finds(text, pattern):
    import re

    from graph_model.taxonomy import _case_free

    assert _case_free(pattern)
    low = text.lower()
    if len(low) != len(text) or "\u0131" in text or "\u017f" in text:
        return  # Matcher.find scans the original text then
    slow = [m.span(0) for m in re.compile(pattern, re.I).finditer(text)]
    assert [m.span(0) for m in re.compile(pattern).finditer(low)] == slow


def test_case_free_refuses_what_it_cannot_vouch_for():
    from graph_model.taxonomy import _case_free

    for pattern in [r"\b[A-Z]{1,4}SC[BP]\b", "Police", "(?-i:ab)", "\u212a", "[!-~]", "caf\u00e9", "(?x)a b"]:
        assert not _case_free(pattern), pattern


_TWIN_BITS = st.sampled_from(
    [*VOCAB, "Missed Opportunity", "NOT SHARED", "did not", "Didn\u2019t", "failed to", "Lack of", "over-reliance",
     "There was no", "no plan", "Should Have", "However", "but it was", "Informed", "REFERRED", "liaised with",
     "Worked Well", "All agencies", "Professionals should", "here is", "Practitioner", "\u212a", "\u0131", "\u017f",
     "\u0130", "\u03a3", "\u00df", " ", "\n"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_TWIN_BITS, max_size=20).map(" ".join), st.integers(0, 300), st.integers(0, 300))
def test_lower_case_twins_find_what_the_cue_patterns_find(text, a, b):
    """The lower-case twins of the cue families: on the lower-cased text, with or without
    bounds, and on a slice of it, the same spans as the case-insensitive patterns on the text."""
    from graph_model.extract import cues as x
    from graph_model.taxonomy import case_plain

    low = text.lower()
    if len(low) != len(text) or not case_plain(text):
        return  # extraction then uses the original patterns
    s, e = sorted((min(a, len(text)), min(b, len(text))))
    compiled = x.cues_of(TAX)
    for cue in [*compiled.families.values(), compiled.broken]:
        assert cue.twin is not None, cue.pattern.pattern[:60]  # the shipped cues are all lower case
        slow, fast = cue.pattern, cue.twin
        assert [m.span() for m in fast.finditer(low, s, e)] == [m.span() for m in slow.finditer(text, s, e)]
        assert [m.span() for m in fast.finditer(low[s:e])] == [m.span() for m in slow.finditer(text[s:e])]
        found = cue.search(text, low, s, e)
        assert (found and found.span()) == ((m := slow.search(text, s, e)) and m.span())
    for slow, fast in [(x.NAF_HEAD, x.NAF_HEAD_L), (x.ALL_HEAD, x.ALL_HEAD_L)]:
        m1, m2 = slow.match(text[s:e]), fast.match(low[s:e])
        assert (m1 and m1.span()) == (m2 and m2.span())
    assert x.not_a_finding(text[s:e], low[s:e]) == bool(x.NOT_A_FINDING.search(text[s:e]))
    assert x.all_addressee(text[s:e], low[s:e]) == bool(x.ALL_ADDRESSEE.search(text[s:e]))


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(["\u2022", "\u25cf", "\u25aa", "\u00b7", "\u2013", "\u2014", "-", " ", "\t", "\n", "\u00a0",
                              "A", "a", "(", "'", "\u2018", '"']), max_size=14).map("".join),
    st.integers(0, 14), st.integers(0, 14),
)
def test_inline_list_prefilter_never_skips_a_mark(text, a, b):
    from graph_model.extract import layer as x

    s, e = sorted((min(a, len(text)), min(b, len(text))))
    if x._INLINE_BULLET.search(text, s, e):
        assert x._LIST_MARK_SPACE.search(text, s, e)
