"""Extraction on the five seed documents, checked against what each document says.

Every expectation below was verified by reading the seed document itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_model.extract import extract, item_spans, sentence_spans
from graph_model.read import read_document
from graph_model.taxonomy import load_taxonomy

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
S000 = "000_d5bcbe7d1a8f4ecb.txt"
S001 = "001_58071196eda5a159.txt"
S002 = "002_2b128cb0abd04d34.txt"
S003 = "003_050a913a287adf6b.txt"
S004 = "004_cd261efeb7acd646.txt"


@pytest.fixture(scope="module")
def records():
    return {name: extract(read_document(SEEDS / name)) for name in (S000, S001, S002, S003, S004)}


def test_seed_folder_holds_the_five_documents():
    assert sorted(p.name for p in SEEDS.iterdir()) == [S000, S001, S002, S003, S004]


@pytest.mark.parametrize(
    ("seed", "rid", "rtype", "year", "board"),
    [
        # The learning review follows SCR JN15 (the sibling's review): JN15 is not its own code.
        (S000, "000-d5bcbe7d1a8f4ecb", "learning review", 2015, "NSCB"),
        (S001, "IN14", "SCR", 2013, "NSCB"),
        # "The Local Safeguarding Children Board (LSCB)" names no place: no board is named.
        (S002, "002-2b128cb0abd04d34", "special practice review", 2012, None),
        (S003, "SILR15b", "SILR", 2018, "Derbyshire Safeguarding Children Board"),
        (S004, "Child X", "learning summary", 2016, None),
    ],
)
def test_metadata(records, seed, rid, rtype, year, board):
    r = records[seed]
    assert (r.id, r.review_type, r.year, r.board) == (rid, rtype, year, board)


def test_titles(records):
    assert records[S001].title == "Serious Case Review IN14"
    assert records[S003].title == "SILR15b: Multi-Agency Serious Incident Learning Review"
    assert records[S004].title == "Learning Summary – Child X"
    assert records[S002].title == "Special Practice Review Newsletter"


def test_multi_case_newsletter_has_one_case_per_child(records):
    assert [c.name for c in records[S002].cases] == ["Child One", "Child Two", "Child Three"]
    assert all(not records[s].cases for s in (S000, S001, S003, S004))


EXPECTED_AGENCIES = {
    S000: {"Adult Mental Health", "Police"},
    S001: {"Hospital and Paediatrics"},
    S002: {
        "Adult Social Care",
        "CAMHS",
        "Children's Social Care",
        "Community Health Services",
        "Hospital and Paediatrics",
        "Police",
        "Safeguarding Partnership",  # addressee of the subgroup recommendations
        "Schools",
    },
    # The Coroner's Court that found the death consistent with overlay (the taxonomy gained
    # the coroner in issue 17).
    S003: {"Children's Social Care", "Coroner", "Hospital and Paediatrics", "Police", "Schools"},
    S004: {
        "Adult Mental Health",
        "Adult Social Care",
        "Children's Social Care",
        "Early Help Services",
        "Emergency Department",
        "GP",
        "Health Visiting",
        "Hospital and Paediatrics",
        "Police",
    },
}


@pytest.mark.parametrize("seed", sorted(EXPECTED_AGENCIES))
def test_agencies(records, seed):
    assert {a.name for a in records[seed].agencies} == EXPECTED_AGENCIES[seed]


def test_mental_health_act_is_not_an_agency_but_the_treating_team_is(records):
    ev = {a.name: a.evidence for a in records[S000].agencies}["Adult Mental Health"]
    assert [e.quote for e in ev] == [
        "The child's mother became well much sooner than was expected by all professionals involved, "
        "other than the mental health professionals who were treating her."
    ]


EXPECTED_ROLES = {
    S000: {("child", None), ("mother", None), ("sibling", None)},
    S001: {("child", None), ("mother", None), ("other adult", None), ("parents", None)},
    S002: {
        ("carer", "Child One"),
        ("carer", "Child Three"),
        ("child", "Child One"),
        ("child", "Child Two"),
        ("child", "Child Three"),
        ("mother", "Child One"),
        ("parents", "Child Three"),
        ("sibling", "Child Three"),
    },
    # "no male adult lived in the household": negated, so no other adult. The child at the
    # centre is a 3-month-old baby and "the eldest child" is a sibling: no "child" role.
    S003: {("baby", None), ("mother", None), ("parents", None), ("sibling", None)},
    S004: {
        ("child", None),
        ("extended family", None),
        ("father", None),
        ("grandparent", None),
        ("mother", None),
        ("other adult", None),
        ("parents", None),
    },
}


@pytest.mark.parametrize("seed", sorted(EXPECTED_ROLES))
def test_family_roles(records, seed):
    assert {(m.role, m.case) for m in records[seed].family_members} == EXPECTED_ROLES[seed]


EXPECTED_LINKS = {
    S000: set(),
    S001: set(),
    S002: set(),
    S003: {("Police", "Children's Social Care", "effective", True)},
    S004: {
        ("Adult Mental Health", "Health Visiting", "broken", True),
        ("GP", "Children's Social Care", "broken", True),
        ("Hospital and Paediatrics", "Adult Mental Health", "broken", True),
        ("GP", "Children's Social Care", "effective", True),
        ("Adult Social Care", "Adult Mental Health", "broken", False),
    },
}


@pytest.mark.parametrize("seed", sorted(EXPECTED_LINKS))
def test_communication_links(records, seed):
    got = {(x.source, x.target, x.status, x.directed) for x in records[seed].communication_links}
    assert got == EXPECTED_LINKS[seed]


def test_link_quotes_are_the_sentences_that_say_so(records):
    quotes = {(x.source, x.target, x.status): x.quote for x in records[S004].communication_links}
    assert quotes[("Adult Mental Health", "Health Visiting", "broken")].startswith(
        "No formal discharge plan provided to Health Visiting Team when mother was discharged"
    )
    assert quotes[("GP", "Children's Social Care", "effective")] == (
        "Duty Social Worker visited the home (unannounced) once telephone call from GP was received."
    )
    link = records[S004].communication_links[1]
    assert link.evidence.section == "findings"


def _lp(record, prefix):
    found = [p for p in record.learning_points if p.text.startswith(prefix)]
    assert len(found) == 1, (prefix, [p.text[:60] for p in record.learning_points])
    return found[0]


def test_learning_points_sample(records):
    p = _lp(records[S000], "If a decision is made not to proceed to Initial Child Protection Conference")
    assert p.kind == "key_learning" and "Strategy meetings and section 47 enquiries" in p.themes
    p = _lp(records[S000], "All professionals should ensure that any legal implications")
    assert p.all_agencies and p.agencies == ["Adult Mental Health", "Police"]
    p = _lp(records[S001], "The on-call Consultant Paediatrician for child protection")
    assert (p.kind, p.agencies, p.all_agencies) == ("key_learning", ["Hospital and Paediatrics"], False)
    p = _lp(records[S002], "Police - if there is a child present during a domestic dispute")
    assert (p.kind, p.agencies, p.case) == ("recommendation", ["Police"], "Child One")
    assert "Domestic abuse" in p.themes
    p = _lp(records[S002], "All - when passing information to another agency")
    assert p.kind == "recommendation" and p.all_agencies and "Information sharing" in p.themes
    p = _lp(records[S002], "Learning and Improvement Group - Revise and update the training")
    assert (p.agencies, p.case) == (["Safeguarding Partnership"], "Child Three")
    # The Child Three table: "Good Practice" column vs "Learning Points" column.
    assert _lp(records[S002], "The commitment to safeguard was shared by all agencies").kind == "good_practice"
    assert _lp(records[S002], "Parenting capacity was never assessed properly.").kind == "key_learning"
    p = _lp(records[S003], "To ensure all practitioners and managers understand the messages around baby safer sleep")
    assert p.kind == "key_learning" and "Safe sleep" in p.themes
    # "it is important that all multi-agency partners are aware of the learning themes below":
    # every lesson of SILR15b is for all agencies.
    assert all(p.all_agencies for p in records[S003].learning_points)
    assert records[S003].learning_points[0].agencies == [
        "Children's Social Care", "Coroner", "Hospital and Paediatrics", "Police", "Schools"
    ]
    assert _lp(records[S002], "The commitment to safeguard was shared by all agencies").all_agencies
    assert _lp(records[S004], "Mother engaged with the Health Visitor and Family Support Worker.").agencies == [
        "Early Help Services",
        "Health Visiting",
    ]
    assert _lp(records[S004], "Safeguarding Supervision takes place for Health Visitors.").kind == "learning_taken"
    assert _lp(records[S004], "No formal discharge plan provided").kind == "finding"


def test_no_learning_point_from_instructions_or_empty_markers(records):
    texts = [p.text for r in records.values() for p in r.learning_points]
    assert not any(t.startswith("(") for t in texts)
    assert not any("No single agency learning points were identified" in t for t in texts)
    assert not any(t.startswith("Here are some suggestions") for t in texts)
    # Table row labels are not learning points.
    assert "Transition Issues" not in texts


def test_learning_kinds_count(records):
    kinds = {}
    for p in records[S004].learning_points:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    # 23 concerns/findings, 7 good practice, 3 learning already taken, 8 multi-agency learning
    # points; the form's closing questions ("How will you audit the impact?") are not learning.
    assert kinds == {"finding": 23, "good_practice": 7, "learning_taken": 3, "key_learning": 8}


def _mo(record, prefix):
    found = [m for m in record.missed_opportunities if m.quote.startswith(prefix)]
    assert len(found) == 1, (prefix, [m.quote[:60] for m in record.missed_opportunities])
    return found[0]


def test_missed_opportunities_sample(records):
    m = _mo(records[S000], "Communication difficulties were exacerbated by an early decision not to proceed")
    assert m.agencies == []
    m = _mo(records[S001], "Although concerns were raised on several occasions professionals")
    assert m.family_members == []
    # The link's source missed it; CSC would have received the referral.
    m = _mo(records[S004], "Child X seen by GP four days prior to presentation at A&E")
    assert m.agencies == ["GP"]
    assert m.family_members == ["child"]
    m = _mo(records[S004], "No formal discharge plan provided to Health Visiting Team")
    assert m.agencies == ["Adult Mental Health"]
    # "Health Visitor noted this, but it was not considered": credited, not blamed.
    assert _mo(records[S004], "Health Visitor noted this, but it was not considered").agencies == []
    # "Concerns from Social Worker …, but deemed … so did not escalate": the same subject.
    assert _mo(records[S004], "Concerns from Social Worker regarding Mother's mental health").agencies == [
        "Children's Social Care"
    ]
    m = _mo(records[S004], "There was not sufficient consideration of father leaving prison")
    assert m.family_members == ["father", "extended family", "mother", "child"]
    m = _mo(records[S004], "Disguised compliance (mother) not considered by agencies.")
    assert m.family_members == ["mother"] and "Disguised compliance and non-engagement" in m.themes
    assert _mo(records[S002], "Parenting capacity was never assessed properly.").case == "Child Three"


def test_prescriptive_sentences_are_not_missed_opportunities(records):
    quotes = [m.quote for r in records.values() for m in r.missed_opportunities]
    assert not any(q.startswith("If a decision is made not to proceed") for q in quotes)
    assert not any("needs to be more effective" in q for q in quotes)
    # A parent's own behaviour with no professional act in it is not a missed opportunity.
    assert not any(q.startswith("In addition it was known that mum and baby were sleeping") for q in quotes)
    assert len(records[S004].missed_opportunities) == 22


def test_every_quote_is_verbatim_with_its_span(records):
    for name, r in records.items():
        doc = read_document(SEEDS / name)
        evidence = [e for a in r.agencies for e in a.evidence]
        evidence += [e for f in r.family_members for e in f.evidence]
        evidence += [e for t in r.themes for e in t.evidence]
        evidence += [e for c in r.cases for e in c.evidence]
        evidence += [p.evidence for p in r.learning_points]
        evidence += [m.evidence for m in r.missed_opportunities]
        evidence += [x.evidence for x in r.communication_links]
        assert len(evidence) > 10
        for e in evidence:
            assert doc.text[e.start : e.end] == e.quote
            # The raw span covers the same words in the file's own text.
            raw = doc.raw[e.raw_start : e.raw_end]
            assert raw[:1] == e.quote[:1] and raw[-1:] == e.quote[-1:]
        for p in r.learning_points:
            assert p.quote == p.evidence.quote and p.quote in doc.text
        for m in r.missed_opportunities:
            assert m.quote == m.evidence.quote
        for x in r.communication_links:
            assert x.quote == x.evidence.quote


def test_ids_are_unique_and_stable(records):
    for r in records.values():
        ids = [p.id for p in r.learning_points] + [m.id for m in r.missed_opportunities]
        ids += [x.id for x in r.communication_links]
        assert len(ids) == len(set(ids))
    again = extract(read_document(SEEDS / S004))
    assert again == records[S004]


def test_items_split_flattened_lists():
    text = "Intro\n– First point here. – Second point, with a dash – inside. \u2022 Third"
    spans = [text[s:e] for s, e in item_spans(text)]
    assert spans == ["Intro", "First point here.", "Second point, with a dash – inside.", "Third"]
    title = "Learning Summary – Child X"
    assert [title[s:e] for s, e in item_spans(title)] == [title]


def test_sentences_respect_abbreviations():
    text = "Seen by Dr. Smith at A&E. No referral was made, e.g. to CSC. Done"
    assert [text[s:e] for s, e in sentence_spans(text, 0, len(text))] == [
        "Seen by Dr. Smith at A&E.",
        "No referral was made, e.g. to CSC.",
        "Done",
    ]


def test_general_patterns_on_unseen_wording():
    """Phrasings not in any seed: the rules are patterns, not copied sentences."""
    from graph_model.models import Document

    text = (
        "LOCAL CHILD SAFEGUARDING PRACTICE REVIEW: CHILD Q\n\n"
        "Findings\n"
        "The midwife did not share the concerns about domestic abuse with the health visitor.\n"
        "Information was shared by the school nurse with the GP promptly.\n"
        "The paramedics did not inform the duty social worker about the injury.\n"
        "Probation and the police disagreed about the risk posed by the stepfather and this was unresolved.\n"
        "Recommendations\n"
        "Housing - notify children's social care of every eviction involving a child.\n"
    )
    doc = Document(
        path="x.txt", name="x.txt", format="txt", raw=text, text=text,
        offsets=list(range(len(text) + 1)), sections=read_sections(text), sha256="0",
    )
    r = extract(doc, load_taxonomy())
    assert r.review_type == "CSPR"
    links = {(x.source, x.target, x.status) for x in r.communication_links}
    assert links == {
        ("Midwifery", "Health Visiting", "broken"),
        ("School Nursing", "GP", "effective"),
        ("Probation", "Police", "broken"),
        ("Ambulance Service", "Children's Social Care", "broken"),
    }
    rec = [p for p in r.learning_points if p.kind == "recommendation"]
    assert [(p.agencies, p.all_agencies) for p in rec] == [(["Housing"], False)]
    assert ("partner", None) in {(m.role, m.case) for m in r.family_members}


def read_sections(text):
    from graph_model.read import detect_sections

    return detect_sections(text)


def test_a_full_report_style_written_for_this_test():
    """A CSPR in markdown with numbered paragraphs (written for this test, not a seed)."""
    r = extract(read_document(Path(__file__).parent / "data" / "unseen_cspr.md"))
    assert (r.id, r.review_type, r.year, r.board) == (
        "Baby T", "CSPR", 2022, "Anytown Safeguarding Children Partnership"
    )
    assert [(x.source, x.target, x.status, x.inferred_end) for x in r.communication_links] == [
        ("Health Visiting", "GP", "broken", None),
        # the sentence's second clause: its holder named in the first
        ("Health Visiting", "Adult Mental Health", "broken", None),
        # told across two sentences: the decision was children's social care's
        ("Children's Social Care", "Health Visiting", "broken", "source"),
    ]
    mos = {m.quote.split(".")[0]: m.agencies for m in r.missed_opportunities}
    # Paragraph numbers ("3.1") are not part of the quote; the uninformed one is not blamed.
    assert mos["The health visitor was not informed of this decision"] == []
    assert mos["Professionals did not consider the role of the mother's partner, who was not seen by any agency"] == []
    recs = [(p.agencies, p.all_agencies) for p in r.learning_points if p.kind == "recommendation"]
    assert recs == [(["Safeguarding Partnership"], False), (["Children's Social Care", "Police"], False)]
    # The partnership is an addressee, not an agency involved in the case.
    assert "Safeguarding Partnership" in {a.name for a in r.agencies}
    assert ("partner", None) in {(f.role, f.case) for f in r.family_members}


def test_a_seven_minute_briefing_in_html_written_for_this_test():
    """Question headings ("What did we learn?", "What needs to change?") and closing matter."""
    doc = read_document(Path(__file__).parent / "data" / "unseen_briefing.html")
    assert [(s.kind, s.heading) for s in doc.sections][2:] == [
        ("summary", "What happened?"),
        ("key_learning", "What did we learn?"),
        ("recommendations", "What needs to change?"),
        ("other", "Questions for practitioners"),
    ]
    r = extract(doc)
    assert r.review_type == "rapid review" and r.year == 2021
    assert {(x.source, x.target, x.status) for x in r.communication_links} == {
        ("Schools", "Children's Social Care", "effective"),
        ("Children's Social Care", "Schools", "broken"),
        ("Police", "Schools", "broken"),
    }
    kinds = [(p.kind, p.all_agencies) for p in r.learning_points]
    # The practitioners' question at the end is not a recommendation.
    assert kinds == [
        ("key_learning", False),
        ("key_learning", True),  # "Agencies must seek information …"
        ("key_learning", False),
        ("recommendation", False),
        ("recommendation", False),
    ]
    # "The GP was not asked for information": the GP is not blamed for it.
    assert {m.quote: m.agencies for m in r.missed_opportunities}["The GP was not asked for information."] == []
