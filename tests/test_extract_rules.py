"""Each extraction rule on sentences written for these tests (never copied from a review):
at least three phrasings of each, and the sentences a rule must leave alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_model.errors import TaxonomyError
from graph_model.extract import extract
from graph_model.read import read_document
from graph_model.taxonomy import load_taxonomy


def _record(tmp_path: Path, body: str, taxonomy=None):
    path = tmp_path / "review.txt"
    path.write_text("Learning review: Child Q\n\nSummary\n\n" + body + "\n", encoding="utf-8")
    return extract(read_document(path), taxonomy or load_taxonomy())


def _links(tmp_path: Path, body: str, taxonomy=None) -> list[tuple]:
    return [
        (x.source, x.target, x.status, x.directed, x.inferred_end)
        for x in _record(tmp_path, body, taxonomy).communication_links
    ]


CSC = "Children's Social Care"


@pytest.mark.parametrize(
    "body, want",
    [
        # the holder before the cue, the recipient after it
        ("The GP did not refer the family to children's social care.", ("GP", CSC)),
        ("The school failed to share its worries with the health visitor.", ("Schools", "Health Visiting")),
        ("Police did not notify the midwife of the arrest.", ("Police", "Midwifery")),
        ("A police officer failed to make a referral to social services after the call.", ("Police", CSC)),
        # the recipient first: "X was not told"
        ("The health visitor was not informed by the hospital of the discharge.", ("Hospital and Paediatrics", "Health Visiting")),
        ("The school was not made aware of the incident by the police.", ("Police", "Schools")),
        ("The GP was never told about the admission by the ward staff at the hospital.", ("Hospital and Paediatrics", "GP")),
        # asked and declined: the one who declined received, the asker sent
        ("The MASH declined the referral from the school.", ("Schools", "MASH")),
        ("Children's social care refused to accept the referral made by the GP.", ("GP", CSC)),
        ("CAMHS were reluctant to take the case on without more detail from the school nurse.", ("School Nursing", "CAMHS")),
        ("The referral from the school was declined by the MASH.", ("Schools", "MASH")),
        ("The GP's concerns were not taken into account by children's social care.", ("GP", CSC)),
        # acted without what the other held
        ("Children's social care closed the case without input from the GP.", ("GP", CSC)),
        ("The police made the decision without any information from the health visitor.", ("Health Visiting", "Police")),
        ("The midwife planned the discharge without advice from the perinatal mental health team.", ("Adult Mental Health", "Midwifery")),
        # a challenge not made
        ("The paediatrician was unable to challenge the police about the bail conditions.", ("Hospital and Paediatrics", "Police")),
        ("The inability of the health visitor to challenge children's social care left the concern unresolved.", ("Health Visiting", CSC)),
        # a finding reported by the review
        ("The health visitor was criticised for not passing the concerns to the GP.", ("Health Visiting", "GP")),
        ("There was no record in the GP notes despite conversations with the health visitor.", ("Health Visiting", "GP")),
    ],
)
def test_a_breakdown_with_both_ends_named(tmp_path, body, want):
    assert _links(tmp_path, body) == [(*want, "broken", True, None)]


@pytest.mark.parametrize(
    "body, pair",
    [
        ("Communication between the school and the GP was poor throughout.", ("Schools", "GP")),
        ("The hospital's and the police's failure to communicate left the child at risk.", ("Hospital and Paediatrics", "Police")),
        ("The health visitor and the GP disagreed about the threshold for a referral.", ("Health Visiting", "GP")),
        ("Housing and children's social care did not work together on the eviction.", ("Housing", CSC)),
    ],
)
def test_a_breakdown_between_two_agencies_has_no_direction(tmp_path, body, pair):
    assert _links(tmp_path, body) == [(*pair, "broken", False, None)]


@pytest.mark.parametrize(
    "body",
    [
        "Social workers, teachers and the GP failed to communicate with each other.",
        "The police, the school and the health visitor did not work together effectively.",
        "There was poor communication between agencies.",
    ],
)
def test_three_agencies_failing_together_is_a_finding_not_a_link(tmp_path, body):
    r = _record(tmp_path, body)
    assert r.communication_links == []
    assert len(r.missed_opportunities) == 1


@pytest.mark.parametrize(
    "body, missed_by",
    [
        ("The GP did not refer the family to children's social care.", "GP"),  # the holder
        ("The health visitor was not informed by the hospital of the discharge.", "Hospital and Paediatrics"),
        ("The MASH declined the referral from the school.", "MASH"),  # the one that declined
        ("Children's social care closed the case without input from the GP.", CSC),  # acted without it
    ],
)
def test_a_breakdown_is_missed_by_the_agency_that_failed(tmp_path, body, missed_by):
    r = _record(tmp_path, body)
    assert [m.agencies for m in r.missed_opportunities] in ([[missed_by]], [])


def test_more_than_one_link_in_a_sentence(tmp_path):
    assert _links(tmp_path, "The hospital did not inform the GP, and the GP did not inform the health visitor.") == [
        ("Hospital and Paediatrics", "GP", "broken", True, None),
        ("GP", "Health Visiting", "broken", True, None),
    ]
    assert _links(
        tmp_path, "The school did not tell the police; the police were not informed by the ambulance crew either."
    ) == [("Schools", "Police", "broken", True, None), ("Ambulance Service", "Police", "broken", True, None)]
    # the holder named in the first clause only
    assert _links(tmp_path, "The GP saw the bruise, but no referral was made to children's social care.") == [
        ("GP", CSC, "broken", True, None)
    ]


@pytest.mark.parametrize(
    "body, want",
    [
        # a consequence that follows names who went without
        ("A police report of the assault was not passed on. That meant the school never knew of it.",
         ("Police", "Schools", "target")),
        ("The discharge summary from the hospital was never shared. As a result the health visitor did not know.",
         ("Hospital and Paediatrics", "Health Visiting", "target")),
        # a sentence that points back at the one before
        ("Children's social care closed the case. The school was not told of this decision.",
         (CSC, "Schools", "source")),
        ("The hospital discharged the baby on a Friday. The health visitor was not informed of it.",
         ("Hospital and Paediatrics", "Health Visiting", "source")),
        # one left uninformed after information passed
        ("A notification was sent to the MASH. The health visitor was not told.", ("MASH", "Health Visiting", "source")),
        # the one who declined had dealt with the asker shortly before
        ("The school nurse contacted the MASH about bruising. She described the marks in detail. "
         "The MASH decided that the case did not meet the threshold.", ("School Nursing", "MASH", "source")),
        # a reported finding blamed the holder
        ("The review found failures by the school in sharing worries. The family moved twice that year. "
         "The worries were never referred to children's social care.", ("Schools", CSC, "source")),
    ],
)
def test_a_breakdown_with_one_end_found_around_it(tmp_path, body, want):
    source, target, inferred = want
    links = _record(tmp_path, body).communication_links
    broken = [(x.source, x.target, x.status, x.directed, x.inferred_end) for x in links if x.status == "broken"]
    # a breakdown told across two sentences is one link (beside it, a contact that did happen)
    assert broken == [(source, target, "broken", True, inferred)]
    assert [x.confidence for x in links if x.status == "broken"] == [0.45]


@pytest.mark.parametrize(
    "body, agencies",
    [
        # no other end anywhere: a missed opportunity of the named agency, never dropped
        ("A referral to CAMHS made in May received no response for six weeks.", []),
        ("The health visitor did not pass on the concerns.", ["Health Visiting"]),
        ("The family moved house. Children's social care were not informed of the move.", []),
    ],
)
def test_a_one_ended_breakdown_without_a_clear_other_end_stays_a_missed_opportunity(tmp_path, body, agencies):
    r = _record(tmp_path, body)
    assert r.communication_links == []
    assert [m.agencies for m in r.missed_opportunities] == [agencies]


@pytest.mark.parametrize(
    "body",
    [
        "Information should be shared between the police and the school.",
        "It is important that the GP informs the health visitor of every new birth.",
        "Agencies must ensure that the hospital notifies the GP of each discharge.",
        "The GP practice needs to refer concerns to children's social care promptly.",
    ],
)
def test_advice_that_information_should_pass_is_not_a_link(tmp_path, body):
    assert _links(tmp_path, body) == []


@pytest.mark.parametrize(
    "body, want",
    [
        ("The school contacted children's social care, but the referral was not accepted.", ("Schools", CSC)),
        ("The GP telephoned the MASH, which declined to take the referral.", ("GP", "MASH")),
        ("The health visitor referred the family to CAMHS; CAMHS refused the referral.", ("Health Visiting", "CAMHS")),
    ],
)
def test_a_rebuffed_contact_is_a_breakdown_not_an_effective_link(tmp_path, body, want):
    links = _links(tmp_path, body)
    assert (*want, "broken", True, None) in links or (*want, "broken", True, "source") in links
    assert all(status == "broken" for _s, _t, status, _d, _i in links)


@pytest.mark.parametrize(
    "body, want",
    [
        ("The police referred the family to children's social care.", ("Police", CSC)),
        ("The health visitor was informed by the GP about the bruise.", ("GP", "Health Visiting")),
        ("This incident had been referred to the council by the ambulance service.", ("Ambulance Service", CSC)),
        ("The child was referred to social services by the hospital's emergency department.", ("Emergency Department", CSC)),
        ("Children's social care relied on information from health professionals.", ("Health (unspecified)", CSC)),
    ],
)
def test_an_effective_link(tmp_path, body, want):
    assert _links(tmp_path, body) == [(*want, "effective", True, None)]


@pytest.mark.parametrize(
    "phrase, agency",
    [
        ("social services", CSC),
        ("the multi-agency safeguarding hub", "MASH"),
        ("health professionals", "Health (unspecified)"),
        ("healthcare workers", "Health (unspecified)"),
        ("doctors", "Health (unspecified)"),
        ("the nursery", "Early Years Settings"),
        ("the coroner", "Coroner"),
        ("the fostering service", "Fostering Services"),
        ("the primary care trust", "Primary Care Trusts"),
        ("voluntary organisations", "Non-statutory organisations (unspecified)"),
        ("the housing authority", "Housing"),
    ],
)
def test_agencies_named_by_their_people_or_generically(tmp_path, phrase, agency):
    r = _record(tmp_path, f"The review spoke with {phrase} about the family.")
    assert [a.name for a in r.agencies] == [agency]


def test_the_child_beside_a_baby_is_the_baby_unless_described_older(tmp_path):
    roles = {f.role for f in _record(tmp_path, "The baby was seen by the GP. The child was unwell.").family_members}
    assert roles == {"baby"}
    roles = {
        f.role
        for f in _record(tmp_path, "The baby was seen by the GP. Her brother, a child who was eight, was at school.").family_members
    }
    assert {"baby", "child", "sibling"} <= roles
    roles = {f.role for f in _record(tmp_path, "The child was seen by the GP in May.").family_members}
    assert roles == {"child"}


@pytest.mark.parametrize(
    "body, counted",
    [
        ("The review was published by the Anytown Safeguarding Children Partnership in May.", False),
        ("The Anytown Safeguarding Children Board published the review today.", False),
        ("There was no evidence that the LSCB escalation procedure was used by the school.", True),
        ("The Safeguarding Children Partnership has made changes to its training since the review.", True),
        ("The Anytown LSCB website holds the procedures.", False),
    ],
)
def test_the_partnership_is_an_agency_only_where_a_finding_or_an_action_is_about_it(tmp_path, body, counted):
    names = {a.name for a in _record(tmp_path, body).agencies}
    assert ("Safeguarding Partnership" in names) == counted


# --------------------------------------------------------------------------- cue data


def test_a_user_taxonomy_extends_a_cue_family(tmp_path):
    body = "The GP was kept in the dark by the hospital."
    assert _links(tmp_path, body) == []
    mine = tmp_path / "mine.yaml"
    mine.write_text("cues:\n  broken_recipient:\n    - '(?:was|were)\\s+kept\\s+in\\s+the\\s+dark\\b'\n", encoding="utf-8")
    assert _links(tmp_path, body, load_taxonomy(mine)) == [("Hospital and Paediatrics", "GP", "broken", True, None)]


@pytest.mark.parametrize(
    "cues, message",
    [
        ("deficit:\n    - 'the'", "matches a common word"),
        ("broken:\n    - '(?:)'", "matches empty text"),
        ("broken:\n    - '(unclosed'", "invalid regex"),
        ("ignored_family:\n    - 'kept\\s+out'", "unknown cue family 'ignored_family'"),
    ],
)
def test_cues_that_would_match_everything_or_nothing_are_refused(tmp_path, cues, message):
    mine = tmp_path / "bad.yaml"
    mine.write_text(f"cues:\n  {cues}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message) as err:
        load_taxonomy(mine)
    assert str(mine) in str(err.value)
