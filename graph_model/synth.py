"""A deterministic synthetic corpus of safeguarding reviews, with its ground truth.

``generate_corpus(out_dir, n_reviews, seed)`` writes ``n_reviews`` review documents in the
style of published English reviews (full Child Safeguarding Practice Reviews, Serious Case
Reviews and learning reviews many pages long, and short learning bulletins) and
``ground_truth.json`` next to them: for every review id, the agencies it names, the
communication links it describes (source, target, status), and how many learning points
and missed opportunities it holds.

The documents are built from templates over the shipped taxonomy's vocabulary: agencies
under varied aliases and abbreviations ("the HV", "A&E", "CSC"), family roles, themes, and
links and missed opportunities written in varied natural sentences. Each review's title
carries its own code ("Child Safeguarding Practice Review CSPR0042"), so ids are unique.
Everything is drawn from ``random.Random`` seeded per review: the same seed gives the same
bytes (docx and pdf included: their timestamps are fixed).

How the ground truth is counted (the writing rules the generator keeps to):

- *agencies*: every agency named in the text, or addressed by a recommendation, except
  the safeguarding partnership itself;
- *links*: one per sentence that names two agencies and says that information passed (or
  failed to pass) between them; all other sentences name at most one agency, except the
  methodology's list of contributors (which says nothing about communication);
- *learning points*: one per paragraph or bullet under the findings, analysis, good
  practice, key learning, recommendations and learning-already-taken headings;
- *lessons*: for every learning point, in document order, its lesson family and the start
  of its text. Key learning bullets come from paraphrase families (``LESSON_FAMILIES``:
  one lesson worded several ways, family "K01"...) or are distractor lessons that share
  words with them but say something else ("D01"...); recommendations, good practice and
  learning already taken made from one template are one family per template; analysis
  paragraphs, findings and good-practice links (narrative, written from shared sentence
  templates) are each a family of their own, marked by a "/" in its id. :func:`score_similarity` scores SIMILAR_TO against it;
- *missed opportunities*: one per sentence in the narrative, findings or key learning that
  states a professional shortfall (a missed opportunity, something not done); filler
  sentences never state one.

The PDF text is Latin-1 only (fpdf2 core fonts): dashes and quotes are plain ASCII there.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

GROUND_TRUTH_FILE = "ground_truth.json"
DEFAULT_MIX: dict[str, float] = {"txt": 0.90, "docx": 0.07, "pdf": 0.03}
PDF_MAX_CHARS = 24_000  # PDFs are slow to write (fpdf2): keep them to about ten pages
_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

# ---------------------------------------------------------------------------------------
# Vocabulary. Agency phrases are aliases from graph_model/data/taxonomy.yaml, each with
# the article it takes and whether it reads as plural ("the police were").

AGENCY_PHRASES: dict[str, list[tuple[str, bool]]] = {
    "Children's Social Care": [
        ("children's social care", True), ("Children's Social Care", True), ("CSC", True), ("social services", False),
        ("the duty social worker", False), ("children's services", True), ("the allocated social worker", False),
        ("the first response team", False), ("the referral and assessment team", False),
    ],
    "Health Visiting": [
        ("the health visitor", False), ("the HV", False), ("the health visiting team", False),
        ("the 0-19 service", False), ("the health visiting service", False),
    ],
    "GP": [("the GP", False), ("the GP practice", False), ("the family doctor", False), ("the GP surgery", False)],
    "Emergency Department": [
        ("A&E", False), ("the emergency department", False), ("the urgent care centre", False),
        ("the minor injuries unit", False),
    ],
    "Hospital and Paediatrics": [
        ("the hospital", False), ("the consultant paediatrician", False), ("the paediatric team", False),
        ("the children's ward", False), ("the acute trust", False),
    ],
    "Midwifery": [("the midwife", False), ("the community midwife", False), ("the midwifery service", False)],
    "School Nursing": [("the school nurse", False), ("the school nursing service", False)],
    "CAMHS": [("CAMHS", True), ("the child and adolescent mental health service", False)],
    "Adult Mental Health": [
        ("the community mental health team", False), ("the CMHT", False), ("the perinatal mental health team", False),
        ("the psychiatrist", False), ("adult mental health services", True), ("the crisis team", False),
    ],
    "Adult Social Care": [("adult social care", True), ("ASC", True)],
    "Police": [
        ("the police", True), ("a police officer", False), ("the public protection unit", False), ("the PPU", False),
        ("the constabulary", False),
    ],
    "Schools": [
        ("the school", False), ("the primary school", False), ("the academy", False),
        ("the designated safeguarding lead", False), ("the head teacher", False), ("the secondary school", False),
    ],
    "Early Help Services": [
        ("the early help team", False), ("the family support worker", False), ("the children's centre", False),
    ],
    "Probation": [("the probation service", False), ("the offender manager", False), ("probation", True)],
    "Youth Justice": [("the youth offending team", False), ("the YOT", False), ("the youth justice service", False)],
    "Housing": [("the housing officer", False), ("the housing provider", False), ("the homelessness service", False)],
    "Substance Misuse Services": [("the drug and alcohol service", False), ("the substance misuse service", False)],
    "Domestic Abuse Services": [("the IDVA", False), ("the domestic abuse service", False), ("the refuge", False)],
    "Ambulance Service": [("the ambulance crew", False), ("the ambulance service", False), ("a paramedic", False)],
    "Cafcass": [("Cafcass", False), ("the children's guardian", False)],
}
# Addressees of recommendations ("Police – ...").
ADDRESSEES: dict[str, list[str]] = {
    "Children's Social Care": ["Children's Social Care", "CSC", "Children's Services"],
    "Health Visiting": ["Health Visiting", "Health Visiting Service"],
    "GP": ["GPs", "General Practice"],
    "Emergency Department": ["Emergency Department", "A&E"],
    "Hospital and Paediatrics": ["Acute Trust", "Hospital Trust"],
    "Midwifery": ["Midwifery", "Maternity Services"],
    "School Nursing": ["School Nursing"],
    "CAMHS": ["CAMHS"],
    "Adult Mental Health": ["Adult Mental Health Services", "Mental Health Trust"],
    "Adult Social Care": ["Adult Social Care"],
    "Police": ["Police", "Police Service"],
    "Schools": ["Schools", "Education Services"],
    "Early Help Services": ["Early Help Service"],
    "Probation": ["Probation", "Probation Service"],
    "Youth Justice": ["Youth Justice Service", "Youth Offending Team"],
    "Housing": ["Housing Services", "Housing"],
    "Substance Misuse Services": ["Drug and Alcohol Services"],
    "Domestic Abuse Services": ["Domestic Abuse Services"],
    "Ambulance Service": ["Ambulance Service"],
    "Cafcass": ["Cafcass"],
}
# Agencies by how often they appear in reviews (social care, health and police most).
AGENCY_WEIGHTS: dict[str, int] = {
    "Children's Social Care": 10, "Health Visiting": 7, "GP": 7, "Police": 8, "Schools": 6,
    "Emergency Department": 4, "Hospital and Paediatrics": 4, "Midwifery": 4, "Early Help Services": 4,
    "Adult Mental Health": 4, "CAMHS": 2, "Housing": 3, "Substance Misuse Services": 2,
    "Domestic Abuse Services": 3, "Probation": 2, "Youth Justice": 1, "Adult Social Care": 1,
    "School Nursing": 2, "Ambulance Service": 2, "Cafcass": 1,
}

PLACES = [
    "Northshire", "Westmoor", "Eastbridge", "Kingsford", "Ashdale", "Brackenfield", "Calder Vale", "Dunmore",
    "Elmstead", "Fairholme", "Greystone", "Harrowfield", "Ironbridge", "Juniper Bay", "Kestrel Downs",
    "Longmead", "Marshwood", "Newhaven Vale", "Oakhampton", "Pennington", "Queensbury", "Ravensworth",
    "Southwold Cross", "Thornbury", "Upton Heath", "Valebrook", "Whitcombe", "Yarrowby", "Blackwater",
    "Redcliffe", "Stonebridge", "Millbrook", "Hollins Moor", "Coldwater", "Brightling", "Ferncastle",
]
BOARD_SUFFIX = ["Safeguarding Children Partnership", "Safeguarding Children Board", "Safeguarding Partnership"]
REVIEW_KINDS = [
    # (code prefix, title phrase, is a full report)
    ("CSPR", "Child Safeguarding Practice Review", True),
    ("LCSPR", "Local Child Safeguarding Practice Review", True),
    ("SCR", "Serious Case Review", True),
    ("LR", "Learning Review", True),
    ("LB", "Learning and Improvement Bulletin", False),
    ("MB", "7 Minute Briefing", False),
    ("BN", "Practice Learning Briefing Note", False),
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
NAMES = ["Amy", "Jayden", "Leo", "Poppy", "Ruby", "Tyler", "Kian", "Lily", "Mason", "Isla", "Noah", "Evie",
         "Harvey", "Maisie", "Oscar", "Freya", "Archie", "Ella", "Logan", "Sienna", "Theo", "Daisy", "Riley",
         "Holly", "Finley", "Megan", "Alfie", "Skye", "Reuben", "Willow"]
CHILD_ROLE = ["the baby", "the child", "the infant", "the toddler", "the young person", "the teenager"]
ADULTS = ["the mother", "the father", "the mother's partner", "the stepfather", "the maternal grandmother",
          "the parents", "mum", "dad", "the grandfather", "the aunt"]
ISSUES = [
    "domestic abuse", "parental alcohol use", "neglect", "the home conditions", "cannabis use",
    "the mother's mental health", "postnatal depression", "coercive control", "unsafe sleeping arrangements",
    "co-sleeping", "self-harm", "non-engagement", "disguised compliance", "the father's drug use",
    "the child's weight loss", "repeated bruising", "the family's debts", "missed health appointments",
]
TOPICS = [
    "safer sleep", "feeding routines", "the baby's weight", "budgeting", "the home conditions",
    "managing crying", "the family's finances", "bedtime routines", "the children's behaviour",
    "alcohol use", "the mother's low mood", "immunisations", "toilet training", "speech and language",
]
FEELINGS = ["tired", "anxious", "low", "settled", "overwhelmed", "positive about the future", "isolated"]

# ---------------------------------------------------------------------------------------
# Sentence templates. {a}/{A}: first agency phrase (lower / capitalised), {b}/{B}: second;
# {be_a}/{be_b}: was/were for it. Link templates carry (status, directed, states a
# shortfall): a broken link said with "not" is also a missed opportunity.

_EFFECTIVE_LINKS = [
    ("A referral was made by {a} to {b} about {issue}.", True),
    ("{A} made a referral to {b} after {adult} disclosed {issue}.", True),
    ("{A} shared information with {b} about {issue} on the same day.", True),
    ("{A} shared the information with {b} promptly and a plan was agreed.", True),
    ("Information from {a} was passed to {b} within 24 hours.", True),
    ("{A} liaised with {b} about the family's circumstances.", True),
    ("{B} received a call from {a} reporting concerns about {issue}.", True),
    ("{A} referred {child} to {b} for further assessment.", True),
    ("There was good communication between {a} and {b} throughout this period.", False),
    ("A joint visit was undertaken by {a} and {b} in {month}.", False),
    ("{A} and {b} worked closely together and shared their assessments.", False),
    ("{A} informed {b} that {adult} had moved to a new address.", True),
    ("{A} notified {b} of the incident the following morning.", True),
    ("Effective liaison between {a} and {b} meant that the visit took place quickly.", False),
]
_BROKEN_LINKS = [
    ("{A} did not share the information with {b}.", True, True),
    ("{A} did not share the concerns about {issue} with {b}.", True, True),
    ("No referral was made by {a} to {b} despite the concerns about {issue}.", True, True),
    ("The discharge plan was not sent from {a} to {b}.", True, True),
    ("{B} {be_b} not informed by {a} about the previous incidents.", True, True),
    ("{B} {be_b} not aware of the concerns held by {a}.", True, True),
    ("{A} failed to notify {b} when {adult} returned to the household.", True, True),
    ("Information held by {a} was not passed to {b} before the conference.", True, True),
    ("There was a disagreement between {a} and {b} about the threshold that remained unresolved.", False, False),
    ("Communication between {a} and {b} broke down during the assessment.", False, False),
    ("There was poor communication between {a} and {b} about the plan.", False, False),
    ("The referral from {a} did not result in a response from {b}.", True, True),
]
# One agency (or none); a professional shortfall, never prescriptive.
_MISSED = [
    "There was a missed opportunity for {a} to consider the impact of {issue} on {child}.",
    "{A} did not explore {adult}'s explanation of the injury.",
    "No strategy discussion was held after the {nth} referral.",
    "The risk posed by {adult} was not assessed by {a}.",
    "{Child} was not seen alone by {a} during this period.",
    "Professionals relied on {adult}'s self-report and the concerns were not escalated.",
    "There was no multi-agency plan to address {issue}.",
    "A referral to {a} was not made despite the concerns about {issue}.",
    "The assessment by {a} failed to take account of the history of {issue}.",
    "{A} did not follow up the missed appointments.",
    "The significance of {issue} was not recognised by the professionals involved.",
    "There was a missed opportunity to convene a strategy meeting in {month}.",
    "{A} did not consider whether {issue} placed {child} at risk.",
    "The case was closed by {a} without a review of the history.",
]
# One agency (or none), no shortfall, no cue of communication between agencies.
_FILLER_AGENCY = [
    "{A} visited the family home and discussed {topic} with {adult}.",
    "{A} saw {child} at a routine appointment and recorded that {child} appeared well.",
    "{Adult} attended an appointment with {a} and reported feeling {feeling}.",
    "{A} completed an assessment of the family's needs in {month}.",
    "{A} offered advice about {topic} and arranged a further visit.",
    "{A} recorded that the home was clean and that {child} was appropriately dressed.",
    "During the visit {a} weighed {child} and plotted the measurements on the growth chart.",
    "{A} held a team discussion about the family in {month}.",
    "The records of {a} show regular contact with the family during the spring.",
    "{A} continued to see {adult} every few weeks.",
]
_FILLER_PLAIN = [
    "{Adult} described the family's routines and said that things were going well.",
    "{Child} was described as a happy and sociable child who enjoyed playing outside.",
    "The family moved to a two bedroom flat in {month}.",
    "{Adult} spoke about the stress of caring for a young family.",
    "{Name} was born at full term and was a healthy weight.",
    "The maternal grandmother provided regular practical support.",
    "{Adult} started a new job in {month} and worked long shifts.",
    "{Name} enjoyed music and drawing and had a close relationship with an older sibling.",
    "The family had lived in the area for several years.",
    "Relatives later described {adult} as loving and attentive.",
    "The weeks before the incident were described by family members as calm.",
    "{Adult} told the reviewer that the family had found the period very difficult.",
]
_ANALYSIS_OPEN = [
    "This section considers how agencies responded to {issue}.",
    "The review considered the response of professionals to {issue} in detail.",
    "Practitioners told the review that their work with the family was shaped by {issue}.",
    "The theme of {theme} runs through the events described above.",
]
THEME_WORDS = [
    "professional curiosity", "information sharing", "escalation and professional challenge",
    "management oversight", "the voice of the child", "think family", "safer sleep", "risk assessment",
    "parental mental health", "domestic abuse", "neglect", "early help", "record keeping",
    "multi-agency working", "substance misuse", "disguised compliance",
]
# Key learning comes from paraphrase families: each family is one lesson worded several
# ways (the first wording is the family's plain statement). The family id ("K01"...) of
# every key learning bullet is in the ground truth, so that similarity linking can be
# scored: two bullets of different reviews say the same thing exactly when they share a
# family. Wordings name no agency and state no shortfall (they are prescriptive), so they
# change neither the agencies nor the missed opportunities of a review.
LESSON_FAMILIES: list[list[str]] = [
    [
        "Practitioners should remain professionally curious when explanations for {issue} are inconsistent.",
        "Professional curiosity matters: explanations that keep changing should be questioned rather than accepted at face value.",
        "When a parent's account of {issue} seems implausible, practitioners should respectfully probe and check it.",
        "Staff should stay curious and test inconsistent explanations rather than taking them on trust.",
    ],
    [
        "It is important that the voice of the child is recorded in every assessment.",
        "Every assessment should capture the child's own views, wishes and feelings in their words.",
        "The child's voice and daily lived experience must be written into each assessment.",
        "Practitioners should speak to the child and set down what the child says as part of every assessment.",
    ],
    [
        "Professionals must consider the impact of {issue} on the daily life of the child.",
        "Assessments should set out how {issue} affects the child's day to day life.",
        "The effect of {issue} on what the child experiences each day needs to be at the centre of planning.",
        "Practitioners should ask what daily life is like for a child living with {issue}.",
    ],
    [
        "Managers should ensure that supervision includes reflection on cases involving {issue}.",
        "Reflective supervision should give practitioners time to think critically about families affected by {issue}.",
        "Supervisors must make space in supervision sessions to reflect on complex cases, including {issue}.",
        "Case supervision ought to include reflective discussion, with managers challenging assumptions.",
    ],
    [
        "Practitioners need to be aware of the escalation policy when they disagree with a decision.",
        "Where professionals disagree about a decision they should use the resolving professional differences procedure.",
        "Disagreements between practitioners about thresholds should be escalated through the escalation procedure.",
        "Staff should know how to challenge decisions and escalate concerns when agreement cannot be reached.",
    ],
    [
        "Information should be shared with the lead professional whenever {issue} is identified.",
        "When {issue} comes to light the information must be passed promptly to the lead professional.",
        "The lead professional needs to be told straight away about any new information on {issue}.",
        "Sharing information about {issue} with the lead professional should happen as soon as it is known.",
    ],
    [
        "Assessments should always consider the role of fathers and male carers.",
        "Fathers and other men in the household must be included in assessments and plans.",
        "Practitioners should engage with male carers and assess the part they play in the child's life.",
        "The involvement of fathers, partners and other male carers needs to be understood in every assessment.",
    ],
    [
        "Safer sleep advice should be repeated at every contact and tailored to the family's circumstances.",
        "Safe sleeping messages need to be given at each contact and adapted to how the family actually lives.",
        "Advice about safer sleep for babies should be revisited at every visit, taking account of the family's situation.",
        "Practitioners should discuss safe sleep at each contact and check parents understand the risks of co-sleeping.",
    ],
    [
        "Practitioners should think family and consider how adults' needs affect the care of children.",
        "A think family approach means looking at how parents' own difficulties affect the care they give their children.",
        "Services for adults should consider the children in the household and how the adult's needs affect them.",
        "The needs of the adults in a family and the impact on the children's care should be considered together.",
    ],
    [
        "Contingency planning must be part of every child protection plan.",
        "Every child protection plan should include a contingency plan setting out what happens if things go wrong.",
        "Child protection plans need clear contingency arrangements in case the plan breaks down.",
        "Plans should always state the contingency: what will be done if the protective arrangements stop working.",
    ],
    [
        "Professionals should be aware that children can be more vulnerable at weekends and holidays.",
        "Children may be at greater risk over weekends and holiday periods when services are closed.",
        "Risk to children can increase at weekends and during holidays, and plans should cover those periods.",
        "Safety planning needs to take account of weekends and holidays, when children can be most vulnerable.",
    ],
    [
        "A neglect assessment tool should be used where there are concerns about {issue}.",
        "Where neglect is suspected, practitioners should complete the neglect toolkit or graded care profile.",
        "An evidence-based neglect tool helps practitioners assess cumulative harm linked to {issue}.",
        "Use of a structured neglect assessment tool should be routine when concerns about {issue} persist.",
    ],
]
# Lessons that share words with the families but say something else: each is its own
# family ("D01"...), so a link between one of these and a family wording is wrong.
DISTRACTOR_LESSONS: list[str] = [
    "Practitioners should record the views of brothers and sisters when a new baby joins the household.",
    "Interpreters should be booked for every meeting where a parent's first language is other than English.",
    "Managers should monitor caseloads so that newly qualified staff have protected time for training.",
    "Records of telephone calls should state who called, the time of the call and what was agreed.",
    "Practitioners should check the identity and address of every adult who joins the household.",
    "Transition planning for care leavers should begin well before their eighteenth birthday.",
    "Training on the impact of trauma should be part of the induction of every new member of staff.",
    "Parents should be given written information about appeals and complaints when a plan is made.",
    "Professionals should consider the cumulative impact of frequent house moves on a child's schooling.",
    "Case files should carry a single chronology that every practitioner updates after each contact.",
    "Commissioners should ensure that parenting programmes are available in the evenings and at weekends.",
    "Risk assessments of dogs kept in the home should be completed before a baby is born.",
]
# The sampler draws one family per key learning bullet from this list (its length fixes
# the random draws, which keeps the rest of every review, and its ground truth, unchanged).
_KEY_LEARNING = [family[0] for family in LESSON_FAMILIES]
DISTRACTOR_SHARE = 0.2  # share of key learning bullets that are distractor lessons
_GOOD_PRACTICE_ONE = [
    "{A} carried out thorough and timely assessments of {child}.",
    "{A} made unannounced visits and recorded the lived experience of {child}.",
    "{A} built a trusting relationship with {adult}.",
    "{A} responded quickly when {adult} asked for help.",
    "{A} used an interpreter for every contact with {adult}.",
]
_RECOMMENDATION_ALL = [
    "All – agencies to review their guidance on {issue} and report progress to the partnership.",
    "All – partner agencies to promote the escalation policy through training and supervision.",
    "All agencies to provide assurance that practitioners record the voice of the child.",
    "All – to be aware of the vulnerability of children under two years in families affected by {issue}.",
]
_RECOMMENDATION_ONE = [
    "{who} – to review the training offered to staff on {issue} within six months.",
    "{who} – to provide assurance that supervision records reflect the risks of {issue}.",
    "{who} – to audit a sample of cases for the quality of assessments of {issue}.",
    "{who}: to update the guidance for staff about {topic} and share it with the partnership.",
]
_RECOMMENDATION_PARTNERSHIP = [
    "The Safeguarding Partnership – to commission multi-agency training on {issue}.",
    "The Safeguarding Partnership – to seek assurance that the learning from this review has been embedded.",
]
_LEARNING_TAKEN = [
    "{who} has introduced a new supervision template which prompts discussion of {issue}.",
    "A multi-agency audit of cases involving {issue} has been completed.",
    "{who} has delivered briefings on the learning from this review to all frontline staff.",
]
_METHOD = [
    "The review was carried out using a systems methodology and was led by an independent reviewer.",
    "Agencies provided chronologies and analysis of their involvement with the family.",
    "A practitioner learning event was held and was attended by practitioners from {list}.",
    "The family were invited to contribute and their views are reflected in this report.",
    "The review covers the period from {month} {y0} to the incident in {month2} {y1}.",
]
NTH = ["second", "third", "fourth", "fifth"]


# ---------------------------------------------------------------------------------------
# Ground truth


@dataclass
class ReviewTruth:
    id: str
    file: str
    format: str
    kind: str
    board: str
    year: int
    chars: int = 0
    agencies: set[str] = field(default_factory=set)
    links: list[dict] = field(default_factory=list)
    learning_points: int = 0
    missed_opportunities: int = 0
    lessons: list[dict] = field(default_factory=list)  # per learning point: its family and text

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "kind": self.kind,
            "board": self.board,
            "year": self.year,
            "chars": self.chars,
            "agencies": sorted(self.agencies),
            "links": self.links,
            "learning_points": self.learning_points,
            "missed_opportunities": self.missed_opportunities,
            "lessons": self.lessons,
        }


@dataclass
class GroundTruth:
    """What the generated corpus contains, per review id."""

    out_dir: Path
    seed: int
    reviews: dict[str, dict]
    total_bytes: int
    seconds: float

    @property
    def path(self) -> Path:
        return self.out_dir / GROUND_TRUTH_FILE

    @property
    def files(self) -> list[Path]:
        return [self.out_dir / r["file"] for r in self.reviews.values()]

    @classmethod
    def load(cls, out_dir: str | os.PathLike[str]) -> GroundTruth:
        out = Path(out_dir)
        data = json.loads((out / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
        return cls(out, data["seed"], data["reviews"], data["total_bytes"], 0.0)


# ---------------------------------------------------------------------------------------
# Writing one review


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


class _Writer:
    """Builds one review as a list of blocks: ("h", text) headings, ("p", text) paragraphs,
    ("b", text) bullets, ("t", text) title lines; and counts its ground truth."""

    def __init__(self, rng: random.Random, truth: ReviewTruth, agencies: list[str], lesson_rng: random.Random | None = None):
        self.rng = rng
        # Which wording of a lesson family (or which distractor) is drawn from a stream of
        # its own, so the main stream - and everything else in the review - stays as it was.
        self.lesson_rng = lesson_rng or random.Random(f"{truth.id}:lessons")
        self.truth = truth
        self.agencies = agencies
        self.blocks: list[tuple[str, str]] = []
        self.size = 0
        self.name = rng.choice(NAMES)
        self.child = rng.choice([*CHILD_ROLE, self.name, self.name])
        self.issues = rng.sample(ISSUES, 4)

    # -- blocks ---------------------------------------------------------------------------
    def add(self, kind: str, text: str) -> None:
        self.blocks.append((kind, text))
        self.size += len(text) + 2

    # -- vocabulary -------------------------------------------------------------------------
    def phrase(self, agency: str) -> tuple[str, bool]:
        return self.rng.choice(AGENCY_PHRASES[agency])

    def fill(self, template: str, a: str | None = None, b: str | None = None) -> str:
        rng = self.rng
        values: dict[str, str] = {}
        if a is not None:
            pa, plural_a = self.phrase(a)
            values.update(a=pa, A=_cap(pa), be_a="were" if plural_a else "was")
            self.truth.agencies.add(a)
        if b is not None:
            pb, plural_b = self.phrase(b)
            values.update(b=pb, B=_cap(pb), be_b="were" if plural_b else "was")
            self.truth.agencies.add(b)
        adult = rng.choice(ADULTS)
        values.update(
            adult=adult, Adult=_cap(adult), child=self.child, Child=_cap(self.child), Name=self.name,
            issue=rng.choice(self.issues), topic=rng.choice(TOPICS), feeling=rng.choice(FEELINGS),
            month=rng.choice(MONTHS), nth=rng.choice(NTH), theme=rng.choice(THEME_WORDS),
        )
        return template.format(**values)

    def pair(self) -> tuple[str, str]:
        a, b = self.rng.sample(self.agencies, 2)
        return a, b

    def link(self, status: str | None = None, mo_section: bool = True) -> str:
        rng = self.rng
        a, b = self.pair()
        if status is None:
            status = "broken" if rng.random() < 0.5 else "effective"
        if status == "effective":
            template, directed = rng.choice(_EFFECTIVE_LINKS)
            shortfall = False
        else:
            template, directed, shortfall = rng.choice(_BROKEN_LINKS)
        # "{B} received a call from {a}": the source is still a.
        text = self.fill(template, a, b)
        self.truth.links.append({"source": a, "target": b, "status": status, "directed": directed})
        if shortfall and mo_section:
            self.truth.missed_opportunities += 1
        return text

    def missed(self) -> str:
        self.truth.missed_opportunities += 1
        return self.fill(self.rng.choice(_MISSED), self.rng.choice(self.agencies))

    def filler(self) -> str:
        rng = self.rng
        if rng.random() < 0.6:
            return self.fill(rng.choice(_FILLER_AGENCY), rng.choice(self.agencies))
        return self.fill(rng.choice(_FILLER_PLAIN))

    def paragraph(self, n: int, p_link: float, p_missed: float, mo_section: bool = True) -> str:
        rng = self.rng
        parts = []
        for _ in range(n):
            r = rng.random()
            if r < p_link:
                parts.append(self.link(mo_section=mo_section))
            elif r < p_link + p_missed and mo_section:
                parts.append(self.missed())
            else:
                parts.append(self.filler())
        return " ".join(parts)

    def dated_paragraph(self, year: int, p_link: float, p_missed: float) -> str:
        lead = f"In {self.rng.choice(MONTHS)} {year}, "
        body = self.paragraph(self.rng.randint(3, 7), p_link, p_missed)
        # "In March 2019, the health visitor ...": the first word loses its capital unless it
        # is an abbreviation or a proper noun.
        keep = body[:3].isupper() or body.startswith(
            ("Children's Social Care", "Cafcass", "CAMHS", "A&E", "CSC", "ASC", self.name)
        )
        return lead + (body if keep else body[:1].lower() + body[1:])

    # -- learning points --------------------------------------------------------------------
    def learning_point(self, text: str, family: str | None = None) -> str:
        """Count a learning point and record its lesson family (its own id when it belongs
        to none: an analysis paragraph or a finding says something of its own)."""
        self.truth.learning_points += 1
        # The first 100 characters are enough to find the point again (and keep the file small).
        self.truth.lessons.append({"family": family or f"{self.truth.id}/{self.truth.learning_points}", "text": text[:100]})
        return text

    def template_lesson(self, prefix: str, templates: list[str], template: str, text: str) -> str:
        """A learning point made from ``template``: the same template is the same lesson in
        any review, whoever it is addressed to and whichever issue it names (as a key
        learning family is one lesson whatever issue its wording names)."""
        return self.learning_point(text, f"{prefix}{templates.index(template) + 1}")

    def key_lesson(self, template: str) -> str:
        """A key learning bullet for the family whose plain wording is ``template``: one of
        the family's wordings, or (sometimes) a distractor lesson instead."""
        k = _KEY_LEARNING.index(template)
        if self.lesson_rng.random() < DISTRACTOR_SHARE:
            d = self.lesson_rng.randrange(len(DISTRACTOR_LESSONS))
            wording, family = DISTRACTOR_LESSONS[d], f"D{d + 1:02d}"
        else:
            wording, family = self.lesson_rng.choice(LESSON_FAMILIES[k]), f"K{k + 1:02d}"
        text = self.fill(wording)  # the same draws from the main stream whatever the wording
        return self.learning_point(text, family)


def _heading(style: int, number: int, text: str) -> str:
    if style == 0:
        return text
    if style == 1:
        return text.upper()
    if style == 2:
        return f"{number}. {text}"
    return f"## {text}"


def _bullet(style: int, number: int, text: str) -> str:
    return ("- ", "\u2022 ", f"{number}. ", "* ")[style] + text


def _write_report(w: _Writer, meta: dict, target: int) -> None:
    rng = w.rng
    hstyle = rng.randrange(4)
    bstyle = rng.randrange(4)
    year = meta["year"]
    sec = 0

    def h(text: str) -> None:
        nonlocal sec
        sec += 1
        w.add("h", _heading(hstyle, sec, text))

    h(rng.choice(["Introduction", "Introduction and context", "Summary"]))
    w.add("p", f"This {meta['title_phrase']} was commissioned by {meta['board']} following "
               f"{rng.choice(['the death of', 'serious harm to', 'a serious injury to'])} {w.name}, "
               f"a {rng.choice(['three month old', 'ten month old', 'two year old', 'six year old', '14 year old'])} "
               f"{rng.choice(['child', 'boy', 'girl'])}, in {rng.choice(MONTHS)} {year - 1}.")
    for _ in range(rng.randint(2, 4)):
        w.add("p", w.paragraph(rng.randint(3, 5), 0.0, 0.1))
    h(rng.choice(["Methodology", "Review process", "Terms of reference"]))
    listed = rng.sample(w.agencies, min(3, len(w.agencies)))
    names = [w.phrase(a)[0].removeprefix("the ").removeprefix("a ") for a in listed]
    w.truth.agencies.update(listed)
    for template in _METHOD:
        w.add("p", template.format(list=", ".join(names[:-1]) + " and " + names[-1], month=rng.choice(MONTHS),
                                   month2=rng.choice(MONTHS), y0=year - 3, y1=year - 1))
    h(rng.choice(["Family background", "Background", "Case background"]))
    for _ in range(rng.randint(2, 4)):
        w.add("p", w.paragraph(rng.randint(3, 6), 0.0, 0.0))
    h(rng.choice(["Summary of events", "Case summary", "What happened"]))
    chrono_end = target * 0.55
    y = year - 3
    while w.size < chrono_end:
        w.add("p", w.dated_paragraph(y, 0.12, 0.1))
        if rng.random() < 0.15 and y < year - 1:
            y += 1
    h(rng.choice(["Analysis of practice", "Analysis", "Findings and analysis"]))
    analysis_end = target * 0.85
    while w.size < analysis_end:
        opener = w.fill(rng.choice(_ANALYSIS_OPEN))
        w.add("p", w.learning_point(opener + " " + w.paragraph(rng.randint(4, 7), 0.15, 0.2)))
    h(rng.choice(["Findings", "Key findings", "Conclusions"]))
    for i in range(rng.randint(3, 6)):
        text = f"Finding {i + 1}. " + w.paragraph(rng.randint(2, 4), 0.2, 0.3)
        w.add("p", w.learning_point(text))
    _tail(w, rng, bstyle, h, full=True)


def _tail(w: _Writer, rng: random.Random, bstyle: int, h, full: bool) -> None:
    """Good practice, key learning, recommendations (and learning already taken)."""
    h(rng.choice(["Good practice", "What went well", "Examples of good practice"]))
    for i in range(rng.randint(2, 5 if full else 3)):
        if rng.random() < 0.4:
            text = w.link("effective", mo_section=False)
        else:
            template = rng.choice(_GOOD_PRACTICE_ONE)
            text = w.template_lesson("G", _GOOD_PRACTICE_ONE, template, w.fill(template, rng.choice(w.agencies)))
            w.add("b", _bullet(bstyle, i + 1, text))
            continue
        w.add("b", _bullet(bstyle, i + 1, w.learning_point(text)))
    h(rng.choice(["Key learning", "Learning points", "Key messages for practitioners", "Lessons learned"]))
    for i, template in enumerate(rng.sample(_KEY_LEARNING, rng.randint(3, 6 if full else 4))):
        w.add("b", _bullet(bstyle, i + 1, w.key_lesson(template)))
    h(rng.choice(["Recommendations", "Key actions and recommendations", "Recommendations for agencies"]))
    n = 0
    for template in rng.sample(_RECOMMENDATION_ALL, rng.randint(1, 3)):
        n += 1
        w.add("p", w.template_lesson("A", _RECOMMENDATION_ALL, template, w.fill(template)))
    for agency in rng.sample(w.agencies, min(len(w.agencies), rng.randint(1, 4 if full else 2))):
        n += 1
        who = rng.choice(ADDRESSEES[agency])
        w.truth.agencies.add(agency)
        template = rng.choice(_RECOMMENDATION_ONE)
        w.add("p", w.template_lesson("R", _RECOMMENDATION_ONE, template, w.fill(template.replace("{who}", who))))
    if rng.random() < 0.5:
        template = rng.choice(_RECOMMENDATION_PARTNERSHIP)
        w.add("p", w.template_lesson("P", _RECOMMENDATION_PARTNERSHIP, template, w.fill(template)))
    if full and rng.random() < 0.6:
        h(rng.choice(["Learning already taken", "Action already taken", "Changes already made"]))
        for i in range(rng.randint(1, 3)):
            agency = rng.choice(w.agencies)
            who = rng.choice(ADDRESSEES[agency])
            w.truth.agencies.add(agency)
            template = rng.choice(_LEARNING_TAKEN)
            text = w.template_lesson("T", _LEARNING_TAKEN, template, w.fill(template.replace("{who}", who)))
            w.add("b", _bullet(bstyle, i + 1, text))


def _write_bulletin(w: _Writer, meta: dict) -> None:
    rng = w.rng
    hstyle = rng.randrange(4)
    bstyle = rng.randrange(4)
    sec = 0

    def h(text: str) -> None:
        nonlocal sec
        sec += 1
        w.add("h", _heading(hstyle, sec, text))

    w.add("p", f"This briefing summarises the learning from a review commissioned by {meta['board']}.")
    h(rng.choice(["What happened", "Background", "Case summary"]))
    for _ in range(rng.randint(2, 4)):
        w.add("p", w.paragraph(rng.randint(3, 6), 0.2, 0.2))
    _tail(w, rng, bstyle, h, full=False)


def _review(
    index: int, seed: int, fmt: str, bulletin_share: float, max_report_chars: int | None = None
) -> tuple[ReviewTruth, list[tuple[str, str]]]:
    rng = random.Random(f"{seed}:{index}")
    full = rng.random() >= bulletin_share
    kinds = [k for k in REVIEW_KINDS if k[2] == full]
    prefix, title_phrase, _ = rng.choice(kinds)
    code = f"{prefix}{index:04d}"
    place = rng.choice(PLACES)
    board = f"{place} {rng.choice(BOARD_SUFFIX)}"
    year = rng.randint(2012, 2025)
    n_agencies = rng.randint(4, 9) if full else rng.randint(3, 5)
    names = list(AGENCY_WEIGHTS)
    weights = [AGENCY_WEIGHTS[n] for n in names]
    chosen: list[str] = []
    while len(chosen) < n_agencies:
        a = rng.choices(names, weights)[0]
        if a not in chosen:
            chosen.append(a)
    truth = ReviewTruth(code, f"{code}.{fmt}", fmt, "report" if full else "bulletin", board, year)
    w = _Writer(rng, truth, chosen, random.Random(f"{seed}:{index}:lessons"))
    subject = f"Child {rng.choice('ABCDEFGHJKLMNPQRSTVWXYZ')}" if rng.random() < 0.5 else w.name
    w.add("t", f"{title_phrase} {code}: {subject}")
    w.add("t", board)
    w.add("t", f"Published {rng.choice(MONTHS)} {year}")
    meta = {"board": board, "year": year, "title_phrase": title_phrase.lower() if full else "review"}
    if full:
        target = rng.randint(25_000, 130_000)
        if fmt == "pdf":
            target = min(target, PDF_MAX_CHARS)
        if max_report_chars:
            target = min(target, max_report_chars)
        _write_report(w, meta, target)
    else:
        _write_bulletin(w, meta)
    return truth, w.blocks


# ---------------------------------------------------------------------------------------
# Formats


def _as_text(blocks: list[tuple[str, str]]) -> str:
    lines: list[str] = []
    prev = None
    for kind, text in blocks:
        if kind == "b" and prev == "b":
            lines.append(text)
        else:
            if lines:
                lines.append("")
            lines.append(text)
        prev = kind
    return "\n".join(lines) + "\n"


_LATIN1 = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2019": "'", "\u2018": "'", "\u2022": "-",
                         "\u201c": '"', "\u201d": '"'})


def _write_pdf(blocks: list[tuple[str, str]]) -> bytes:

    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    pdf.set_producer("graph_model.synth")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    for kind, text in blocks:
        text = text.translate(_LATIN1)
        if kind in ("h", "t"):
            pdf.set_font("Helvetica", "B", 13 if kind == "h" else 15)
            pdf.multi_cell(0, 7, text.lstrip("# "), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        else:
            pdf.set_font("Helvetica", "", 10)
            pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    return bytes(pdf.output())


def _write_docx(blocks: list[tuple[str, str]]) -> bytes:
    import docx

    document = docx.Document()
    props = document.core_properties
    fixed = dt.datetime(2020, 1, 1)
    props.created = props.modified = props.last_printed = fixed
    props.author = props.last_modified_by = "graph_model.synth"
    props.revision = 1
    for kind, text in blocks:
        if kind == "t":
            document.add_heading(text, level=0 if not document.paragraphs else 1)
        elif kind == "h":
            document.add_heading(text.lstrip("# "), level=1)
        elif kind == "b":
            body = text.split(" ", 1)[1] if " " in text else text
            document.add_paragraph(body, style="List Bullet")
        else:
            document.add_paragraph(text)
    raw = io.BytesIO()
    document.save(raw)
    # Zip entries carry the time of writing: rewrite them with a fixed time.
    fixed_zip = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(fixed_zip, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = info.external_attr
            dst.writestr(new, src.read(info.filename))
    return fixed_zip.getvalue()


def _formats_for(n: int, seed: int, formats: Sequence[str], mix: Mapping[str, float] | None) -> list[str]:
    shares = {f: (mix or DEFAULT_MIX).get(f, 0.0) for f in formats}
    if not any(shares.values()):
        shares = {f: 1.0 for f in formats}
    total = sum(shares.values())
    rng = random.Random(f"{seed}:formats")
    # Exact counts per format (largest remainders), then a seeded shuffle.
    quotas = {f: n * s / total for f, s in shares.items()}
    counts = {f: int(q) for f, q in quotas.items()}
    for f in sorted(quotas, key=lambda f: quotas[f] - counts[f], reverse=True)[: n - sum(counts.values())]:
        counts[f] += 1
    order = [f for f in formats for _ in range(counts[f])]
    rng.shuffle(order)
    return order


def generate_corpus(
    out_dir: str | os.PathLike[str],
    n_reviews: int,
    seed: int = 0,
    formats: Sequence[str] = ("txt", "pdf", "docx"),
    mix: Mapping[str, float] | None = None,
    bulletin_share: float = 0.35,
    max_report_chars: int | None = None,
) -> GroundTruth:
    """Write ``n_reviews`` synthetic review documents and ``ground_truth.json`` to ``out_dir``.

    ``formats`` are the file types to write (txt, pdf, docx); ``mix`` their shares
    (default: 90% txt, 7% docx, 3% pdf; a format in ``formats`` missing from ``mix`` gets
    none unless no share is given at all, then all are equal). ``bulletin_share`` is the
    share of short bulletins among the reviews; ``max_report_chars`` caps the length of
    full reports (about 25,000 to 130,000 characters otherwise; PDFs at most 24,000), for
    small test corpora. The same arguments give the same bytes.
    """
    unknown = set(formats) - {"txt", "pdf", "docx"}
    if unknown:
        raise ValueError(f"unknown format(s): {', '.join(sorted(unknown))}; use txt, pdf or docx")
    if n_reviews < 0 or n_reviews > 9999:
        raise ValueError("n_reviews must be between 0 and 9999 (review codes have four digits)")
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reviews: dict[str, dict] = {}
    total = 0
    for index, fmt in enumerate(_formats_for(n_reviews, seed, formats, mix)):
        truth, blocks = _review(index, seed, fmt, bulletin_share, max_report_chars)
        path = out / truth.file
        if fmt == "txt":
            data = _as_text(blocks).encode("utf-8")
        elif fmt == "pdf":
            data = _write_pdf(blocks)
        else:
            data = _write_docx(blocks)
        truth.chars = sum(len(t) for _k, t in blocks)
        path.write_bytes(data)
        total += len(data)
        reviews[truth.id] = truth.as_json()
    doc = {"seed": seed, "n_reviews": n_reviews, "total_bytes": total, "reviews": reviews}
    (out / GROUND_TRUTH_FILE).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return GroundTruth(out, seed, reviews, total, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------
# Scoring extraction against the ground truth


def _link_key(source: str, target: str, status: str) -> tuple[str, str, str]:
    a, b = sorted((source, target))
    return a, b, status


def score(records: Sequence[object], truth: GroundTruth | Mapping[str, dict]) -> dict:
    """Precision and recall of agencies and links (and count errors of learning points and
    missed opportunities) of extracted records against the ground truth.

    Links are compared as (unordered agency pair, status), counted with multiplicity; the
    share of directed ground-truth links found with the right direction is reported too.
    The safeguarding partnership is left out of agencies (it is the review's author).
    """
    from collections import Counter

    reviews = truth.reviews if isinstance(truth, GroundTruth) else truth
    tp_a = fp_a = fn_a = 0
    tp_l = fp_l = fn_l = 0
    directed_total = directed_right = 0
    lp_err = mo_err = 0
    lp_true = mo_true = lp_got = mo_got = 0
    by_format: dict[str, list[int]] = {}
    missing = 0
    for r in records:
        gt = reviews.get(r.id)  # type: ignore[attr-defined]
        if gt is None:
            missing += 1
            continue
        got_a = {a.name for a in r.agencies if a.sector != "partnership"}  # type: ignore[attr-defined]
        want_a = set(gt["agencies"])
        tp_a += len(got_a & want_a)
        fp_a += len(got_a - want_a)
        fn_a += len(want_a - got_a)
        got_l = Counter(_link_key(x.source, x.target, x.status) for x in r.communication_links)  # type: ignore[attr-defined]
        want_l = Counter(_link_key(x["source"], x["target"], x["status"]) for x in gt["links"])
        tp = sum((got_l & want_l).values())
        tp_l += tp
        fp_l += sum(got_l.values()) - tp
        fn_l += sum(want_l.values()) - tp
        f = by_format.setdefault(gt["format"], [0, 0, 0])
        f[0] += tp
        f[1] += sum(got_l.values()) - tp
        f[2] += sum(want_l.values()) - tp
        got_dir = Counter((x.source, x.target, x.status) for x in r.communication_links if x.directed)  # type: ignore[attr-defined]
        for x in gt["links"]:
            if x["directed"]:
                directed_total += 1
                key = (x["source"], x["target"], x["status"])
                if got_dir[key] > 0:
                    got_dir[key] -= 1
                    directed_right += 1
        lp = len(r.learning_points)  # type: ignore[attr-defined]
        mo = len(r.missed_opportunities)  # type: ignore[attr-defined]
        lp_got += lp
        mo_got += mo
        lp_true += gt["learning_points"]
        mo_true += gt["missed_opportunities"]
        lp_err += abs(lp - gt["learning_points"])
        mo_err += abs(mo - gt["missed_opportunities"])

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    return {
        "reviews": len(records) - missing,
        "agencies": {"precision": ratio(tp_a, tp_a + fp_a), "recall": ratio(tp_a, tp_a + fn_a),
                     "tp": tp_a, "fp": fp_a, "fn": fn_a},
        "links": {"precision": ratio(tp_l, tp_l + fp_l), "recall": ratio(tp_l, tp_l + fn_l),
                  "tp": tp_l, "fp": fp_l, "fn": fn_l,
                  "direction_right": ratio(directed_right, directed_total)},
        "links_by_format": {
            f: {"precision": ratio(v[0], v[0] + v[1]), "recall": ratio(v[0], v[0] + v[2]), "tp": v[0], "fp": v[1],
                "fn": v[2]}
            for f, v in sorted(by_format.items())
        },
        "learning_points": {"true": lp_true, "extracted": lp_got, "abs_error": lp_err},
        "missed_opportunities": {"true": mo_true, "extracted": mo_got, "abs_error": mo_err},
    }


# ---------------------------------------------------------------------------------------
# Scoring similarity linking against the lesson families


def _lesson_norm(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def lesson_families(records: Sequence[object], truth: GroundTruth | Mapping[str, dict]) -> dict[str, str]:
    """Learning point id -> its lesson family in the ground truth, for the extracted points
    whose text matches one of the review's true learning points (in document order)."""
    reviews = truth.reviews if isinstance(truth, GroundTruth) else truth
    out: dict[str, str] = {}
    for r in records:
        lessons = (reviews.get(r.id) or {}).get("lessons") or []  # type: ignore[attr-defined]
        keys = [_lesson_norm(x["text"]) for x in lessons]
        nxt = 0
        for lp in r.learning_points:  # type: ignore[attr-defined]
            got = _lesson_norm(lp.text)
            for k in range(nxt, len(keys)):
                if keys[k] and got and (got[:60] in keys[k] or keys[k][:60] in got):
                    out[lp.id] = lessons[k]["family"]
                    nxt = k + 1
                    break
    return out


def _pairs_across_reviews(members: Sequence[tuple[str, str]]) -> int:
    """Pairs among (review, family) members that are of different reviews."""
    from collections import Counter

    n = len(members)
    by_review = Counter(r for r, _f in members)
    return n * (n - 1) // 2 - sum(c * (c - 1) // 2 for c in by_review.values())


def score_similarity(records: Sequence[object], graph: object, truth: GroundTruth | Mapping[str, dict]) -> dict:
    """Precision and recall of similarity linking against the lesson families.

    ``links``: the graph's SIMILAR_TO pairs; one is right when both points belong to the
    same family. ``lessons``: the pairs of points (of different reviews) that
    :func:`graph_model.recurring.recurring_lessons` puts in one lesson. Recall is over all
    pairs of points of the same family in different reviews. Only points matched to the
    ground truth count (``matched`` of ``points``), and a pair of two narrative points
    (analysis paragraphs, findings, good-practice links: each its own family) is not judged
    but counted (``narrative_links``): the generator writes them from shared sentence
    templates, so two can be near copies and whether they say the same thing is not
    defined. Links capped at
    ``recurring.MAX_NEIGHBOURS`` per point bound the links' recall on a large corpus, where
    a family recurs in hundreds of reviews: the lessons' recall is the one to read there.
    """
    from collections import defaultdict

    from .recurring import recurring_lessons

    family = lesson_families(records, truth)
    review_of = {lp.id: r.id for r in records for lp in r.learning_points}  # type: ignore[attr-defined]
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for lp_id, fam in family.items():
        members[fam].append((review_of[lp_id], fam))
    true_pairs = sum(_pairs_across_reviews(m) for m in members.values())

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    tp = fp = narrative = 0
    g = graph
    for u, v, d in g.edges(data=True):  # type: ignore[attr-defined]
        if d.get("type") != "SIMILAR_TO":
            continue
        a, b = g.nodes[u]["id"], g.nodes[v]["id"]  # type: ignore[attr-defined]
        if a in family and b in family:
            if "/" in family[a] and "/" in family[b]:
                narrative += 1
            elif family[a] == family[b]:
                tp += 1
            else:
                fp += 1
    lesson_tp = lesson_pred = 0
    lessons = recurring_lessons(g, min_reviews=2)  # type: ignore[arg-type]
    for lesson in lessons:
        pts = [(review_of[p], family[p]) for p in lesson.points if p in family]
        lesson_pred += _pairs_across_reviews(pts) - _pairs_across_reviews([m for m in pts if "/" in m[1]])
        by_family: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for m in pts:
            by_family[m[1]].append(m)
        lesson_tp += sum(_pairs_across_reviews(m) for m in by_family.values())
    return {
        "points": len(review_of),
        "matched": len(family),
        "families": len(members),
        "true_pairs": true_pairs,
        "links": {"precision": ratio(tp, tp + fp), "recall": ratio(tp, true_pairs), "tp": tp, "fp": fp},
        "narrative_links": narrative,
        "lessons": {
            "count": len(lessons),
            "precision": ratio(lesson_tp, lesson_pred),
            "recall": ratio(lesson_tp, true_pairs),
            "tp": lesson_tp,
            "fp": lesson_pred - lesson_tp,
        },
    }
