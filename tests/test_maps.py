"""Maps and the board pack (graph_model.maps, `sgraph map`, `sgraph report`) without a browser.

The browser checks (drawing, clicking, filters, hostile text not running) are in
tests/test_maps_browser.py. Here: the data each map carries, the counts for the seed
documents, determinism, self-containment, escaping, and the board pack's files and refusals.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import networkx as nx
import pytest

from graph_model import maps
from graph_model.build import build_graph
from graph_model.commands import main
from graph_model.errors import OutputError, UsageError
from graph_model.models import (
    AgencyRef,
    CaseRef,
    CommunicationLink,
    Evidence,
    FamilyMemberRef,
    LearningPoint,
    MissedOpportunity,
    ReviewRecord,
    ThemeRef,
    TimelineEvent,
)
from graph_model.pipeline import build

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CHILD_X = "Child X"

HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_LINK = '<a href="javascript:window.__pwned=1">read more</a>'
HOSTILE_QUOTE = f"GP did not tell CSC {HOSTILE_IMG} \"double\" 'single' & {HOSTILE_LINK} </script><!-- \u2028 end"


# --------------------------------------------------------------------------- helpers


def ev(quote: str, section: str = "findings") -> Evidence:
    return Evidence(quote=quote, start=0, end=len(quote), section=section, raw_start=0, raw_end=len(quote))


def record(
    rid: str,
    *,
    title: str | None = None,
    year: int | None = 2020,
    source: str | None = None,
    agencies: tuple[str, ...] = (),
    links: tuple[tuple[str, str, str, str], ...] = (),
    themes: tuple[str, ...] = (),
    learning: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (),
    missed: tuple[tuple[str, tuple[str, ...]], ...] = (),
    family: tuple[str, ...] = (),
    cases: tuple[str, ...] = (),
    events: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (),
) -> ReviewRecord:
    """A ReviewRecord; links are (source, target, status, quote); learning is (text, themes, agencies);
    events are (date text, date from, date to, event text, agencies)."""
    involved = sorted(set(agencies) | {a for s, t, _st, _q in links for a in (s, t)})
    return ReviewRecord(
        id=rid,
        title=title or f"Review {rid}",
        board="Test Board",
        review_type="SCR",
        year=year,
        source=source or f"{rid}.txt",
        sha256="0" * 64,
        text_length=1000,
        cases=[CaseRef(name=c, evidence=[ev(c)]) for c in cases],
        agencies=[AgencyRef(name=a, sector="", evidence=[ev(f"{a} was involved.")]) for a in involved],
        family_members=[FamilyMemberRef(role=r, evidence=[ev(f"the {r}")]) for r in family],
        themes=[ThemeRef(name=t, evidence=[ev(f"about {t}")]) for t in themes],
        learning_points=[
            LearningPoint(id=f"{rid}/lp{i:03d}", text=text, kind="key_learning", themes=list(ts), agencies=list(ags),
                          quote=text, evidence=ev(text, "key_learning"))
            for i, (text, ts, ags) in enumerate(learning, 1)
        ],
        missed_opportunities=[
            MissedOpportunity(id=f"{rid}/mo{i:03d}", text=text, quote=text, agencies=list(ags), family_members=list(family[:1]),
                              themes=list(themes[:1]), evidence=ev(text))
            for i, (text, ags) in enumerate(missed, 1)
        ],
        communication_links=[
            CommunicationLink(id=f"{rid}/link{i:03d}", source=s, target=t, status=st, directed=True, quote=q, evidence=ev(q))
            for i, (s, t, st, q) in enumerate(links, 1)
        ],
        timeline=[
            TimelineEvent(id=f"{rid}/ev{i:03d}", date_text=dtext, date_start=0, date_end=len(dtext), date_from=lo, date_to=hi,
                          precision="day" if lo == hi else "month", text=text, quote=text, agencies=list(ags),
                          family_members=[], evidence=ev(text, "summary"))
            for i, (dtext, lo, hi, text, ags) in enumerate(events, 1)
        ],
    )


def map_data(page: str) -> dict:
    """The map's data, with the texts and quotes shared in "strings" put back as map.js does."""
    m = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page, re.S)
    assert m, "the map data block is missing"
    data = json.loads(m.group(1))
    for d in data["details"].values():
        for lst in d.get("lists", []):
            for item in lst["items"]:
                for key in ("text", "quote"):
                    if isinstance(item.get(key), int):
                        item[key] = data["strings"][item[key]]
    return data


def _unpack(path: Path, call: str) -> str:
    """The JSON a pack data file (``call("<base64 of gzip>");``) carries."""
    import base64
    import gzip

    m = re.fullmatch(call + r'\("([A-Za-z0-9+/=]*)"\);\n', path.read_text(encoding="ascii"))
    assert m, f"{path} is not a {call} data file"
    return gzip.decompress(base64.b64decode(m.group(1))).decode("utf-8")


def pack_review(pack: Path, slug: str) -> str:
    """A review page of the pack, as the shared reviews/review.html shows it: the static page."""
    doc = json.loads(_unpack(pack / "reviews" / maps.REVIEW_DATA_DIR / f"{slug}.js", "sgReviewPage"))
    return maps._page(doc["title"], doc["body"], 1)


def pack_review_map(pack: Path, slug: str) -> dict:
    """A review map's data in the pack (maps/data/<slug>.js)."""
    return json.loads(_unpack(pack / "maps" / maps.REVIEW_DATA_DIR / f"{slug}.js", "sgReviewData"))


def edge_ends(data: dict) -> set[tuple[str, str, str]]:
    return {(e["from"], e["to"], e["f"]["status"][0]) for e in data["edges"]}


@pytest.fixture(scope="module")
def seed_workspace(tmp_path_factory):
    home = tmp_path_factory.mktemp("ws")
    return home, build([SEEDS], home=home, embedded=False).graph


@pytest.fixture(scope="module")
def seed_graph(seed_workspace):
    return seed_workspace[1]


@pytest.fixture(scope="module")
def small_graph():
    return build_graph([
        record("R1", year=2019, links=(("GP", "Children's Social Care", "broken", "GP did not refer to CSC."),
                                       ("Police", "Children's Social Care", "effective", "Police referred to CSC.")),
               themes=("Information sharing",),
               learning=(("Share information.", ("Information sharing",), ("GP", "Police")),),
               missed=(("GP missed the bruise.", ("GP",)),), family=("mother",), cases=("Child A",)),
        record("R2", year=2021, links=(("Children's Social Care", "GP", "broken", "CSC did not tell the GP."),),
               themes=("Information sharing", "Domestic abuse")),
    ])


@pytest.fixture(scope="module")
def hostile_graph():
    evil_agency = f"Agency {HOSTILE_IMG}"
    return build_graph([
        record(
            f"H1 {HOSTILE_SCRIPT}",
            title=f"Review {HOSTILE_SCRIPT} \"quoted\" & 'single'",
            source='evil"><script>window.__pwned=1</script>.txt',
            links=(("GP", "Children's Social Care", "broken", HOSTILE_QUOTE),
                   ("GP", evil_agency, "broken", f"{HOSTILE_SCRIPT} javascript:window.__pwned=1")),
            themes=("Information sharing", f"Theme {HOSTILE_IMG}"),
            learning=((f"Learning {HOSTILE_LINK}", ("Information sharing",), ("GP", evil_agency)),),
            missed=((f"Missed {HOSTILE_IMG}", ("GP",)),),
            family=(f"mother {HOSTILE_SCRIPT}",),
            events=((f"May 2020 {HOSTILE_IMG}", "2020-05-01", "2020-05-31", f"Event {HOSTILE_SCRIPT} in May 2020", ("GP",)),),
        ),
        record("H2", links=(("GP", "Children's Social Care", "broken", "Second review, same broken link."),),
               themes=("Information sharing",)),
    ])


# --------------------------------------------------------------------------- agency map


def test_agency_map_aggregates_links_per_pair_and_status(small_graph):
    data = map_data(maps.agency_map_html(small_graph))
    assert sorted(n["id"] for n in data["nodes"]) == ["Agency:Children's Social Care", "Agency:GP", "Agency:Police"]
    # R1's GP→CSC and R2's CSC→GP are one broken line; Police→CSC one effective line.
    assert edge_ends(data) == {
        ("Agency:Children's Social Care", "Agency:GP", "broken"),
        ("Agency:Children's Social Care", "Agency:Police", "effective"),
    }
    broken = next(e for e in data["edges"] if e["f"]["status"] == ["broken"])
    assert broken["color"] == maps.BROKEN and sum(broken["subn"]) == 2
    effective = next(e for e in data["edges"] if e["f"]["status"] == ["effective"])
    assert effective["color"] == maps.EFFECTIVE and effective["dashes"]
    assert broken["width"] > effective["width"]
    # Clicking the broken line lists both reviews (with title and year) and both quotes, newest first.
    detail = data["details"][broken["id"]]
    items = detail["lists"][0]["items"]
    assert [(i["review"], i["quote"]) for i in items] == [("R2", "CSC did not tell the GP."), ("R1", "GP did not refer to CSC.")]
    assert "note" not in detail["lists"][0]  # nothing left out
    assert data["reviews"]["R1"] == {"title": "Review R1", "year": "2019", "source": "R1.txt", "board": "Test Board", "type": "SCR"}
    assert data["reviews"]["R2"]["year"] == "2021"
    # No vis-network "title" pop-ups anywhere (they render HTML).
    assert all("title" not in item for item in data["nodes"] + data["edges"])
    # Filters offered: link status, sector, year, review, theme, and "at least N links" (here
    # showing everything, as two lines are well under the budget).
    assert [f["key"] for f in data["filters"]] == ["status", "sector", "year", "review", "theme", "min"]
    assert data["filters"][-1]["default"] == "1" and [o[0] for o in data["filters"][-1]["options"]] == ["1", "2"]
    # The border grades the share of an agency's links that broke: CSC 2 of 3, GP 2 of 2, Police none.
    border = {n["id"]: n["borderWidth"] for n in data["nodes"]}
    assert border["Agency:Police"] == 1 < border["Agency:Children's Social Care"] < border["Agency:GP"]
    # Direction: GP→CSC (R1) and CSC→GP (R2) give heads at both ends of the one line; Police→CSC one.
    assert broken["from"] == "Agency:Children's Social Care" and broken["to"] == "Agency:GP"
    assert broken["arrows"]["to"]["enabled"] and broken["arrows"]["from"]["enabled"]
    assert effective["from"] == "Agency:Children's Social Care" and effective["to"] == "Agency:Police"
    assert not effective["arrows"]["to"]["enabled"] and effective["arrows"]["from"]["enabled"]


def test_seed_agency_map_counts(seed_graph):
    """The five seeds: 14 agencies (the Coroner among them); five lines, one per pair (four with a broken link), from six links."""
    data = map_data(maps.agency_map_html(seed_graph))
    assert len(data["nodes"]) == 14
    assert edge_ends(data) == {
        ("Agency:Adult Mental Health", "Agency:Health Visiting", "broken"),
        ("Agency:Adult Mental Health", "Agency:Adult Social Care", "broken"),
        ("Agency:Children's Social Care", "Agency:GP", "broken"),
        ("Agency:Adult Mental Health", "Agency:Hospital and Paediatrics", "broken"),
        ("Agency:Children's Social Care", "Agency:Police", "effective"),
    }
    assert sum(sum(e.get("subn", [])) + sum(e.get("esubn", [])) for e in data["edges"]) == 6
    # GP–CSC has a broken and an effective link: one straight line with both counts, not two curves.
    (gp,) = [e for e in data["edges"] if e["to"] == "Agency:GP"]
    assert gp["f"]["status"] == ["broken", "effective"] and gp["subn"] == [1] and gp["esubn"] == [1]
    assert not any(e.get("smooth") for e in data["edges"])
    # Arrows: GP → CSC broken (the head at CSC, the line's "from" end); AMH–ASC has no direction.
    assert gp["arrows"]["from"]["enabled"] and not gp["arrows"]["to"]["enabled"]
    (asc,) = [e for e in data["edges"] if e["to"] == "Agency:Adult Social Care"]
    assert not asc["arrows"]["from"]["enabled"] and not asc["arrows"]["to"]["enabled"]


def test_seed_review_and_theme_maps(seed_graph):
    review = map_data(maps.review_map_html(seed_graph, CHILD_X))
    links = [e for e in review["edges"] if "status" in e.get("f", {})]
    assert sorted(e["f"]["status"][0] for e in links) == ["broken", "broken", "broken", "broken", "effective"]
    labels = {n["id"].split(":", 1)[0] for n in review["nodes"]}
    assert labels == {"Review", "Agency", "FamilyMember", "MissedOpportunity", "Theme"}
    assert review["reviews"][CHILD_X]["source"] == "004_cd261efeb7acd646.txt"

    themes = map_data(maps.theme_map_html(seed_graph))
    theme_nodes = [n for n in themes["nodes"] if n["id"].startswith("Theme:")]
    assert len(theme_nodes) == 27
    assert sum(1 for n in theme_nodes if n["f"]["recurrence"] == ["recurring"]) == 20
    assert sum(1 for n in themes["nodes"] if n["id"].startswith("Review:")) == 5  # under the cap: drawn
    label = {n["id"]: n["label"] for n in theme_nodes}
    assert label["Theme:Information sharing"] == "Information sharing (5)"


def test_review_page_and_map_show_the_timeline(seed_graph, tmp_path):
    pack = maps.write_report(seed_graph, tmp_path / "pack")
    page = pack_review(pack, "Child-X")
    assert '<h2 id="timeline">Timeline (6)</h2>' in page
    # Agencies and their links first, then the timeline.
    assert page.index("<h2>Agencies involved") < page.index("<h2>Communication between agencies") < page.index('id="timeline"')
    items = re.findall(r'<li><span class="when">(.*?)</span> <span class="range">(.*?)</span><div class="event">(.*?)</div>',
                       re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1))
    # The Child X learning summary's dated events, in date order, the review's words escaped.
    assert [(html.unescape(w), html.unescape(r), html.unescape(e)) for w, r, e in items] == [
        ("January 2014", "2014-01-01 to 2014-01-31 \u00b7 month",
         "Health Visitor did assess mother's mental health in January 2014, but it is not clear what assessment tool was used."),
        ("summer 2015", "2015-06-01 to 2015-08-31 \u00b7 season", "Various incidents over the course of summer 2015"),
        ("July / August 2015", "2015-07-01 to 2015-08-31 \u00b7 range",
         "No Strategy Meetings undertaken (in July / August 2015) to share information in a multi-agency arena."),
        ("September 2015", "2015-09-01 to 2015-09-30 \u00b7 month",
         "Supervision not undertaken within relevant agencies to discuss the case and to unpick concerns until after the "
         "incident of concern (September 2015)."),
        ("September 2015", "2015-09-01 to 2015-09-30 \u00b7 month",
         "Mother's presentation to A&E for Child X's incident in September 2015 was not in keeping with previous "
         "proportionate presentations."),
        ("14 th September 2015", "2015-09-14 \u00b7 day", "Section 47 on 14 th September 2015 led to the Review."),
    ]
    assert "Mother&#x27;s presentation to A&amp;E" in page
    assert '<p class="note">Agencies: <a href="../agencies/Emergency-Department.html">Emergency Department</a></p>' in page
    none = pack_review(pack, "002-2b128cb0abd04d34")
    assert '<h2 id="timeline">Timeline (3)</h2>' in none

    review = map_data(maps.review_map_html(seed_graph, CHILD_X))
    lists = review["details"]["Review:Child X"]["lists"]
    assert lists[0]["heading"] == "Timeline (6)"
    assert [i["title"] for i in lists[0]["items"]] == [
        "January 2014 (2014-01-01 to 2014-01-31)", "summer 2015 (2015-06-01 to 2015-08-31)",
        "July / August 2015 (2015-07-01 to 2015-08-31)", "September 2015 (2015-09-01 to 2015-09-30)",
        "September 2015 (2015-09-01 to 2015-09-30)", "14 th September 2015 (2015-09-14)",
    ]
    assert lists[0]["items"][0]["note"] == "agencies: Health Visiting \u00b7 section: good_practice"
    assert lists[0]["items"][5]["quote"] == "Section 47 on 14 th September 2015 led to the Review."


def test_a_review_without_dates_says_so(small_graph, tmp_path):
    pack = maps.write_report(small_graph, tmp_path / "pack")
    page = pack_review(pack, "R1")
    assert '<h2 id="timeline">Timeline (0)</h2><p class="none">The review gives no dates for events.</p>' in page


def test_theme_map_aggregates_above_the_review_cap():
    records = [record(f"R{i:03d}", themes=("Information sharing",) + (("Domestic abuse",) if i % 2 else ()),
                      learning=((f"Learning {i}", ("Information sharing",), ("GP",)),)) for i in range(maps.REVIEW_NODE_CAP + 5)]
    data = map_data(maps.theme_map_html(build_graph(records)))
    assert not [n for n in data["nodes"] if n["id"].startswith("Review:")]
    label = {n["id"]: n["label"] for n in data["nodes"]}
    n = maps.REVIEW_NODE_CAP + 5
    assert label["Theme:Information sharing"] == f"Information sharing ({n})"
    assert label["Theme:Domestic abuse"] == f"Domestic abuse ({n // 2})"
    assert "review" not in [f["key"] for f in data["filters"]]
    info = data["details"]["Theme:Information sharing"]
    assert info["lists"][0]["heading"] == f"Reviews raising it ({n})"
    # The theme→agency line is one line whatever the number of reviews, its list capped. Without
    # review nodes the filters cannot tell reviews of one year apart: they share one row of "rf".
    line = next(e for e in data["edges"] if e["to"] == "Agency:GP")
    assert sum(line["subn"]) == n and line["subr"] == [0] and len(data["rf"]) == 1
    assert len(data["details"][line["id"]]["lists"][0]["items"]) == maps.THEME_LINE_CAP


def test_agency_map_shows_the_busiest_pairs_first_when_there_are_many():
    """Pair i (of 100) has i links: the default "at least" keeps at most the line budget on screen."""
    agencies = ["GP", "Police", "Schools", "Health Visiting", "Children's Social Care", "Housing", "CAMHS",
                "Probation", "Midwifery", "Emergency Department", "Adult Social Care", "Youth Justice", "Cafcass",
                "School Nursing", "Ambulance Service"]
    pairs = [(a, b) for i, a in enumerate(agencies) for b in agencies[i + 1:]][:100]
    records = []
    for k in range(1, 101):  # review k links pairs k-1..99
        links = tuple((a, b, "broken", f"{a} did not tell {b} ({k}).") for a, b in pairs[k - 1:])
        records.append(record(f"R{k:03d}", links=links))
    data = map_data(maps.agency_map_html(build_graph(records)))
    assert len(data["edges"]) == 100
    spec = next(f for f in data["filters"] if f["key"] == "min")
    default = int(spec["default"])
    shown = [e for e in data["edges"] if sum(e["subn"]) >= default]
    assert 0 < len(shown) <= maps.AGENCY_LINE_BUDGET
    thresholds = [int(o[0]) for o in spec["options"]]
    lower = thresholds[thresholds.index(default) - 1]  # the next lower threshold shows too many
    assert len([e for e in data["edges"] if sum(e["subn"]) >= lower]) > maps.AGENCY_LINE_BUDGET
    # The heaviest line is the widest.
    widest = max(data["edges"], key=lambda e: e["width"])
    assert sum(widest["subn"]) == 100


def test_review_map_of_an_unknown_review_is_a_usage_error(small_graph):
    with pytest.raises(UsageError, match="There is no review 'nope'"):
        maps.review_map_html(small_graph, "nope")


# --------------------------------------------------------------------------- caps at scale

BIG_REVIEWS = 25  # more than THEME_REVIEW_CAP, and 125 broken GP–CSC links: more than AGENCY_PAGE_CAP
BIG_LINKS = 5


def big_records() -> list[ReviewRecord]:
    """25 reviews (years 2010-2014), each with five broken GP–CSC links, learning on one theme
    for the GP, a missed opportunity; review R03 alone has an effective Police–Schools link."""
    out = []
    for i in range(1, BIG_REVIEWS + 1):
        rid = f"R{i:02d}"
        links = tuple(("GP", "Children's Social Care", "broken", f"{rid}: the GP did not tell CSC (link {k}).")
                      for k in range(1, BIG_LINKS + 1))
        if i == 3:
            links += (("Police", "Schools", "effective", "R03: the police told the school."),)
        out.append(record(
            rid, year=2010 + i % 5, links=links, themes=("Information sharing",),
            learning=(("Every agency should share information about the family promptly and record it.",
                       ("Information sharing",), ("GP",)),
                      (f"{rid}: the GP should share information with children's social care.", ("Information sharing",), ("GP",))),
            missed=((f"{rid}: the GP missed a chance to refer.", ("GP",)),),
        ))
    return out


@pytest.fixture(scope="module")
def big_graph():
    return build_graph(big_records())


def newest(rids: list[str]) -> list[str]:
    """Review ids of big_records, newest year first, then by id."""
    return sorted(rids, key=lambda r: (-(2010 + int(r[1:]) % 5), r))


def test_agency_map_carries_a_few_quotes_per_line_with_the_counts(big_graph):
    data = map_data(maps.agency_map_html(big_graph))
    total = BIG_REVIEWS * BIG_LINKS
    line = next(e for e in data["edges"] if e["f"]["status"] == ["broken"])
    assert sum(line["subn"]) == total and len(line["subn"]) == BIG_REVIEWS  # every link still counts
    detail = data["details"][line["id"]]
    facts = dict(detail["facts"])
    assert facts["Broken links"] == f"{total:,} (100% of the pair's links)"
    assert facts["Reviews with a broken link"] == f"{BIG_REVIEWS}" and facts["Effective links"] == "0"
    evidence = detail["lists"][0]
    assert evidence["heading"] == f"Broken links: evidence ({total})"
    assert len(evidence["items"]) == maps.LINE_QUOTE_CAP
    # The newest reviews first, one link from each (its first by link id) before a second from any.
    top = newest([f"R{i:02d}" for i in range(1, BIG_REVIEWS + 1)])[:maps.LINE_QUOTE_CAP]
    assert [i["review"] for i in evidence["items"]] == top
    assert [i["quote"] for i in evidence["items"]] == [f"{r}: the GP did not tell CSC (link 1)." for r in top]
    assert evidence["note"].startswith(f"Showing {maps.LINE_QUOTE_CAP} of {total} \u2014 the newest reviews first")
    assert 'sgraph export agency "' in evidence["note"] and "board pack" in evidence["note"]
    # Only the reviews whose words are shown are described (the filters have them all).
    assert set(data["reviews"]) == set(newest([f"R{i:02d}" for i in range(1, BIG_REVIEWS + 1)])[:maps.PANEL_LIST_CAP]) | {"R03"}
    # The small effective line keeps its only quote, with no note.
    small = next(e for e in data["edges"] if e["f"]["status"] == ["effective"])
    assert [i["quote"] for i in data["details"][small["id"]]["lists"][0]["items"]] == ["R03: the police told the school."]
    assert "note" not in data["details"][small["id"]]["lists"][0]
    # An agency's lists are capped too, with the counts in the heading.
    gp = data["details"]["Agency:GP"]
    links, involved = gp["lists"]
    assert links["heading"] == f"Communication links ({total})" and len(links["items"]) == maps.PANEL_LIST_CAP
    assert links["note"].startswith(f"Showing {maps.PANEL_LIST_CAP} of {total}")
    assert involved["heading"] == f"Reviews involving this agency ({BIG_REVIEWS})"
    assert [i["review"] for i in involved["items"]] == newest([f"R{i:02d}" for i in range(1, BIG_REVIEWS + 1)])[:maps.PANEL_LIST_CAP]


def test_agency_map_quotes_take_turns_between_reviews():
    """Two reviews of four links each: the five quoted are 3 + 2, the newer review first."""
    records = [record(rid, year=year, links=tuple(("GP", "Police", "broken", f"{rid} link {k}.") for k in range(1, 5)))
               for rid, year in (("OLD", 2015), ("NEW", 2021))]
    data = map_data(maps.agency_map_html(build_graph(records)))
    (line,) = data["edges"]
    evidence = data["details"][line["id"]]["lists"][0]
    assert [i["quote"] for i in evidence["items"]] == ["NEW link 1.", "NEW link 2.", "NEW link 3.", "OLD link 1.", "OLD link 2."]
    assert evidence["note"].startswith("Showing 5 of 8 \u2014 the newest reviews first, one link from each")


def test_theme_map_carries_a_few_items_per_theme_and_line(big_graph):
    data = map_data(maps.theme_map_html(big_graph))
    theme = data["details"]["Theme:Information sharing"]["lists"][0]
    assert theme["heading"] == f"Reviews raising it ({BIG_REVIEWS})" and len(theme["items"]) == maps.THEME_REVIEW_CAP
    assert theme["note"].startswith(f"Showing {maps.THEME_REVIEW_CAP} of {BIG_REVIEWS}")
    line = next(e for e in data["edges"] if e["to"] == "Agency:GP")
    listed = data["details"][line["id"]]["lists"][0]
    n_lps = 2 * BIG_REVIEWS
    assert listed["heading"] == f"Learning ({n_lps})" and len(listed["items"]) == maps.THEME_LINE_CAP
    assert listed["note"].startswith(f"Showing {maps.THEME_LINE_CAP} of {n_lps}")
    assert len({i["review"] for i in listed["items"]}) == maps.THEME_LINE_CAP  # one point from each review
    assert sum(line["subn"]) == n_lps
    # The learning every review repeats is stored once and put back for each item.
    page = maps.theme_map_html(big_graph)
    assert page.count("Every agency should share information about the family promptly") == 1
    assert sum(1 for i in listed["items"] if i["quote"].startswith("Every agency should share")) >= 2


def test_board_pack_agency_pages_are_capped(big_graph, tmp_path):
    pack = maps.write_report(big_graph, tmp_path / "pack")
    gp = (pack / "agencies" / "GP.html").read_text(encoding="utf-8")
    total = BIG_REVIEWS * BIG_LINKS
    assert f"Broken links ({total})" in gp
    assert (f'Broken links ({total})</h3><p class="note">Showing the {maps.AGENCY_PAGE_CAP} newest of {total} broken links; '
            "every one, with its source: <code>sgraph export agency &quot;GP&quot;</code>.</p>") in gp
    broken_table = gp.split(f"Broken links ({total})")[1].split("</table>")[0]
    assert broken_table.count("<tr>") == maps.AGENCY_PAGE_CAP + 1  # the head row and the capped rows
    # Counts per other agency cover every link.
    assert re.search(r"Children&#x27;s Social Care</a></td><td>125</td><td>0</td><td>25</td>", gp)
    # Smaller sections are whole and say nothing about a cap.
    assert f"Reviews involving GP ({BIG_REVIEWS})" in gp and "newest of 25 reviews" not in gp
    # Every review still has its map; the maps share one copy of the scripts.
    assert len(list((pack / "maps" / "data").glob("*.js"))) == BIG_REVIEWS
    assert pack_review_map(pack, "R03")["page"]["title"] == "Review R03 (2013)"
    assert sorted(p.name for p in (pack / "assets").iterdir()) == ["map.css", "map.js", "pack.js", "report.css", "review-loader.js",
                                                                  "review-page.js", "vis-network.min.js"]
    for page in (pack / "maps").glob("*.html"):
        assert page.stat().st_size < 200_000
        assert_self_contained(page.read_text(encoding="utf-8"), shared_scripts=True, review_map=page.name == "review.html")


def test_empty_graph_still_gives_maps():
    g = nx.MultiDiGraph()
    assert map_data(maps.agency_map_html(g))["nodes"] == []
    assert map_data(maps.theme_map_html(g))["edges"] == []


# --------------------------------------------------------------------------- page properties


def test_maps_are_deterministic(tmp_path):
    """Building the graph twice from the documents gives byte-identical maps and packs."""
    pages = []
    for run in ("a", "b"):
        g = build([SEEDS], home=tmp_path / run, embedded=False).graph
        pack = maps.write_report(g, tmp_path / f"pack-{run}")
        files = {p.relative_to(pack).as_posix(): p.read_bytes() for p in sorted(pack.rglob("*")) if p.is_file()}
        pages.append((maps.agency_map_html(g), maps.theme_map_html(g), maps.review_map_html(g, CHILD_X), files))
    assert pages[0] == pages[1]


REMOTE = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
REMOTE_CSS = re.compile(r"""(?:url\(\s*["']?\s*(?:https?:)?//|@import)""", re.I)


PACK_SCRIPTS = ['<script src="../assets/vis-network.min.js"></script>', '<script src="../assets/map.js"></script>']
PACK_STYLES = ['<link rel="stylesheet" href="../assets/map.css">']


def assert_self_contained(page: str, shared_scripts: bool = False, pack_page: str | None = None,
                          review_map: bool = False) -> None:
    """Nothing from other hosts; with ``shared_scripts`` (a map in the board pack) exactly the
    pack's two shared script files and style sheet, by relative URL, and a CSP that allows only
    script files; with ``pack_page`` (a page of the pack: its root, "" or "../") only the pack's
    pack.js, by relative URL, and the same CSP."""
    assert not REMOTE.search(page), REMOTE.search(page).group(0)
    assert not REMOTE_CSS.search(page)
    links = PACK_STYLES if shared_scripts else [f'<link rel="stylesheet" href="{pack_page}assets/report.css">'] if pack_page is not None else []
    assert re.findall(r"<link[^>]*>", page, re.I) == links
    assert "bootstrap" not in page.lower()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert csp and "default-src 'none'" in html.unescape(csp.group(1))
    if shared_scripts or pack_page is not None:
        scripts = PACK_SCRIPTS if shared_scripts else [f'<script src="{pack_page}assets/pack.js"></script>']
        if review_map:  # the pack's shared review-map page: its loader fetches the data, then map.js
            scripts = [PACK_SCRIPTS[0], '<script src="../assets/review-loader.js"></script>']
        elif pack_page is not None and "review-body" in page:  # the pack's shared review page
            scripts = scripts + ['<script src="../assets/review-page.js"></script>']
        assert re.findall(r"<script[^>]*\ssrc\s*=[^>]*></script>", page, re.I) == scripts
        assert f"script-src {maps.PACK_SCRIPT_SRC};" in html.unescape(csp.group(1))
        assert "'unsafe-inline'" not in html.unescape(csp.group(1)).split("script-src")[1].split(";")[0]
    else:
        assert re.search(r"<script[^>]*\ssrc\s*=", page, re.I) is None


def test_maps_and_pack_load_nothing_from_other_hosts(seed_graph, tmp_path):
    for page in (maps.agency_map_html(seed_graph), maps.theme_map_html(seed_graph), maps.review_map_html(seed_graph, CHILD_X)):
        assert_self_contained(page)
        assert "vis.Network" in page and "vis-network" in page  # vis-network is inlined, not fetched
        assert page.count("</script>") == 3  # the data block, vis-network, map.js
    pack = maps.write_report(seed_graph, tmp_path / "pack")
    for path in pack.rglob("*.html"):
        page = path.read_text(encoding="utf-8")
        is_map = path.parent.name == "maps"
        assert_self_contained(page, shared_scripts=is_map, pack_page=None if is_map else "" if path.parent == pack else "../",
                              review_map=is_map and path.name == "review.html")
        if path.parent.name == "maps":
            assert page.count("</script>") == 3  # the data block and the two shared files
            assert "vis.Network" not in page
    # The shared files are the very scripts a self-contained map inlines.
    alone = maps.agency_map_html(seed_graph)
    for name in ("vis-network.min.js", "map.js"):
        script = (pack / "assets" / name).read_text(encoding="utf-8")
        assert f"<script>{script}</script>" in alone
    styles = re.findall(r"<style>(.*?)</style>", alone, re.S)
    assert (pack / "assets" / "map.css").read_text(encoding="utf-8") == "\n".join(styles)


def test_script_json_escapes_what_could_end_the_block():
    text = maps._script_json({"q": "</script><!-- & \u2028\u2029 >"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"q": "</script><!-- & \u2028\u2029 >"}


def test_hostile_text_is_inert_in_maps(hostile_graph):
    rid = f"H1 {HOSTILE_SCRIPT}"
    for page in (maps.agency_map_html(hostile_graph), maps.theme_map_html(hostile_graph), maps.review_map_html(hostile_graph, rid)):
        lowered = page.lower()
        assert "window.__pwned" in page  # the text is there (in the JSON, escaped) ...
        assert "<script>window.__pwned" not in lowered  # ... but never as markup
        assert "<img src=x" not in lowered and 'href="javascript:' not in lowered
        assert lowered.count("</script>") == 3
        data = map_data(page)
        assert all("title" not in item for item in data["nodes"] + data["edges"])
        # The strings survive intact, to be shown literally by textContent.
        quotes = [i.get("quote") for d in data["details"].values() for lst in d.get("lists", []) for i in lst["items"]]
        if data["kind"] != "themes":
            assert HOSTILE_QUOTE in quotes


def test_hostile_text_is_escaped_in_the_pack(hostile_graph, tmp_path):
    pack = maps.write_report(hostile_graph, tmp_path / "pack")
    names = sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())
    assert all(re.fullmatch(r"[A-Za-z0-9_./-]+", n) for n in names), names  # hostile ids never reach a file name
    for path in pack.rglob("*.html"):
        page = path.read_text(encoding="utf-8")
        low = page.lower()
        assert "<script>window.__pwned" not in low and "<img src=x" not in low and 'href="javascript:' not in low
        if path.parent.name in ("reviews", "agencies") or path.name == "index.html":
            # The pages run only the pack's own pack.js (sortable tables), and the review page its loader.
            assert re.findall(r"<script[^>]*>", low) == [f'<script src="{"" if path.parent == pack else "../"}assets/pack.js">'] + (
                ['<script src="../assets/review-page.js">'] if path.parent.name == "reviews" else [])
    # The reviews' data files are inert: one base64 string each.
    for path in pack.rglob("*.js"):
        if path.parent.name == "data":
            assert re.fullmatch(r'sg(ReviewPage|ReviewData)\("[A-Za-z0-9+/=]*"\);\n', path.read_text(encoding="ascii"))
    slug = next((pack / "reviews" / "data").glob("H1-script-*.js")).stem
    review_page = pack_review(pack, slug)
    # ... and carry the text intact, for map.js to show with textContent.
    data = pack_review_map(pack, slug)
    quotes = [i.get("quote") for d in data["details"].values() for lst in d.get("lists", []) for i in lst["items"]]
    assert HOSTILE_QUOTE in quotes + data["strings"]
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in review_page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in review_page
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', review_page, re.S).group(1)
    assert '<span class="when">May 2020 &lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;</span>' in timeline
    assert '<div class="event">Event &lt;script&gt;window.__pwned=1&lt;/script&gt; in May 2020</div>' in timeline


# --------------------------------------------------------------------------- board pack


def test_board_pack_files_and_links(seed_graph, tmp_path):
    out = maps.write_report(seed_graph, tmp_path / "board-pack")
    assert out == tmp_path / "board-pack"
    index = (out / "index.html").read_text(encoding="utf-8")
    expected = {"maps/agencies.html", "maps/themes.html"}
    slugs = ("000-d5bcbe7d1a8f4ecb", "002-2b128cb0abd04d34", "Child-X", "IN14", "SILR15b")
    expected |= {f"maps/review.html#{slug}" for slug in slugs} | {f"reviews/review.html#{slug}" for slug in slugs}
    for href in expected:
        assert f'href="{href}"' in index
        assert (out / href.split("#")[0]).is_file()
    for slug in slugs:  # each review's page and map: a data file for the shared page
        assert (out / "reviews" / "data" / f"{slug}.js").is_file() and (out / "maps" / "data" / f"{slug}.js").is_file()
    assert len(list((out / "agencies").glob("*.html"))) == 14  # the seeds' agencies, the Coroner among them
    assert len(list((out / "maps" / "data").glob("*.js"))) == 5
    # Every relative link in every page points at a file of the pack.
    for page in out.rglob("*.html"):
        if page.parent.name == "maps":
            continue
        for href in re.findall(r'(?:href|src)="([^"]+)"', page.read_text(encoding="utf-8")):
            target = html.unescape(href).split("#")[0] or page.name
            assert (page.parent / target).resolve().is_file(), (page, href)
    # The index names no file outside the pack (it once pointed at docs/recurring.md).
    assert "docs/" not in index and ".md" not in index
    gp = (out / "agencies" / "GP.html").read_text(encoding="utf-8")
    assert "Child X seen by GP four days prior to presentation at A&amp;E" in gp
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".board-pack")]  # no temp folder left


def test_board_pack_refuses_to_overwrite(seed_graph, tmp_path):
    out = tmp_path / "pack"
    maps.write_report(seed_graph, out)
    (out / "extra.txt").write_text("x")
    with pytest.raises(OutputError, match="exists and is not empty; use --force"):
        maps.write_report(seed_graph, out)
    assert (out / "extra.txt").exists()
    maps.write_report(seed_graph, out, force=True)
    assert not (out / "extra.txt").exists() and (out / "index.html").is_file()

    other = tmp_path / "documents"
    other.mkdir()
    (other / "precious.docx").write_text("x")
    with pytest.raises(OutputError, match="not a board pack written by sgraph"):
        maps.write_report(seed_graph, other, force=True)
    assert (other / "precious.docx").exists()

    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        maps.write_report(seed_graph, tmp_path / "file")

    empty = tmp_path / "empty"
    empty.mkdir()
    assert (maps.write_report(seed_graph, empty) / "index.html").is_file()


# --------------------------------------------------------------------------- CLI


def test_cli_map_and_report(seed_workspace, tmp_path, capsys):
    home, _g = seed_workspace
    out = tmp_path / "agencies.html"
    assert main(["map", "agencies", "--out", str(out), "--home", str(home)]) == 0
    assert map_data(out.read_text(encoding="utf-8"))["kind"] == "agencies"
    assert main(["map", "agencies", "--out", str(out), "--home", str(home)]) == 1
    assert "already exists; use --force" in capsys.readouterr().err
    assert main(["map", "agencies", "--out", str(out), "--home", str(home), "--force"]) == 0

    assert main(["map", "review", "--review", CHILD_X, "--out", str(tmp_path / "x.html"), "--home", str(home)]) == 0
    assert map_data((tmp_path / "x.html").read_text(encoding="utf-8"))["kind"] == "review"
    assert main(["map", "themes", "-o", str(tmp_path / "t.html"), "--home", str(home)]) == 0

    capsys.readouterr()
    assert main(["map", "review", "--out", str(tmp_path / "y.html"), "--home", str(home)]) == 2
    assert "needs --review" in capsys.readouterr().err
    assert main(["map", "people", "--out", str(tmp_path / "y.html"), "--home", str(home)]) == 2
    assert "Unknown map 'people'" in capsys.readouterr().err
    assert main(["map", "review", "--review", "nope", "--out", str(tmp_path / "y.html"), "--home", str(home)]) == 2
    assert not (tmp_path / "y.html").exists()

    pack = tmp_path / "board-pack"
    assert main(["report", "--out", str(pack), "--home", str(home)]) == 0
    assert (pack / "index.html").is_file()
    assert main(["report", "--out", str(pack), "--home", str(home)]) == 1
    assert main(["report", "--out", str(pack), "--home", str(home), "--force"]) == 0


def test_cli_help_has_examples(capsys):
    for command in ("map", "report"):
        assert main([command, "--help"]) == 0
        assert "Example: sgraph " in capsys.readouterr().out


# --------------------------------------------------------------------------- where communication broke down most


@pytest.fixture(scope="module")
def ranked_graph():
    """A known answer: GP–CSC has 3 broken links (GP→CSC twice, CSC→GP once) in 2 reviews and 1
    effective; Police–Schools 2 broken (one each way) in 2 reviews; Police–CSC 1 broken, 2 effective."""
    return build_graph([
        record("A1", year=2016, title="Learning review of Child A",
               links=(("GP", "Children's Social Care", "broken", "The GP did not refer Child A to CSC."),
                      ("Police", "Schools", "broken", "The police did not tell the school."),
                      ("Police", "Children's Social Care", "effective", "The police referred to CSC."))),
        record("B2", year=2019, title="Serious case review of Child B",
               links=(("GP", "Children's Social Care", "broken", "The GP did not share the bruising with CSC."),
                      ("Children's Social Care", "GP", "broken", "CSC did not tell the GP of the plan."),
                      ("GP", "Children's Social Care", "effective", "The GP rang CSC."),
                      ("Schools", "Police", "broken", "The school did not tell the police."),
                      ("Police", "Children's Social Care", "broken", "The police did not pass the log to CSC."),
                      ("Police", "Children's Social Care", "effective", "The police told CSC the next day."))),
    ])


def test_broken_pairs_ranks_pairs_by_broken_links(ranked_graph):
    from graph_model.breakdowns import broken_pairs

    pairs = broken_pairs(ranked_graph)
    assert [(p.a, p.b, p.broken) for p in pairs] == [
        ("Children's Social Care", "GP", 3), ("Police", "Schools", 2), ("Children's Social Care", "Police", 1)]
    top = pairs[0]
    assert (top.a_to_b, top.b_to_a, top.undirected, top.effective) == (1, 2, 0, 1)  # CSC→GP 1, GP→CSC 2
    assert top.reviews == ["B2", "A1"] and (top.first_year, top.last_year) == (2016, 2019)
    assert top.share_broken == 0.75 and top.links == 4 and top.by_year == {2016: 1, 2019: 2}
    assert top.quote_review == "B2" and top.quote in {"The GP did not share the bruising with CSC.", "CSC did not tell the GP of the plan."}
    police_csc = pairs[2]
    assert (police_csc.broken, police_csc.effective, police_csc.reviews) == (1, 2, ["B2"])
    assert [p.b for p in broken_pairs(ranked_graph, "Police")] == ["Schools", "Police"]


def test_index_opens_with_the_ranked_pairs_and_the_matrix(ranked_graph, tmp_path):
    pack = maps.write_report(ranked_graph, tmp_path / "pack")
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert index.index('id="breakdowns"') < index.index('id="matrix"') < index.index("<h2>Recurring lessons")
    rows = re.findall(r'<tr data-href="([^"]+)">(.*?)</tr>', index, re.S)
    assert len(rows) == 3
    href, first = rows[0]
    assert html.unescape(href) == "maps/agencies.html#a=Agency%3AChildren%27s%20Social%20Care&b=Agency%3AGP"
    assert "Children&#x27;s Social Care &ndash; GP" in first and '<td data-v="3" class="num"><strong>3</strong>' in first
    assert "GP &rarr; Children&#x27;s Social Care: 2" in first and "2016&ndash;2019" in first and "75%" in first
    # The trend: broken links per year over every year of the corpus.
    assert 'title="Broken links per year, 2016–2019: 2016: 1, 2017: 0, 2018: 0, 2019: 2"' in first
    assert '<td data-v="2" class="trend">' in first  # 2 in the last three years (2017-2019)
    # The example's review reads as its title and year, not its id.
    assert "Serious case review of Child B (2019)</a>" in first
    # The matrix: row = who did not tell, column = whom; a cell links to the pair on the map.
    matrix = index.split('id="matrix"')[1].split("</table>")[0]
    assert 'title="GP → Children&#x27;s Social Care: 2 broken links"' in matrix
    assert 'title="Children&#x27;s Social Care → GP: 1 broken link"' in matrix
    # Each agency page ranks its own pairs.
    police = (pack / "agencies" / "Police.html").read_text(encoding="utf-8")
    assert "Where communication with Police broke down most (2 pairs)" in police
    assert police.index("Police &ndash; Schools") < police.index("Children&#x27;s Social Care &ndash; Police")


def test_a_link_with_an_inferred_end_says_so_on_the_maps(tmp_path):
    """A breakdown told across two sentences: its evidence on the agency map and the review's
    map says which end was found around the sentence."""
    from graph_model.extract import extract
    from graph_model.read import read_document

    doc = tmp_path / "review.txt"
    doc.write_text(
        "Learning review: Child Q\n\nSummary\n\nChildren's social care closed the case. "
        "The school was not told of this decision.\n",
        encoding="utf-8",
    )
    record = extract(read_document(doc))
    [link] = record.communication_links
    assert (link.source, link.target, link.inferred_end) == ("Children's Social Care", "Schools", "source")
    graph = build_graph([record])
    note = "sender inferred from the sentences around this one"
    assert note in json.dumps(map_data(maps.agency_map_html(graph)))
    assert note in json.dumps(map_data(maps.review_map_html(graph, record.id)))
    plain = build_graph([record.model_copy(update={"communication_links": [link.model_copy(update={"inferred_end": None})]})])
    assert note not in json.dumps(map_data(maps.agency_map_html(plain)))


# A review written for the chronology test: three missed opportunities (no dates of their own)
# and four dated events, one of them (May 2018) told last in the text though first in time.
CHRONO_DOC = """Rapid Review: Child Q
Northshire Safeguarding Children Partnership
2021

Summary

The GP did not refer the bruising on Child Q to Children's Social Care, a missed opportunity to protect him.

In March 2019, the health visitor saw Child Q at home and noted that the family had moved house.

The health visitor did not share her concern about the home conditions with the GP.

In January 2020, the police attended the home after a report of a disturbance.

The police did not inform Children's Social Care of the disturbance, and no strategy discussion was held.

In June 2020, Child Q was taken to hospital with a head injury.

Earlier, in May 2018, the school nurse met Child Q and his mother at the nursery.

Key learning

Agencies should share information about risk promptly.
"""


@pytest.fixture(scope="module")
def chrono_graph(tmp_path_factory):
    from graph_model.pipeline import build

    folder = tmp_path_factory.mktemp("chrono")
    (folder / "docs").mkdir()
    (folder / "docs" / "child_q.txt").write_text(CHRONO_DOC, encoding="utf-8")
    return build([folder / "docs"], home=folder / "ws", embedded=False).graph


def test_chronology_places_missed_opportunities_after_the_event_they_follow(chrono_graph):
    index = maps._Index(chrono_graph)
    (rid,) = index.review_ids
    strip = maps._chronology_strip(index, index.review_edges[rid])
    items = re.findall(r'<li( class="missed")?><a href="#(\w+)"><span class="when">([^<]*)</span><span class="what">([^<]*)</span>', strip)
    got = [("missed" if cls else "event", when, what.split()[:3]) for cls, _href, when, what in items]
    # Date order for the events; each missed opportunity after the event before it in the text.
    assert got == [
        ("event", "May 2018", ["Earlier,", "in", "May"]),
        ("event", "March 2019", ["In", "March", "2019,"]),
        ("missed", "Missed opportunity", ["The", "health", "visitor"]),
        ("event", "January 2020", ["In", "January", "2020,"]),
        ("missed", "Missed opportunity", ["The", "police", "did"]),
        ("event", "June 2020", ["In", "June", "2020,"]),
    ]
    assert "missed by Police" in strip and "2 missed opportunities (violet), each after the event it follows" in strip
    # The GP's comes before every dated event in the text: the strip says it is not on it.
    assert "Not on the strip: 1 missed opportunity (before the first dated event in the review\u2019s text;" in strip


def test_chronology_without_dates_says_missed_opportunities_cannot_be_placed():
    g = build_graph([record("N1", links=(("GP", "Police", "broken", "The GP did not tell the police."),),
                            missed=(("The GP missed a chance to refer.", ("GP",)),))])
    index = maps._Index(g)
    strip = maps._chronology_strip(index, index.review_edges["N1"])
    assert "Chronology: 0 dated events, in date order." in strip and "<ol>" not in strip
    assert "Not on the strip: 1 missed opportunity (the review gives no dates;" in strip


def test_board_pack_is_the_same_written_by_worker_processes(big_graph, tmp_path):
    """The review files written by forked workers (and the recurring lessons worked out there)
    give the same pack, byte for byte, as writing everything in this process; no worker is
    left running afterwards."""
    import multiprocessing

    here = maps.write_report(big_graph, tmp_path / "here", workers=0)
    forked = maps.write_report(big_graph, tmp_path / "forked", workers=2)
    files = sorted(p.relative_to(here) for p in here.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(forked) for p in forked.rglob("*") if p.is_file())
    assert len([f for f in files if f.parts[:2] == ("maps", "data")]) == len(maps._Index(big_graph).review_ids)
    assert all((here / f).read_bytes() == (forked / f).read_bytes() for f in files)
    assert multiprocessing.active_children() == []
    assert maps._fork_state is None


def test_board_pack_workers_stop_when_writing_fails(big_graph, tmp_path, monkeypatch):
    """A failure in a worker reaches the caller as one clear error; nothing is left half-written
    and no worker outlives the call."""
    import multiprocessing

    def broken(index, rid, assets=None, as_data=False):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(maps, "_review_map", broken)
    with pytest.raises(OutputError, match="cannot write the board pack"):
        maps.write_report(big_graph, tmp_path / "pack", workers=2)
    assert not (tmp_path / "pack").exists()
    assert [p.name for p in tmp_path.iterdir()] == []
    assert multiprocessing.active_children() == []


def test_board_pack_worker_killed_is_an_error_not_a_wait(big_graph, tmp_path, monkeypatch):
    """A worker that dies (the out-of-memory killer) ends the write with one clear error."""
    import multiprocessing
    import os
    import signal

    def killed(index, rid, assets=None, as_data=False):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(maps, "_review_map", killed)
    with pytest.raises(OutputError, match=r"a worker process writing the reviews' files stopped unexpectedly .*--jobs 0"):
        maps.write_report(big_graph, tmp_path / "pack", workers=2)
    assert [p.name for p in tmp_path.iterdir()] == []
    assert multiprocessing.active_children() == []


def test_report_command_jobs_option(big_graph, tmp_path, monkeypatch):
    from graph_model.commands import report as report_cmd

    seen = {}

    def fake(graph, out, force=False, workers=None):
        seen["workers"] = workers
        Path(out).mkdir()
        return Path(out)

    monkeypatch.setattr(report_cmd, "_graph", lambda home, neo4j: big_graph)
    monkeypatch.setattr(maps, "write_report", fake)
    assert main(["report", "--out", str(tmp_path / "a"), "--jobs", "0"]) == 0 and seen["workers"] == 0
    assert main(["report", "--out", str(tmp_path / "b")]) == 0 and seen["workers"] is None
