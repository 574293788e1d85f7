"""The timeline: dates and periods in a review's text, each with the event it dates.

The date patterns and their exclusions are checked on short texts with exact values; the
events on the five seeds and the two unseen documents are checked against what each
document says (every expected sentence below was read in the document itself).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import graph_model.cli  # noqa: F401  (registers every command)
from graph_model.build import build_graph
from graph_model.commands import main as cli_main
from graph_model.extract import extract, sentence_spans
from graph_model.models import ReviewRecord, TimelineEvent
from graph_model.read import read_document
from graph_model.timeline import find_dates, find_timeline

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = ROOT / "tests" / "data"
S000 = "000_d5bcbe7d1a8f4ecb.txt"
S001 = "001_58071196eda5a159.txt"
S002 = "002_2b128cb0abd04d34.txt"
S003 = "003_050a913a287adf6b.txt"
S004 = "004_cd261efeb7acd646.txt"
DOCUMENTS = [SEEDS / n for n in (S000, S001, S002, S003, S004)] + [DATA / "unseen_cspr.md", DATA / "unseen_briefing.html"]


def dates(text: str) -> list[tuple[str, str, str, str]]:
    return [(d.date_text, d.date_from, d.date_to, d.precision) for d in find_dates(text)]


# --------------------------------------------------------------------------- date patterns


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # full dates
        ("He was seen on 14th September 2015 by the GP.", ("14th September 2015", "2015-09-14", "2015-09-14", "day")),
        ("Section 47 on 14 th September 2015 led to the Review.", ("14 th September 2015", "2015-09-14", "2015-09-14", "day")),
        ("He was seen on 14 September 2015.", ("14 September 2015", "2015-09-14", "2015-09-14", "day")),
        ("He was seen on the 3rd of April 2020.", ("3rd of April 2020", "2020-04-03", "2020-04-03", "day")),
        ("He was seen on 14/09/2015.", ("14/09/2015", "2015-09-14", "2015-09-14", "day")),
        ("He was seen on 4/9/15.", ("4/9/15", "2015-09-04", "2015-09-04", "day")),
        ("He was seen on 14.09.2015.", ("14.09.2015", "2015-09-14", "2015-09-14", "day")),
        ("He was seen on 2015-09-14.", ("2015-09-14", "2015-09-14", "2015-09-14", "day")),
        ("He was seen on September 14, 2015.", ("September 14, 2015", "2015-09-14", "2015-09-14", "day")),
        ("He was seen on September 14th 2015.", ("September 14th 2015", "2015-09-14", "2015-09-14", "day")),
        ("Born on 29 February 2016.", ("29 February 2016", "2016-02-29", "2016-02-29", "day")),
        # months
        ("The family moved in September 2015.", ("September 2015", "2015-09-01", "2015-09-30", "month")),
        ("The family moved in Sept 2015.", ("Sept 2015", "2015-09-01", "2015-09-30", "month")),
        ("The family moved in Sept. 2015 to a flat.", ("Sept. 2015", "2015-09-01", "2015-09-30", "month")),
        ("The family moved in SEPTEMBER 2015.", ("SEPTEMBER 2015", "2015-09-01", "2015-09-30", "month")),
        ("The family moved in september 2015.", ("september 2015", "2015-09-01", "2015-09-30", "month")),
        ("The family moved in February of 2016.", ("February of 2016", "2016-02-01", "2016-02-29", "month")),
        ("The family moved in early September 2015.", ("early September 2015", "2015-09-01", "2015-09-10", "month")),
        ("The family moved in mid-March 2015.", ("mid-March 2015", "2015-03-11", "2015-03-20", "month")),
        ("The family moved at the end of February 2015.", ("end of February 2015", "2015-02-21", "2015-02-28", "month")),
        # month ranges
        ("No meetings (in July/August 2015).", ("July/August 2015", "2015-07-01", "2015-08-31", "range")),
        ("No meetings (in July / August 2015).", ("July / August 2015", "2015-07-01", "2015-08-31", "range")),
        ("No meetings in July-August 2015.", ("July-August 2015", "2015-07-01", "2015-08-31", "range")),
        ("No meetings in July \u2013 August 2015.", ("July \u2013 August 2015", "2015-07-01", "2015-08-31", "range")),
        ("No meetings between July and September 2015.",
         ("between July and September 2015", "2015-07-01", "2015-09-30", "range")),
        ("No meetings from March 2014 to June 2015.", ("from March 2014 to June 2015", "2014-03-01", "2015-06-30", "range")),
        ("No meetings in December/January 2016.", ("December/January 2016", "2015-12-01", "2016-01-31", "range")),
        ("Seen between 14 and 16 September 2015.", ("between 14 and 16 September 2015", "2015-09-14", "2015-09-16", "range")),
        ("Seen 14-16 September 2015.", ("14-16 September 2015", "2015-09-14", "2015-09-16", "range")),
        ("Seen from 14 September 2015 to 3 April 2016.",
         ("from 14 September 2015 to 3 April 2016", "2015-09-14", "2016-04-03", "range")),
        # seasons and parts of a year
        ("Various incidents over the course of summer 2015.", ("summer 2015", "2015-06-01", "2015-08-31", "season")),
        ("Various incidents in Summer 2015.", ("Summer 2015", "2015-06-01", "2015-08-31", "season")),
        ("It happened in the spring of 2015.", ("spring of 2015", "2015-03-01", "2015-05-31", "season")),
        ("It happened in autumn 2014.", ("autumn 2014", "2014-09-01", "2014-11-30", "season")),
        ("It happened in winter 2015/16.", ("winter 2015/16", "2015-12-01", "2016-02-29", "season")),
        ("It happened in winter 2015.", ("winter 2015", "2015-12-01", "2016-02-29", "season")),
        ("It happened in the autumn term 2016.", ("autumn term 2016", "2016-09-01", "2016-12-31", "season")),
        ("It happened in early 2016.", ("early 2016", "2016-01-01", "2016-04-30", "season")),
        ("It happened in late 2014.", ("late 2014", "2014-09-01", "2014-12-31", "season")),
        ("It happened in mid-2015.", ("mid-2015", "2015-05-01", "2015-08-31", "season")),
        ("It happened at the end of 2015.", ("end of 2015", "2015-10-01", "2015-12-31", "season")),
        ("It happened in the first half of 2016.", ("first half of 2016", "2016-01-01", "2016-06-30", "season")),
        ("It happened over Christmas 2015.", ("Christmas 2015", "2015-12-24", "2015-12-26", "season")),
        ("It happened at Easter 2016.", ("Easter 2016", "2016-03-25", "2016-03-28", "season")),  # Good Friday to Easter Monday
        # years
        ("Following disclosures in 2013 medicals were undertaken.", ("2013", "2013-01-01", "2013-12-31", "year")),
        ("During 2014 the family moved.", ("2014", "2014-01-01", "2014-12-31", "year")),
        ("2013 saw a change of school.", ("2013", "2013-01-01", "2013-12-31", "year")),
        ("This was more evident from 2012 onwards.", ("2012", "2012-01-01", "2012-12-31", "year")),
        ("It happened between 2013 and 2015.", ("between 2013 and 2015", "2013-01-01", "2015-12-31", "range")),
        ("It happened in 2013-2015.", ("2013-2015", "2013-01-01", "2015-12-31", "range")),
        ("It happened in 2013/14.", ("2013/14", "2013-01-01", "2014-12-31", "range")),
        ("It happened in 2013 to 2015.", ("2013 to 2015", "2013-01-01", "2015-12-31", "range")),
    ],
)
def test_date_pattern(text, expected):
    assert dates(text) == [expected]
    found = find_dates(text)[0]
    assert text[found.start : found.end] == found.date_text


@pytest.mark.parametrize(
    "text",
    [
        # years inside names of legislation and guidance, codes and ids
        "Section 47 of the Children Act 1989 applies.",
        "See Working Together 2018 for the procedure.",
        "See Working Together to Safeguard Children (2018).",
        "The Mental Health Act 1983 was used.",
        "The 1989 Act applies.",
        "Rapid Review \u2013 Sibling Group S (2021)",
        "The sibling's review, SCR JN15, was cited.",
        "Reference SCR2015 and SILR15b.",
        "Case number 2015/123 was opened.",
        "The code 2019-02 was used.",
        # page, paragraph and phone numbers, amounts, percentages
        "See page 2015 of the bundle.",
        "See paragraph 2013.",
        "Call 0300 2015 123 for advice.",
        "Tel 2015 for the duty desk.",
        "It cost \u00a32015 a month.",
        "Attendance rose to 2015% of the target.",
        "Attendance was 2015 per cent of the target.",
        "Over 2000 children were seen.",
        "In the 1990s the family lived abroad.",
        "Paragraph 3.1.20 sets out the duty.",
        # research cited with its authors
        "Brandon et al (2012) found the same.",
        "As research shows (Munro, 2011).",
        "As research shows (Brandon et al., 2012).",
        "See (Department for Education, 2018).",
        "Munro (2011) said so.",
        # not dates at all
        "Agencies contacted in (at 3 / 6 months).",
        "Very high percentages (currently 93.1%) of children have plans.",
        "Professionals may 2 weeks later review it.",
        "It was reviewed on 31 June.",  # no year, and no 31 June
        "Mother said she may see the GP in March.",  # a month with no year is not placed
    ],
)
def test_not_a_date(text):
    assert dates(text) == []


def test_exclusions_keep_the_real_dates_beside_them():
    text = "Under the Children Act 1989 a strategy meeting was held in 2013, see page 2014 and Working Together 2018."
    assert dates(text) == [("2013", "2013-01-01", "2013-12-31", "year")]
    assert dates("In 2000 children were taken into care.") == [("2000", "2000-01-01", "2000-12-31", "year")]
    assert dates("(In 2015 the family moved.)") == [("2015", "2015-01-01", "2015-12-31", "year")]
    assert dates("The child (born 2014) was seen.") == [("2014", "2014-01-01", "2014-12-31", "year")]
    assert dates("Seen in june 2015.") == [("june 2015", "2015-06-01", "2015-06-30", "month")]
    # "may" in lower case is the verb, never the month: only the year is left.
    assert dates("Seen in may 2015.") == [("2015", "2015-01-01", "2015-12-31", "year")]
    # Two dates joined by "and" are two dates, not a range.
    assert dates("He was seen in March 2014 and June 2015.") == [
        ("March 2014", "2014-03-01", "2014-03-31", "month"),
        ("June 2015", "2015-06-01", "2015-06-30", "month"),
    ]
    # An impossible day is not a date; its month still is.
    assert dates("Seen on 29 February 2015.") == [("February 2015", "2015-02-01", "2015-02-28", "month")]
    # "may", the verb, is never a month; "May" is.
    assert dates("In May 2020 the school referred.") == [("May 2020", "2020-05-01", "2020-05-31", "month")]


# --------------------------------------------------------------------------- events on the seeds


def events(path: Path) -> list[tuple]:
    record = extract(read_document(path))
    return [
        (e.date_text, e.date_from, e.date_to, e.precision, e.text, e.agencies, e.family_members, e.evidence.section, e.case)
        for e in record.timeline
    ]


def test_child_x_timeline():
    assert events(SEEDS / S004) == [
        ("January 2014", "2014-01-01", "2014-01-31", "month",
         "Health Visitor did assess mother's mental health in January 2014, but it is not clear what assessment tool was used.",
         ["Health Visiting"], ["mother"], "good_practice", None),
        # One sentence, two dates that are not one range: one event per clause.
        ("summer 2015", "2015-06-01", "2015-08-31", "season",
         "Various incidents over the course of summer 2015", [], [], "methodology", None),
        ("July / August 2015", "2015-07-01", "2015-08-31", "range",
         "No Strategy Meetings undertaken (in July / August 2015) to share information in a multi-agency arena.",
         [], [], "findings", None),
        ("September 2015", "2015-09-01", "2015-09-30", "month",
         "Supervision not undertaken within relevant agencies to discuss the case and to unpick concerns until after the "
         "incident of concern (September 2015).", [], [], "findings", None),
        ("September 2015", "2015-09-01", "2015-09-30", "month",
         "Mother's presentation to A&E for Child X's incident in September 2015 was not in keeping with previous "
         "proportionate presentations.", ["Emergency Department"], ["mother", "child"], "findings", None),
        ("14 th September 2015", "2015-09-14", "2015-09-14", "day",
         "Section 47 on 14 th September 2015 led to the Review.", [], [], "methodology", None),
    ]


def test_child_x_completion_date_is_metadata():
    record = extract(read_document(SEEDS / S004))
    assert "Date Learning Summary completed\t13 th June 2016" in read_document(SEEDS / S004).text
    assert all("June 2016" not in e.date_text for e in record.timeline)
    assert [e.id for e in record.timeline] == [f"Child X/ev{i:03d}" for i in range(1, 7)]


def test_in14_timeline():
    assert events(SEEDS / S001) == [
        ("2013", "2013-01-01", "2013-12-31", "year",
         "Following disclosures by the children of abuse in 2013 child protection medicals were undertaken showing signs of "
         "sexual abuse.", [], [], "summary", None),
    ]


def test_learning_review_timeline():
    # The sibling's SCR being published is an event of this case (not this review's own date).
    assert events(SEEDS / S000) == [
        ("26th October 2015", "2015-10-26", "2015-10-26", "day",
         "The death of the sibling was subject of a Serious Case Review, JN15, which was published on 26th October 2015.",
         [], ["sibling"], "summary", None),
    ]


def test_newsletter_timeline_keeps_the_case():
    assert events(SEEDS / S002) == [
        ("August 2008", "2008-08-01", "2008-08-31", "month",
         "A young man with complex medical and learning needs who presented in crisis in August 2008 with multiple minor "
         "injuries.", [], ["child"], "case", "Child Three"),
        ("2012", "2012-01-01", "2012-12-31", "year",
         "Throughout his life to 2012, there were numerous occasions when there was limited engagement with professionals.",
         [], [], "case", "Child Three"),
        ("2012", "2012-01-01", "2012-12-31", "year",
         "This was more evident from 2012 onwards when services were better co-ordinated when there was a 'Lead "
         "Professional'.", [], [], "key_learning", "Child Three"),
    ]


def test_silr_timeline_leaves_out_the_heading_date_and_the_partnership():
    # "LEARNING THE LESSONS – October 2018" is the bulletin's heading, not an event; the
    # board that commissioned the review is the partnership, never an agency of the case.
    assert events(SEEDS / S003) == [
        ("2015", "2015-01-01", "2015-12-31", "year",
         "A Multi-Agency Serious Incident Learning Review was commissioned by Derbyshire Safeguarding Children Board in "
         "2015 following the sudden death of a 3 month old baby; considered by the Coroner's Court as being consistent "
         "with overlay.", ["Coroner"], ["baby"], "other", None),
    ]


def test_unseen_cspr_timeline():
    # "Published by the Anytown Safeguarding Children Partnership, March 2022" is metadata.
    assert events(DATA / "unseen_cspr.md") == [
        ("12 March 2020", "2020-03-12", "2020-03-12", "day",
         "On 12 March 2020 the health visitor completed a new birth visit.", ["Health Visiting"], [], "summary", None),
        ("3 April 2020", "2020-04-03", "2020-04-03", "day",
         "Police attended a domestic incident at the family home on 3 April 2020.", ["Police"], [], "summary", None),
    ]


def test_unseen_briefing_timeline():
    # "Sibling Group S (2021)" in the title is the review's name, not an event.
    assert events(DATA / "unseen_briefing.html") == [
        ("May 2020", "2020-05-01", "2020-05-31", "month",
         "The school made a referral to children's social care in May 2020.", ["Schools", "Children's Social Care"], [],
         "summary", None),
    ]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_event_quotes_the_text_at_its_span(path):
    doc = read_document(path)
    record = extract(doc)
    previous = None
    for e in record.timeline:
        ev = e.evidence
        assert doc.text[ev.start : ev.end] == ev.quote == e.quote == e.text
        assert doc.text[e.date_start : e.date_end] == e.date_text
        assert ev.start <= e.date_start < e.date_end <= ev.end
        assert (ev.raw_start, ev.raw_end) == doc.raw_span(ev.start, ev.end)
        assert dt.date.fromisoformat(e.date_from) <= dt.date.fromisoformat(e.date_to)
        key = (e.date_from, e.date_to, ev.start)
        assert previous is None or previous <= key  # chronological, then by place in the text
        previous = key
        assert set(e.agencies) <= {a.name for a in record.agencies}


# --------------------------------------------------------------------------- events: the rules


def timeline_of(tmp_path: Path, text: str, name: str = "review.md", today: dt.date | None = None) -> list[TimelineEvent]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    if today is None:
        return extract(read_document(path)).timeline
    from graph_model.extract import Layer, extract_metadata
    from graph_model.taxonomy import load_taxonomy

    doc = read_document(path)
    x = Layer(doc, load_taxonomy())
    return find_timeline(x.text, x.units, extract_metadata(doc)["id"], x.evidence, x.tax.sector, today=today)


DOC = """# Learning review: Child Q

## Summary of the case

{body}

## Recommendations

Recommendation 1: Police should audit strategy discussions by March 2019.
"""


def test_recommendation_deadlines_are_not_events(tmp_path):
    got = timeline_of(tmp_path, DOC.format(body="The GP saw the mother in May 2017 and noted her low mood."))
    assert [(e.date_text, e.text, e.agencies, e.family_members) for e in got] == [
        ("May 2017", "The GP saw the mother in May 2017 and noted her low mood.", ["GP"], ["mother"])
    ]


def test_two_dates_in_one_clause_share_the_sentence(tmp_path):
    body = "The health visitor saw the mother in March 2014 and June 2015 at home."
    got = timeline_of(tmp_path, DOC.format(body=body))
    assert [(e.date_text, e.text) for e in got] == [("March 2014", body), ("June 2015", body)]


def test_two_clauses_give_two_events_with_their_own_agencies(tmp_path):
    body = "Police attended the home on 3 May 2016; the school made a referral to children's social care in June 2016."
    got = timeline_of(tmp_path, DOC.format(body=body))
    assert [(e.date_text, e.text, e.agencies) for e in got] == [
        ("3 May 2016", "Police attended the home on 3 May 2016", ["Police"]),
        ("June 2016", "the school made a referral to children's social care in June 2016.", ["Schools", "Children's Social Care"]),
    ]


def test_a_date_across_a_full_stop_keeps_its_whole_sentence(tmp_path):
    # "Sept." ends a sentence for the sentence splitter; the event is both parts.
    body = "The family moved to Northampton in Sept. 2015 and the GP was not told."
    assert len(sentence_spans(body, 0, len(body))) == 2
    got = timeline_of(tmp_path, DOC.format(body=body))
    assert [(e.date_text, e.text) for e in got] == [("Sept. 2015", body)]


def test_equal_dates_keep_their_order_in_the_text(tmp_path):
    body = ("The school raised concerns in 2015. The GP saw the child in March 2015. "
            "The health visitor visited in 2015. The midwife visited in March 2015.")
    got = timeline_of(tmp_path, DOC.format(body=body))
    # By first day, then last day (the year 2015 starts before March 2015), then place in the text.
    assert [e.text for e in got] == [
        "The school raised concerns in 2015.",
        "The health visitor visited in 2015.",
        "The GP saw the child in March 2015.",
        "The midwife visited in March 2015.",
    ]


def test_future_dates_are_plans_not_events(tmp_path):
    body = "The mother was seen in January 2024. A review is planned for 2031."
    got = timeline_of(tmp_path, DOC.format(body=body), today=dt.date(2025, 6, 1))
    assert [e.date_text for e in got] == ["January 2024"]


def test_metadata_lines_are_not_events(tmp_path):
    padding = "The family had lived in the area for many years and were known to local services. " * 40
    text = ("Serious Case Review: Child R\n\nPublished 4 June 2019\n\n## Summary\n\n"
            "Date of publication: 4 June 2019\n\nVersion 2, updated 1 May 2019\n\n"
            "The mother was admitted to hospital on 2 March 2017.\n\n"
            "The SCR published in 2014 about her older brother found that agencies did not share what they knew.\n\n"
            f"{padding}\n\nReport date:\t5 July 2019\n\nThe assessment was completed in June 2017.\n")
    assert text.index("Report date") > 3000
    got = timeline_of(tmp_path, text)
    # Far from the front matter, "completed" in a sentence is an event; a "label: value" line is not.
    # A sentence that says "published" is still an event when it is not a short metadata line.
    assert [(e.date_text, e.text) for e in got] == [
        ("2014", "The SCR published in 2014 about her older brother found that agencies did not share what they knew."),
        ("2 March 2017", "The mother was admitted to hospital on 2 March 2017."),
        ("June 2017", "The assessment was completed in June 2017."),
    ]


# --------------------------------------------------------------------------- record, JSON and graph


def test_old_records_without_a_timeline_still_load():
    record = extract(read_document(SEEDS / S001))
    data = json.loads(record.model_dump_json())
    del data["timeline"]
    assert ReviewRecord.model_validate(data).timeline == []


def test_extract_json_carries_the_timeline(capsys):
    assert cli_main(["extract", str(DATA / "unseen_cspr.md"), "--format", "json"]) == 0
    review = json.loads(capsys.readouterr().out)["reviews"][0]
    first = review["timeline"][0]
    assert {k: first[k] for k in ("id", "date_text", "date_from", "date_to", "precision", "agencies", "family_members", "case")} == {
        "id": "Baby T/ev001", "date_text": "12 March 2020", "date_from": "2020-03-12", "date_to": "2020-03-12",
        "precision": "day", "agencies": ["Health Visiting"], "family_members": [], "case": None,
    }
    assert first["quote"] == first["text"] == first["evidence"]["quote"]
    assert first["evidence"]["section"] == "summary"


def test_graph_has_the_events_of_each_review():
    records = [extract(read_document(p)) for p in DOCUMENTS]
    g = build_graph(records)
    node = g.nodes["TimelineEvent:Baby T/ev002"]
    assert {k: node[k] for k in ("label", "id", "review_id", "date_text", "date_from", "date_to", "precision", "agencies", "section")} == {
        "label": "TimelineEvent", "id": "Baby T/ev002", "review_id": "Baby T", "date_text": "3 April 2020",
        "date_from": "2020-04-03", "date_to": "2020-04-03", "precision": "day", "agencies": "Police", "section": "summary",
    }
    assert node["text"] == node["quote"] == "Police attended a domestic incident at the family home on 3 April 2020."
    assert "case" not in node  # not a multi-case review
    events = [(u, v, d) for u, v, d in g.edges(data=True) if d["type"] == "HAS_EVENT"]
    assert len(events) == sum(len(r.timeline) for r in records) == 15
    assert all(u == f"Review:{d['review_id']}" for u, _v, d in events)
    mentions = sorted((u, v) for u, v, d in g.edges(data=True) if d["type"] == "MENTIONS_AGENCY")
    assert mentions == [
        ("TimelineEvent:Baby T/ev001", "Agency:Health Visiting"),
        ("TimelineEvent:Baby T/ev002", "Agency:Police"),
        ("TimelineEvent:Child X/ev001", "Agency:Health Visiting"),
        ("TimelineEvent:Child X/ev005", "Agency:Emergency Department"),
        ("TimelineEvent:SILR15b/ev001", "Agency:Coroner"),
        ("TimelineEvent:unseen-briefing/ev001", "Agency:Children's Social Care"),
        ("TimelineEvent:unseen-briefing/ev001", "Agency:Schools"),
    ]
    assert g.nodes["TimelineEvent:002-2b128cb0abd04d34/ev001"]["case"] == "Child Three"


def test_atom_skip_strings_are_in_every_match():
    """_atoms skips a date pattern in a window holding none of its needed strings
    (timeline._ATOM_NEEDS, written by hand beside the patterns): every match of the pattern
    must contain one, or an edited pattern would silently lose dates."""
    from graph_model.timeline import _ATOM_SCANS

    texts = [read_document(p).text for p in DOCUMENTS] + [
        "Seen on 2015-09-14, on 14/09/2015, on 4/9/15 and on 14.09.2015.",
        "In summer 2015, the spring of 2014, the autumn term 2016, winter 2015/16 and fall 2013.",
        "In early 2016, mid-2015, late 2014, at the end of 2015, the start of 2012, the beginning of 2011, "
        "the middle of 2010, the first half of 2016, the second half of 2017, the latter part of 2018.",
        "Over Christmas 2015, at Easter 2016 and the Christmas holidays of 2014.",
    ]
    for kind, pattern, needs in _ATOM_SCANS:
        if needs is None:
            continue
        matched = [m.group(0).lower() for text in texts for m in pattern.finditer(text)]
        assert matched, kind  # the check below has something to check
        assert [m for m in matched if not any(k in m for k in needs)] == [], kind
