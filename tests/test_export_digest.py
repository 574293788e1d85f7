"""The agency digest (graph_model.exports): recurring lessons, partner ranking, lessons that
came back, missed opportunities by theme, counts by year, filters, the appendix and the
reader of one agency's part of graph.json, on a fixture of four reviews whose answers are
known by construction:

* lesson A ("... refer them to children's social care"), word for word in R1 (2015,
  recommendation), R2 (2017, key learning) and R3 (2019, recommendation);
* lesson B ("... bail conditions ..."), word for word in R1, R2 and R4 (2021), never a
  recommendation;
* a recommendation in R3 alone (body worn cameras);
* broken links: Police -> Schools in R1 and R2 (effective in R4), GP <-> Police in R1
  (undirected), Health Visiting -> Police in R3;
* missed opportunities of the Police: domestic abuse in R1 and R2, information sharing in R3.
"""

from __future__ import annotations

import csv
import json

import docx
import jsonschema
import pytest

from graph_model import exports
from graph_model.build import build_graph, graph_json_chunks
from graph_model.graph_slice import agency_slice
from graph_model.models import (
    AgencyRef,
    CommunicationLink,
    Evidence,
    LearningPoint,
    MissedOpportunity,
    ReviewRecord,
)

LESSON_A = (
    "Police officers attending a domestic abuse incident should always record whether children "
    "live in the household and refer them to children's social care."
)
LESSON_B = "Custody sergeants must check the bail conditions of every suspect before release from the station."
CAMERAS = "Police should audit the use of body worn cameras."
BOARD_N, BOARD_S = "Northshire Safeguarding Children Partnership", "Southshire Safeguarding Children Partnership"


def _ev(text: str, section: str = "key_learning") -> Evidence:
    return Evidence(quote=text, start=0, end=len(text), section=section, raw_start=0, raw_end=len(text))


def _lp(rid: str, n: int, text: str, kind: str, agencies=("Police",)) -> LearningPoint:
    section = "recommendations" if kind == "recommendation" else "key_learning"
    return LearningPoint(
        id=f"{rid}/lp{n:03d}", text=text, kind=kind, themes=[], agencies=list(agencies), quote=text, evidence=_ev(text, section)
    )


def _mo(rid: str, n: int, text: str, theme: str) -> MissedOpportunity:
    return MissedOpportunity(
        id=f"{rid}/mo{n:03d}", text=text, quote=text, agencies=["Police"], family_members=[], themes=[theme],
        evidence=_ev(text, "findings"),
    )


def _link(rid: str, n: int, source: str, target: str, status: str = "broken", directed: bool = True) -> CommunicationLink:
    quote = f"{rid}: the {source} and the {target} did not speak (link {n})."
    return CommunicationLink(
        id=f"{rid}/link{n:03d}", source=source, target=target, status=status, directed=directed, quote=quote,
        evidence=_ev(quote, "findings"),
    )


def _review(rid: str, year: int, board: str, lps, mos, links) -> ReviewRecord:
    names = {"Police"} | {a for lk in links for a in (lk.source, lk.target)}
    return ReviewRecord(
        id=rid, title=f"Review {rid}", board=board, review_type="CSPR", year=year, source=f"{rid.lower()}.txt",
        sha256=rid.lower().ljust(64, "0"), text_length=1000,
        agencies=[AgencyRef(name=a, sector="other", evidence=[_ev(a)]) for a in sorted(names)],
        learning_points=lps, missed_opportunities=mos, communication_links=links,
    )


def fixture_records() -> list[ReviewRecord]:
    return [
        _review(
            "R1", 2015, BOARD_N,
            [_lp("R1", 1, LESSON_A, "recommendation"), _lp("R1", 2, LESSON_B, "key_learning")],
            [_mo("R1", 1, "The police did not tell the school about the domestic abuse incident.", "Domestic abuse")],
            [_link("R1", 1, "Police", "Schools"), _link("R1", 2, "GP", "Police", directed=False)],
        ),
        _review(
            "R2", 2017, BOARD_N,
            [_lp("R2", 1, LESSON_A, "key_learning"), _lp("R2", 2, LESSON_B, "key_learning")],
            [_mo("R2", 1, "The police did not record that the children were present.", "Domestic abuse")],
            [_link("R2", 1, "Police", "Schools")],
        ),
        _review(
            "R3", 2019, BOARD_S,
            [_lp("R3", 1, LESSON_A, "recommendation"), _lp("R3", 2, CAMERAS, "recommendation")],
            [_mo("R3", 1, "The police did not pass the referral on to the health visitor.", "Information sharing")],
            [_link("R3", 1, "Health Visiting", "Police")],
        ),
        _review(
            "R4", 2021, BOARD_S,
            [_lp("R4", 1, LESSON_B, "key_learning")],
            [],
            [_link("R4", 1, "Police", "Schools", status="effective")],
        ),
    ]


@pytest.fixture(scope="module")
def graph():
    return build_graph(fixture_records())


@pytest.fixture(scope="module")
def police(graph):
    return exports.agency_learning(graph, "police")


def test_recurring_lessons_exactly(police):
    rows = [(r.lesson, r.text, r.reviews, r.points, r.first_year, r.last_year) for r in police.digest.recurring_lessons]
    assert rows == [
        ("R1/lp001", LESSON_A, 3, 3, 2015, 2019),
        ("R1/lp002", LESSON_B, 3, 3, 2015, 2021),
    ]
    assert police.digest.recurring_lessons_total == 2
    assert police.digest.recurring_lessons[0].citation.review_id == "R1"
    assert police.digest.recurring_lessons[0].citation.section == "recommendations"
    # Every item carries its lesson: A's and B's points, not the lone recommendation.
    lessons = {i.id: (i.lesson, i.lesson_reviews) for i in police.all_items() if i.kind not in ("communication", "missed_opportunity")}
    assert lessons == {
        "R1/lp001": ("R1/lp001", 3), "R2/lp001": ("R1/lp001", 3), "R3/lp001": ("R1/lp001", 3),
        "R1/lp002": ("R1/lp002", 3), "R2/lp002": ("R1/lp002", 3), "R4/lp001": ("R1/lp002", 3),
        "R3/lp002": (None, None),
    }


def test_partner_ranking_exactly(police):
    rows = [
        (r.rank, r.partner, r.broken, r.to_partner, r.from_partner, r.between, r.effective, r.reviews, r.first_year, r.last_year, r.example.review_id)
        for r in police.digest.partners
    ]
    assert rows == [
        (1, "Schools", 2, 2, 0, 0, 1, 2, 2015, 2017, "R2"),
        (2, "GP", 1, 0, 0, 1, 0, 1, 2015, 2015, "R1"),
        (3, "Health Visiting", 1, 0, 1, 0, 0, 1, 2019, 2019, "R3"),
    ]
    ranks = {i.id: i.partner_rank for i in police.all_items() if i.kind == "communication"}
    assert ranks == {"R1/link001": 1, "R2/link001": 1, "R1/link002": 2, "R3/link001": 3, "R4/link001": None}
    assert exports.rank_broken_partners(police.all_items(), limit=1)[0].partner == "Schools"


def test_lessons_that_came_back_exactly(police):
    rows = [(r.lesson, r.text, r.recommended.review_id, r.later_reviews, r.later, r.first_again, r.last_again) for r in police.digest.came_back]
    assert rows == [("R1/lp001", LESSON_A, "R1", ["R2", "R3"], 2, 2017, 2019)]
    assert police.digest.came_back_total == 1


def test_recommendations_one_per_lesson(police):
    rows = [(r.lesson, r.text, r.reviews, r.first_year, r.last_year, r.citation.review_id) for r in police.digest.recommendations]
    assert rows == [("R1/lp001", LESSON_A, 2, 2015, 2019, "R1"), (None, CAMERAS, 1, 2019, 2019, "R3")]
    assert police.digest.recommendations_total == 2


def test_missed_opportunities_by_theme_and_years(police):
    rows = [(m.theme, m.count, m.reviews, [e.citation.review_id for e in m.examples]) for m in police.digest.missed_by_theme]
    assert rows == [("Domestic abuse", 2, 2, ["R2", "R1"]), ("Information sharing", 1, 1, ["R3"])]
    years = [(y.year, y.reviews, y.missed_opportunities, y.broken_links) for y in police.digest.by_year]
    assert years == [(2015, 1, 1, 2), (2017, 1, 1, 1), (2019, 1, 1, 1), (2021, 1, 0, 0)]


def test_filters(graph):
    since = exports.agency_learning(graph, "Police", since=2017)
    assert {r.id for r in since.reviews} == {"R2", "R3", "R4"}
    assert [(r.lesson, r.reviews) for r in since.digest.recurring_lessons] == [("R2/lp001", 2), ("R2/lp002", 2)]
    assert since.digest.came_back == []  # first recommended in R3 (2019), never found after it
    assert [(r.partner, r.broken) for r in since.digest.partners] == [("Health Visiting", 1), ("Schools", 1)]
    south = exports.agency_learning(graph, "Police", board="southshire safeguarding children partnership")
    assert south.filters.board == BOARD_S and {r.id for r in south.reviews} == {"R3", "R4"}
    assert south.digest.recurring_lessons == []
    themed = exports.agency_learning(graph, "Police", theme="domestic ABUSE")
    assert themed.filters.theme == "Domestic abuse"
    assert {i.id for i in themed.all_items()} == {"R1/mo001", "R2/mo001"}
    with pytest.raises(exports.UsageError, match="Did you mean: Northshire"):
        exports.agency_learning(graph, "Police", board="Northshire Safeguarding Children Partnershp")
    with pytest.raises(exports.UsageError, match="Did you mean: Domestic abuse"):
        exports.agency_learning(graph, "Police", theme="domestic abus")


def test_appendix_holds_every_item_the_old_export_held(graph, police, tmp_path):
    # The old export: every item once (the items are gathered as before; the digest is new).
    old = exports._collect(graph, "Police")
    assert len(police.all_items()) == len(old) == 15  # 7 learning points, 3 missed opportunities, 5 links
    out = exports.export_agency(graph, "Police", "csv", tmp_path / "police.csv")
    assert out == tmp_path / "police.csv"
    with open(tmp_path / "police.appendix.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["item_id"] for r in rows) == sorted(i.id for i in old)
    lesson = {r["item_id"]: (r["lesson"], r["lesson_reviews"], r["partner_rank"]) for r in rows}
    assert lesson["R2/lp001"] == ("R1/lp001", "3", "") and lesson["R1/link001"] == ("", "", "1")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        digest = list(csv.DictReader(fh))
    assert [r["section"] for r in digest].count("broken_links") == 3
    assert [(r["name"], r["count"]) for r in digest if r["section"] == "broken_links"][0] == ("Schools", "2")
    came = [r for r in digest if r["section"] == "came_back"]
    assert [(r["lesson"], r["detail"], r["review_id"]) for r in came] == [("R1/lp001", "R2; R3", "R1")]


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_digest_names_its_appendix_and_the_appendix_has_every_item(graph, police, tmp_path, fmt):
    exports.export_agency(graph, "Police", fmt, tmp_path / f"police.{fmt}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"police.appendix.{fmt}", f"police.{fmt}"]
    if fmt == "docx":
        digest = "\n".join(p.text for p in docx.Document(str(tmp_path / "police.docx")).paragraphs)
        doc = docx.Document(str(tmp_path / "police.appendix.docx"))
        cited = sum(len(t.rows) - 1 for t in doc.tables[:-1])
        assert cited == len(police.all_items())
    else:
        digest = (tmp_path / f"police.{fmt}").read_text(encoding="utf-8")
        appendix = (tmp_path / f"police.appendix.{fmt}").read_text(encoding="utf-8")
        assert appendix.count("Review R") - appendix.count("Review R1</td>") >= len(police.all_items())
        assert "police.md" in appendix or "police.html" in appendix
    assert f"police.appendix.{fmt}" in digest


def test_docx_digest_headings_navigate(graph, tmp_path):
    exports.export_agency(graph, "Police", "docx", tmp_path / "police.docx")
    document = docx.Document(str(tmp_path / "police.docx"))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith(("Title", "Heading"))]
    assert headings == [
        ("Title", "Learning for Police"),
        ("Heading 1", "Summary"),
        ("Heading 1", "Recurring lessons (2)"),
        ("Heading 1", "Broken links by partner agency (3)"),
        ("Heading 1", "Missed opportunities by theme (3)"),
        ("Heading 2", "Domestic abuse: 2 in 2 review(s), 2015\u20132017"),
        ("Heading 2", "Information sharing: 1 in 1 review(s), 2019"),
        ("Heading 1", "Recommendations made to Police (2 lessons)"),
        ("Heading 1", "Lessons that came back (1)"),
        ("Heading 1", "Over time"),
    ]
    partners = document.tables[2]
    assert [c.text for c in partners.rows[1].cells] == ["1", "Schools", "2", "2", "0", "0", "2", "2015\u20132017"]


def test_full_is_one_file_digest_first(graph, police, tmp_path):
    out = exports.export_agency(graph, "Police", "md", tmp_path / "police.md", full=True)
    assert [p.name for p in tmp_path.iterdir()] == ["police.md"]
    text = out.read_text(encoding="utf-8")
    assert text.index("## Recurring lessons") < text.index("## Every item (15)") < text.index("### Reviews cited")
    assert text.count("Source: Review") >= len(police.all_items())


def test_json_has_the_digest_and_validates(graph, tmp_path):
    out = exports.export_agency(graph, "Police", "json", tmp_path / "police.json")
    assert [p.name for p in tmp_path.iterdir()] == ["police.json"]  # JSON: one file, every item
    data = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(exports.load_schema()).validate(data)
    assert data["version"] == 2
    assert [r["partner"] for r in data["digest"]["partners"]] == ["Schools", "GP", "Health Visiting"]
    assert data["digest"]["came_back"][0]["later_reviews"] == ["R2", "R3"]


def test_slice_of_graph_json_equals_the_view_of_the_whole_graph(graph, tmp_path):
    path = tmp_path / "graph.json"
    path.write_text("".join(graph_json_chunks(graph)), encoding="utf-8")

    def sig(g):
        return (
            sorted((n, sorted(d.items())) for n, d in g.nodes(data=True)),
            sorted((u, v, k, sorted(d.items())) for u, v, k, d in g.edges(keys=True, data=True)),
        )

    for agency in ("Police", "Schools", "GP", "Health Visiting"):
        part = agency_slice(path, [agency], exports.resolve_agency)
        assert sig(part) == sig(exports.agency_view(graph, agency))
        assert exports.agency_learning(part, agency) == exports.agency_learning(graph, agency)
    assert exports.export_graph(tmp_path, ["HV"]).number_of_edges() == sig(exports.agency_view(graph, "Health Visiting"))[1].__len__()


def test_export_graph_falls_back_when_the_layout_is_unexpected(graph, tmp_path):
    # graph.json written as one line (valid JSON, not the expected layout): the whole graph is read.
    from graph_model.build import graph_to_data

    (tmp_path / "graph.json").write_text(json.dumps(graph_to_data(graph)), encoding="utf-8")
    whole = exports.export_graph(tmp_path, ["Police"])
    assert exports.agency_learning(whole, "Police") == exports.agency_learning(graph, "Police")


def test_export_agencies_writes_digests_appendices_and_an_index(graph, tmp_path):
    paths = exports.export_agencies(graph, tmp_path, "md", since=2015)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "police.md" in names and "police.appendix.md" in names and "index.md" in names
    assert [p.name for p in paths][-1] == "index.md"
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    assert "| [Police](police.md) | police | 15 | 4 | 4 | 2 | 1 | [appendix](police.appendix.md) |" in index


def test_markdown_digest_stays_within_limits(graph):
    text = exports.render(exports.agency_learning(graph, "Police"), "md", "digest").decode("utf-8")
    assert len(text.split()) < 8000
    assert "## Lessons that came back (1)" in text
    assert "recommended in R1 (2015); found again in 2 later review(s), 2017\u20132019: R2, R3" in text


def test_a_link_with_an_inferred_end_says_so_in_the_export(tmp_path):
    """A breakdown told across two sentences: the agency's items say the sender was inferred."""
    from graph_model import exports
    from graph_model.build import build_graph
    from graph_model.extract import extract
    from graph_model.read import read_document

    doc = tmp_path / "review.txt"
    doc.write_text(
        "Learning review: Child Q\n\nSummary\n\nChildren's social care closed the case. "
        "The school was not told of this decision.\n",
        encoding="utf-8",
    )
    graph = build_graph([extract(read_document(doc))])
    [item] = [i for i in exports._collect(graph, "Schools") if i.kind == "communication"]
    assert item.text == (
        "Broken communication from Children's Social Care (the sender inferred from the text around the quote)"
    )
