"""Which review this is (title, board, year, id) on texts written for these tests, and reviews
that share a code ("Child D" of two boards) built together.

Every text below was written for this file; none is taken from a published review.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from graph_model.commands import main
from graph_model.extract import extract
from graph_model.extract.metadata import Claim, extract_metadata, is_furniture, told_apart, with_id
from graph_model.pipeline import build, stored_records
from graph_model.read import read_document

DEVSET = Path(__file__).resolve().parent.parent.parent / "shared" / "devset"
THIS_YEAR = __import__("datetime").date.today().year


def meta(tmp_path: Path, text: str, name: str = "review.txt") -> dict:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return extract_metadata(read_document(path))


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- texts of two boards that both call their child "Child D"

NORTHBURY_2011 = """Executive Summary – Child D

Northbury Local Safeguarding Children Board

Published 2 March 2011

1. Child D was four months old when she was admitted to hospital with a fractured skull.
2. The health visitor was not informed of the admission by the hospital.
3. The GP did not share the father's history of violence with children's social care.
"""

GLENMOOR_2017 = """Significant Case Review: Child D

The Glenmoor Child Protection Committee commissioned this review in 2016.

Child D was found unresponsive at home in March 2017. The police had attended two incidents of
domestic abuse at the home, and these were not shared with the school nurse.
Recommendations for the committee follow in section 5; the actions are due by March 2019.
"""


def test_two_boards_with_the_same_child_code_build_together(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "northbury-exec-summary.txt").write_text(NORTHBURY_2011, encoding="utf-8")
    (docs / "glenmoor-scr.txt").write_text(GLENMOOR_2017, encoding="utf-8")
    code, _out, err = run(capsys, "build", docs, "--home", tmp_path / "ws", "--quiet")
    assert code == 0, err
    assert "Warning" not in err  # told apart by board and year: nothing to warn of
    records = {r.source: r for r in stored_records(tmp_path / "ws")}
    north, glen = records["northbury-exec-summary.txt"], records["glenmoor-scr.txt"]
    assert (north.id, north.board, north.year) == (
        "Child D (Northbury, 2011)", "Northbury Local Safeguarding Children Board", 2011
    )
    assert (glen.id, glen.board, glen.year, glen.review_type) == (
        "Child D (Glenmoor, 2017)", "Glenmoor Child Protection Committee", 2017, "SCR"
    )
    # Every fact's id moves with its review's.
    facts = [x.id for r in (north, glen) for x in (*r.learning_points, *r.missed_opportunities, *r.communication_links)]
    assert facts and all(f.startswith(("Child D (Northbury, 2011)/", "Child D (Glenmoor, 2017)/")) for f in facts)
    # Alone, each keeps its plain code: an id changes only where another review shares it.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(docs / "glenmoor-scr.txt", alone)
    assert extract(read_document(alone / "glenmoor-scr.txt")).id == "Child D"
    assert build([alone], home=tmp_path / "ws2", jobs=1).records[0].id == "Child D"


def test_the_same_code_board_and_year_in_two_files_is_told_apart_by_file_name_and_reported(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "child-d-overview.txt").write_text(NORTHBURY_2011, encoding="utf-8")
    (docs / "child-d-summary.txt").write_text(NORTHBURY_2011.replace("fractured skull", "broken arm"), encoding="utf-8")
    (docs / "glenmoor.txt").write_text(GLENMOOR_2017, encoding="utf-8")
    code, _out, err = run(capsys, "build", docs, "--home", tmp_path / "ws", "--quiet")
    assert code == 0, err
    assert (
        "Warning: child-d-overview.txt and child-d-summary.txt both claim review 'Child D' of Northbury, 2011; "
        "told apart as 'Child D (Northbury, 2011, child-d-overview)', 'Child D (Northbury, 2011, child-d-summary)'."
    ) in " ".join(err.split())
    assert sorted(r.id for r in stored_records(tmp_path / "ws")) == [
        "Child D (Glenmoor, 2017)",
        "Child D (Northbury, 2011, child-d-overview)",
        "Child D (Northbury, 2011, child-d-summary)",
    ]
    # sgraph extract tells them apart the same way, and says so.
    code, out, err = run(capsys, "extract", docs, "--format", "json")
    assert code == 0, err
    assert [r["id"] for r in json.loads(out)["reviews"]] == [
        "Child D (Northbury, 2011, child-d-overview)", "Child D (Northbury, 2011, child-d-summary)",
        "Child D (Glenmoor, 2017)",
    ]
    assert "both claim review 'Child D' of Northbury, 2011" in " ".join(err.split())


def test_the_same_text_twice_is_built_and_reported(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "b.txt"):
        (docs / name).write_text(GLENMOOR_2017, encoding="utf-8")
    code, _out, err = run(capsys, "build", docs, "--home", tmp_path / "ws", "--quiet")
    assert code == 0, err
    assert "a.txt and b.txt both claim review 'Child D' of Glenmoor, 2017 (the same text" in " ".join(err.split())
    assert sorted(r.id for r in stored_records(tmp_path / "ws")) == ["Child D (Glenmoor, 2017, a)", "Child D (Glenmoor, 2017, b)"]


def test_telling_apart_does_not_depend_on_the_order_of_the_documents():
    claims = [
        Claim("Child D", "x/report.pdf", "Northbury Safeguarding Children Board", 2011, "aa"),
        Claim("Child D", "y/report.pdf", "Northbury Safeguarding Children Board", 2011, "bb"),
        Claim("Child D", "glen.txt", "Glenmoor Child Protection Committee", None, "cc"),
        Claim("Child D", "bare.txt", None, None, "dd"),
        Claim("Child E", "e.txt", None, None, "ee"),
    ]
    ids, warnings = told_apart(claims)
    assert dict(zip((c.source for c in claims), ids, strict=True)) == {
        # The same file name in two folders: numbered in the order of their texts' hashes.
        "x/report.pdf": "Child D (Northbury, 2011, report) #1",
        "y/report.pdf": "Child D (Northbury, 2011, report) #2",
        "glen.txt": "Child D (Glenmoor)",
        "bare.txt": "Child D (bare)",  # no board, no year: its file's name
        "e.txt": "Child E",  # shares its id with no other review
    }
    assert len(warnings) == 1 and "x/report.pdf and y/report.pdf both claim review 'Child D'" in warnings[0]
    back, _ = told_apart(list(reversed(claims)))
    assert dict(zip((c.source for c in reversed(claims)), back, strict=True)) == dict(
        zip((c.source for c in claims), ids, strict=True)
    )


def test_with_id_moves_the_facts_ids(tmp_path):
    path = tmp_path / "northbury.txt"
    path.write_text(NORTHBURY_2011, encoding="utf-8")
    r = extract(read_document(path))
    moved = with_id(r, "Child D (Northbury, 2011)")
    assert moved.id == "Child D (Northbury, 2011)" and r.id == "Child D"
    assert [x.id.split("/")[1] for x in moved.communication_links] == [x.id.split("/")[1] for x in r.communication_links]
    assert all(x.id.startswith("Child D (Northbury, 2011)/") for x in (*moved.communication_links, *moved.timeline))


# -- titles


def test_page_furniture_is_never_the_title(tmp_path):
    text = """Skip to main content
Accept all cookies
Menu
Home > Safeguarding > Case reviews
Uploaded by records-office on 3 March 2019 · 412 views
Version 0 of 1.
https://example.org/reviews/child-k.pdf
Photo: A. Person/Agency

Learning from the review into Child K

Background

Child K was two years old when she was admitted to hospital. The nursery had raised
concerns about bruising with the health visitor.

Register now
Most Read
"""
    m = meta(tmp_path, text)
    assert (m["title"], m["id"]) == ("Learning from the review into Child K", "Child K")
    for line in ("Skip to content", "We use cookies on this site", "Register now to continue reading", "Most Read",
                 "Version 0 of 1.", "www.example.org/briefing", "Uploaded by admin on 12 May 2020", "Published 14th May 2015",
                 "Helen Smith (source: family photograph)", "Pic: Someone/PA Wire - Credit: PA", "14 May 2015"):
        assert is_furniture(line), line
    for line in ("Learning from the review into Child K", "Baby death review finds 'poor communication'",
                 "Home Office review finds failings", "Published review criticises council",
                 "Child's views ignored, 2015 review finds", "Register of concerns not kept"):
        assert not is_furniture(line), line


def test_a_briefing_opening_with_generic_headings_takes_the_heading_naming_it(tmp_path):
    text = """Background

Summary

Multi-agency learning: the review of baby Rowan's care

The review looked at the care of a baby in the months before his death in 2019. Midwives did not
share the mother's history with the health visitor.

Opportunities missed

The GP was not told of the discharge.
"""
    m = meta(tmp_path, text)
    assert m["title"] == "Multi-agency learning: the review of baby Rowan's care"
    assert m["year"] == 2019


def test_a_news_report_with_a_headline(tmp_path):
    text = """Eastbridge & Westholm

Baby's death review finds agencies failed to share concerns

Photo: Riverside hospital (Picture: Agency)

Agencies working with a family in Eastbridge failed to share concerns about a baby before she
died, a serious case review has found. The baby, known as Baby M, died in 2014.

The review, published by Eastbridge Safeguarding Children Board (ESCB) on 3 June 2016, found
that police did not pass on reports of violence to the health visitor.

Lack of action

The ESCB said it had accepted every recommendation.
"""
    m = meta(tmp_path, text)
    assert m == {
        "id": "Baby M",
        "title": "Baby's death review finds agencies failed to share concerns",
        "board": "Eastbridge Safeguarding Children Board",
        "review_type": "SCR",
        "year": 2016,
    }


def test_a_news_report_opening_with_prose_gets_a_title_from_its_type_and_code(tmp_path):
    text = """A baby was left with injuries after professionals missed chances to act, a review has found.
The Glenmoor Child Protection Committee published its Significant Case Review into the care of the
infant, referred to as Child R, this week. Another child, Child S, was also known to services.
Child R's health visitor had not been told that the family had moved.
"""
    m = meta(tmp_path, text)
    assert (m["id"], m["title"], m["board"], m["review_type"]) == (
        "Child R", "Significant Case Review \u2013 Child R", "Glenmoor Child Protection Committee", "SCR"
    )
    # Without a code, its first sentence, without the full stop.
    m = meta(tmp_path, "Agencies failed a teenager in care, a report has found. The council apologised.\n")
    assert m["title"] == "Agencies failed a teenager in care, a report has found"
    assert m["id"] == "review"


def test_a_report_cover_of_short_lines(tmp_path):
    """A report's cover: the board, the type, the code and the date on lines of their own."""
    text = """Northbury Local Safeguarding Children Board

Serious Case Review

Child D

Overview Report

March 2015

1. Introduction

1.1 Child D was seen by the GP in 2013 and by the health visitor in 2014.
"""
    m = meta(tmp_path, text)
    assert (m["title"], m["id"], m["board"], m["year"]) == (
        "Serious Case Review \u2013 Child D", "Child D", "Northbury Local Safeguarding Children Board", 2015
    )


def test_a_cover_in_capitals(tmp_path):
    text = """NORTHBURY AND WESTMARCH LOCAL SAFEGUARDING CHILDREN BOARD

SERIOUS CASE REVIEW \u2013 CHILD D

EXECUTIVE SUMMARY

Child D was seen by the GP in 2013.
"""
    m = meta(tmp_path, text)
    assert (m["id"], m["title"], m["board"], m["year"]) == (
        "Child D", "SERIOUS CASE REVIEW \u2013 CHILD D", "Northbury and Westmarch Local Safeguarding Children Board", 2013
    )
    # "BABY IN" of a title in capitals is no code.
    assert meta(tmp_path, "DEATH OF BABY IN HOSPITAL\n\nThe baby was seen in 2013.\n")["id"] == "review"


# -- boards


def test_board_names(tmp_path):
    # A bare "LSCB" names no board; a full name elsewhere does.
    assert meta(tmp_path, "Briefing\n\nThe LSCB asked agencies to report back.\n")["board"] is None
    assert meta(tmp_path, "Briefing\n\nThe Local Safeguarding Children Board (LSCB) met.\n")["board"] is None
    text = "Briefing\n\nThe WSCB asked for this review.\n\nWestmarch Safeguarding Children Board, 2018.\n"
    assert meta(tmp_path, text)["board"] == "Westmarch Safeguarding Children Board"
    # A board's own acronym when no full name is given.
    assert meta(tmp_path, "Briefing\n\nThe NSCB asked agencies to report back.\n")["board"] == "NSCB"
    # Written in lower case by a news report; joined place names.
    text = "Review\n\nA review was carried out by the Kelby safeguarding children board after the death.\n"
    assert meta(tmp_path, text)["board"] == "Kelby Safeguarding Children Board"
    text = "Review\n\nThe review by Ashby and Thorne Local Safeguarding Children Board examined the case.\n"
    assert meta(tmp_path, text)["board"] == "Ashby and Thorne Local Safeguarding Children Board"
    text = "Review\n\nIt was published by Newton-upon-Wold Safeguarding Children Partnership.\n"
    assert meta(tmp_path, text)["board"] == "Newton-upon-Wold Safeguarding Children Partnership"
    text = "Review\n\nThe Isle of Skerry Children's Safeguarding Partnership published it.\n"
    assert meta(tmp_path, text)["board"] == "Isle of Skerry Children's Safeguarding Partnership"
    # Words before the place are not part of the board's name.
    text = "Review\n\nThe Independent Chair of Northbury Safeguarding Children Board said agencies had learned.\n"
    assert meta(tmp_path, text)["board"] == "Northbury Safeguarding Children Board"
    text = "Review\n\nYesterday Northbury Safeguarding Children Board published the review.\n"
    assert meta(tmp_path, text)["board"] == "Northbury Safeguarding Children Board"
    # Scotland's committees, also by their acronym alone.
    assert meta(tmp_path, "Review\n\nThe GCPC asked for it.\n")["board"] == "GCPC"


# -- years


def test_years(tmp_path):
    # The year it was published, over the years of the events it tells.
    text = "Review of Child P\n\nChild P was born in 2012 and died in 2013.\nThe review was published on 4 May 2015.\n"
    assert meta(tmp_path, text)["year"] == 2015
    # A citation's year.
    text = "Case summaries\n\nChild P. Westmarch: Westmarch Safeguarding Children Board. Author, A. (2014)\nIn 2016 a film was made.\n"
    assert meta(tmp_path, text)["year"] == 2014
    # Else the latest year the text mentions, never one still to come.
    text = f"Review of Child P\n\nChild P was seen in 2012 and 2013. The plan runs until {THIS_YEAR + 5}.\n"
    assert meta(tmp_path, text)["year"] == 2013
    # A deadline is no year of the review, unless it is the only year given.
    text = "Review of Child P\n\nChild P was seen in 2012. Agencies must report back by March 2016.\n"
    assert meta(tmp_path, text)["year"] == 2012
    assert meta(tmp_path, "Review of Child P\n\nAgencies must report back by March 2016.\n")["year"] == 2016
    assert meta(tmp_path, "Review of Child P\n\nNo dates are given.\n")["year"] is None


# -- the development set of real texts, built together


@pytest.mark.skipif(not (DEVSET / "docs").is_dir(), reason="../shared/devset is not on this machine")
def test_the_devset_texts_build_together_into_one_workspace(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    for doc in sorted((DEVSET / "docs").glob("*.txt")):
        (docs / doc.name).write_text(doc.read_text(encoding="utf-8").split("\n\n", 1)[1], encoding="utf-8")
    code, _out, err = run(capsys, "build", docs, "--home", tmp_path / "ws", "--quiet")
    assert code == 0, err
    records = stored_records(tmp_path / "ws")
    assert len(records) == len(list(docs.iterdir())) == 17
    assert len({r.id for r in records}) == 17
    titles = {r.title for r in records}
    assert not titles & {"Skip to content", "Background", "Opportunities missed"}
    assert all(r.year is None or 1989 <= r.year <= THIS_YEAR for r in records)
    assert "LSCB" not in {r.board for r in records}
