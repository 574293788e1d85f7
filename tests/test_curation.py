"""Curation: confidence, annotation files (extract --out), build --annotations, review-queue.

The round trip the issue asks for: build the seeds, write the annotation files, edit one
programmatically (remove an agency, add a missed link, redirect a link, add a learning
point in the analyst's own words), build with them, and find each edit exactly in the
networkx graph, graph.json, the embedded store and the review's map; unedited files
reproduce the automatic graph byte for byte.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import yaml
from test_maps_browser import Page, browser  # noqa: F401  (the headless Chromium fixture)

import graph_model.cli  # noqa: F401  (registers every command)
from graph_model import curation, maps, pipeline
from graph_model.build import graph_to_data
from graph_model.commands import main
from graph_model.confidence import score_record
from graph_model.embedded import EmbeddedBackend
from graph_model.errors import InputError
from graph_model.extract import extract
from graph_model.read import read_document
from graph_model.schema import TOTALS
from graph_model.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CHILD_X_DOC = SEEDS / "004_cd261efeb7acd646.txt"
TAX = load_taxonomy()

ADDED_QUOTE = (
    "Referral made by the Police officers who attended the home to arrest the two risky adults - "
    "regarding the condition of the home and mother's ability to parent."
)
OWN_WORDS = "Discharge from a mother and baby unit needs a plan shared with the health visitor."
LINK_QUERY = (
    "MATCH (a:Agency)-[r:COMMUNICATION]->(b:Agency) WHERE r.review_id = $rid "
    "RETURN r.id AS id, a.name AS source, b.name AS target, r.status AS status, r.curated AS curated, "
    "r.confidence AS confidence ORDER BY id"
)


def dump(data: dict, path: Path) -> None:
    path.write_text(yaml.dump(data, Dumper=curation._Dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_child_x(path: Path) -> None:
    """The analyst's four edits, made on the YAML file."""
    d = yaml.safe_load(path.read_text(encoding="utf-8"))
    # 1. A wrong agency goes: from the review's agencies and the facts that name it.
    d["agencies"] = [a for a in d["agencies"] if a["name"] != "Early Help Services"]
    for kind in ("learning_points", "missed_opportunities"):
        for f in d[kind]:
            f["agencies"] = [a for a in f["agencies"] if a != "Early Help Services"]
    # 2. A missed link, with its quote from the document (and no id: one is given).
    d["communication_links"].append(
        {"source": "Police", "target": "Children's Social Care", "status": "effective", "directed": True, "quote": ADDED_QUOTE}
    )
    # 3. A link's direction fixed.
    first = d["communication_links"][0]
    first["source"], first["target"] = first["target"], first["source"]
    # 4. A learning point in the analyst's own words (no quote).
    d["learning_points"].append({"kind": "key_learning", "text": OWN_WORDS, "agencies": ["Health Visiting"]})
    dump(d, path)


@pytest.fixture(scope="module")
def auto_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("auto") / "ws"
    pipeline.build([str(SEEDS)], home=home, jobs=1)
    return home


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory) -> tuple[Path, Path, pipeline.BuildResult]:
    tmp = tmp_path_factory.mktemp("round-trip")
    ann = tmp / "annotations"
    assert main(["extract", str(SEEDS), "--out", str(ann)]) == 0
    edit_child_x(ann / "Child_X.yaml")
    result = pipeline.build([str(SEEDS)], home=tmp / "ws", jobs=1, annotations=ann)
    return tmp / "ws", ann, result


# --------------------------------------------------------------------------- confidence


def test_confidence_distribution_on_the_seeds():
    records = pipeline.extract_files([SEEDS], jobs=1)
    seen = {}
    for kind in curation.FACT_LISTS:
        values: dict[float, int] = {}
        for r in records:
            for f in getattr(r, kind):
                values[f.confidence] = values.get(f.confidence, 0) + 1
        seen[kind] = sorted(values.items())
    assert seen == {
        "agencies": [(0.6, 1), (0.7, 8), (0.9, 16)],  # the Coroner, named once in SILR15b
        "family_members": [(0.55, 11), (0.75, 3), (0.9, 12)],  # no "child" beside SILR15b's baby
        "themes": [(0.55, 28), (0.75, 19), (0.9, 35)],  # issue 17's triggers: one theme named twice now
        "learning_points": [(0.75, 23), (0.9, 76)],
        "missed_opportunities": [(0.5, 27), (0.8, 8)],
        "communication_links": [(0.7, 3), (0.8, 3)],
    }
    child_x = next(r for r in records if r.id == "Child X")
    # Named only as "A&E", a capitals abbreviation.
    assert {a.name: a.confidence for a in child_x.agencies}["Emergency Department"] == 0.6


def test_confidence_rules_on_a_small_review(tmp_path):
    doc = tmp_path / "rules.txt"
    doc.write_text(
        "Serious Case Review: Child Q\n\nSummary\n\n"
        "The GP informed the health visitor about the bruise.\n"
        "Information was not shared between the police and the school.\n"
        "The MASH did not share the referral with the health visitor.\n"
        "The plan was not reviewed.\n\n"
        "Recommendations\n\n"
        "1. The GP practice should record every bruise in a non-mobile baby.\n",
        encoding="utf-8",
    )
    r = extract(read_document(doc))
    assert [(a.name, a.mentions, a.confidence) for a in r.agencies] == [
        ("GP", 2, 0.9),
        ("Health Visiting", 2, 0.9),
        ("MASH", 1, 0.7),  # its own name, once
        ("Police", 1, 0.7),
        ("Schools", 1, 0.7),
    ]
    assert [(x.source, x.target, x.directed, x.confidence) for x in r.communication_links] == [
        ("GP", "Health Visiting", True, 0.9),  # a telling verb between source and target
        ("Police", "Schools", False, 0.8),  # "between": undirected on purpose
        ("MASH", "Health Visiting", True, 0.9),
    ]
    assert [(mo.agencies, mo.confidence) for mo in r.missed_opportunities] == [
        (["Police", "Schools"], 0.8),
        (["MASH"], 0.8),
        ([], 0.5),  # no agency identified
    ]
    assert [(lp.evidence.section, lp.confidence) for lp in r.learning_points] == [("recommendations", 0.9)]
    # Scoring is a pure function of the facts: running it again changes nothing.
    assert score_record(r.model_copy(deep=True), TAX) == r


def test_old_records_without_confidence_still_load():
    from graph_model.models import ReviewRecord

    record = pipeline.extract_files([SEEDS / "001_58071196eda5a159.txt"], jobs=1)[0]
    data = json.loads(record.model_dump_json())
    for kind in curation.FACT_LISTS:
        for f in data[kind]:
            del f["confidence"], f["curated"]
    old = ReviewRecord.model_validate(data)
    assert {f.confidence for k in curation.FACT_LISTS for f in getattr(old, k)} == {1.0}
    assert {f.curated for k in curation.FACT_LISTS for f in getattr(old, k)} == {False}


# --------------------------------------------------------------------------- extract --out


def test_extract_out_writes_one_valid_file_per_review(tmp_path, capsys):
    ann = tmp_path / "annotations"
    assert main(["extract", str(SEEDS), "--out", str(ann)]) == 0
    assert capsys.readouterr().err == f"Wrote 5 annotation file(s) to {ann}/.\n"
    assert sorted(p.name for p in ann.iterdir()) == [
        "000-d5bcbe7d1a8f4ecb.yaml",
        "002-2b128cb0abd04d34.yaml",
        "Child_X.yaml",
        "IN14.yaml",
        "SILR15b.yaml",
    ]
    found = curation.load_annotations(ann, TAX)
    child = found["Child X"].data
    assert (child.review, child.source, len(child.agencies), len(child.learning_points), len(child.communication_links)) == (
        "Child X", "004_cd261efeb7acd646.txt", 9, 41, 5,
    )
    link = child.communication_links[1]
    assert link.model_dump() == {
        "confidence": 0.8,
        "section": "findings",
        "id": "Child X/link002",
        "source": "GP",
        "target": "Children's Social Care",
        "status": "broken",
        "directed": True,
        "inferred_end": None,  # both ends are in the quote
        "case": None,
        "quote": "Child X seen by GP four days prior to presentation at A&E, but this did not result in a Child "
        "Protection referral to CSC.",
    }
    text = (ann / "Child_X.yaml").read_text(encoding="utf-8")
    # Long quotes in folded block style, readable in an editor.
    assert "  quote: >-\n    Child X seen by GP four days prior to presentation at A&E, but this did not result in a Child Protection\n" in text
    # Overwriting needs --force; with it the files are replaced.
    before = text
    assert main(["extract", str(SEEDS), "--out", str(ann)]) == 1
    assert capsys.readouterr().err == f"Error: {ann / '000-d5bcbe7d1a8f4ecb.yaml'}: already exists; use --force to overwrite it.\n"
    assert main(["extract", str(SEEDS), "--out", str(ann), "--force"]) == 0
    assert (ann / "Child_X.yaml").read_text(encoding="utf-8") == before


# --------------------------------------------------------------------------- the round trip


def test_unedited_annotations_reproduce_the_automatic_graph(auto_home, tmp_path):
    ann = tmp_path / "annotations"
    curation.write_annotations(pipeline.extract_files([SEEDS], jobs=1), ann)
    result = pipeline.build([str(SEEDS)], home=tmp_path / "ws", jobs=1, annotations=ann)
    assert (tmp_path / "ws" / "graph.json.gz").read_bytes() == (auto_home / "graph.json.gz").read_bytes()
    assert (tmp_path / "ws" / "records.json.gz").read_bytes() == (auto_home / "records.json.gz").read_bytes()
    assert result.curation.line() == (
        f"Applied 5 annotation file(s) from {ann}/: 0 curated fact(s), 0 automatic fact(s) removed, 0 stale quote(s) reported."
    )


def test_round_trip_summary(round_trip):
    _home, ann, result = round_trip
    s = result.curation
    # Curated: the added link, the redirected link, the own-words learning point and the two
    # learning points that no longer name the removed agency. Removed: the agency.
    assert (s.applied, s.curated, s.removed, s.stale, s.notes) == (5, 5, 1, [], [])


def _edges(g, review="Child X"):
    return {k: (u, v, d) for u, v, k, d in g.edges(keys=True, data=True) if d.get("review_id") == review}


def test_round_trip_each_edit_is_in_the_graph(round_trip, auto_home):
    home, _ann, result = round_trip
    auto = pipeline.stored_graph(auto_home)
    for g in (result.graph, pipeline.stored_graph(home)):  # the networkx graph and graph.json
        edges, before = _edges(g), _edges(auto)
        doc_text = read_document(CHILD_X_DOC).text
        start = doc_text.index(ADDED_QUOTE)
        # The removed agency: no INVOLVES, and no learning addressed to it from this review.
        assert "Child X/INVOLVES/Early Help Services" in before
        assert not [k for k in edges if k.endswith("/Early Help Services")]
        # The added link.
        assert edges["Child X/link006"] == (
            "Agency:Police",
            "Agency:Children's Social Care",
            {
                "type": "COMMUNICATION", "id": "Child X/link006", "review_id": "Child X", "status": "effective",
                "directed": True, "quote": ADDED_QUOTE, "start": start, "end": start + len(ADDED_QUOTE),
                "section": "good_practice", "confidence": 1.0, "curated": True,
            },
        )
        # The redirected link: the same evidence, the other way round, curated.
        u, v, d = before["Child X/link001"]
        assert (u, v) == ("Agency:Adult Mental Health", "Agency:Health Visiting")
        assert edges["Child X/link001"] == (v, u, {**d, "confidence": 1.0, "curated": True})
        # The learning point in the analyst's own words.
        own = g.nodes["LearningPoint:Child X/lp042"]
        assert {k: v for k, v in own.items() if k not in TOTALS["LearningPoint"]} == {
            "label": "LearningPoint", "id": "Child X/lp042", "text": OWN_WORDS, "kind": "key_learning",
            "all_agencies": False, "addressees": 1, "review_id": "Child X", "quote": "", "start": 0, "end": 0,
            "section": "analyst", "confidence": 1.0, "curated": True,
        }
        assert edges["Child X/lp042/ADDRESSED_TO/Health Visiting"][:2] == (
            "LearningPoint:Child X/lp042", "Agency:Health Visiting",
        )
        # Nothing else changed: every other fact is the automatic one, uncurated.
        touched = {"Child X/link001", "Child X/link006", "Child X/INVOLVES/Early Help Services",
                   "Child X/lp024/ADDRESSED_TO/Early Help Services", "Child X/lp034/ADDRESSED_TO/Early Help Services",
                   "Child X/lp042/HAS_LEARNING", "Child X/lp042/ADDRESSED_TO/Health Visiting"}
        assert set(before) - touched == set(edges) - touched
        assert all(edges[k] == before[k] for k in set(before) - touched)
        curated_nodes = sorted(n for n, d in g.nodes(data=True) if d.get("curated"))
        assert curated_nodes == ["LearningPoint:Child X/lp024", "LearningPoint:Child X/lp034", "LearningPoint:Child X/lp042"]
        assert g.nodes["LearningPoint:Child X/lp034"]["addressees"] == auto.nodes["LearningPoint:Child X/lp034"]["addressees"] - 1
    # The other reviews are exactly the automatic ones.
    data, auto_data = graph_to_data(pipeline.stored_graph(home)), graph_to_data(auto)
    # (less the totals that count across reviews: a learning point's best SIMILAR_TO score and rank)

    def own(nodes):
        return [
            {k: v for k, v in n.items() if k not in TOTALS.get(n["label"], ())}
            for n in nodes
            if n.get("review_id") not in (None, "Child X") and n["label"] != "Review"
        ]

    assert own(data["nodes"]) == own(auto_data["nodes"])


def test_round_trip_in_graph_json_file(round_trip):
    home, _ann, _result = round_trip
    data = json.loads(gzip.decompress((home / "graph.json.gz").read_bytes()))
    links = {r["id"]: (r["_from"], r["_to"], r.get("curated")) for r in data["relationships"] if r["type"] == "COMMUNICATION"}
    assert {k: v for k, v in links.items() if k.startswith("Child X/")} == {
        "Child X/link001": ("Agency:Health Visiting", "Agency:Adult Mental Health", True),
        "Child X/link002": ("Agency:GP", "Agency:Children's Social Care", None),
        "Child X/link003": ("Agency:Hospital and Paediatrics", "Agency:Adult Mental Health", None),
        "Child X/link004": ("Agency:GP", "Agency:Children's Social Care", None),
        "Child X/link005": ("Agency:Adult Social Care", "Agency:Adult Mental Health", None),
        "Child X/link006": ("Agency:Police", "Agency:Children's Social Care", True),
    }


def test_round_trip_in_the_embedded_store(round_trip):
    home, _ann, _result = round_trip
    with EmbeddedBackend(home / pipeline.EMBEDDED_DIR) as be:
        rows = be.run(LINK_QUERY, {"rid": "Child X"})
        involved = be.run(
            "MATCH (r:Review)-[i:INVOLVES]->(a:Agency) WHERE r.id = $rid RETURN a.name AS name ORDER BY name",
            {"rid": "Child X"},
        )
        lp = be.run(
            "MATCH (lp:LearningPoint) WHERE lp.curated = true AND lp.review_id = $rid "
            "RETURN lp.id AS id, lp.text AS text, lp.section AS section ORDER BY id",
            {"rid": "Child X"},
        )
    assert [(r["id"], r["source"], r["target"], r["status"], r["curated"], r["confidence"]) for r in rows] == [
        ("Child X/link001", "Health Visiting", "Adult Mental Health", "broken", True, 1.0),
        ("Child X/link002", "GP", "Children's Social Care", "broken", None, 0.8),
        ("Child X/link003", "Hospital and Paediatrics", "Adult Mental Health", "broken", None, 0.8),
        ("Child X/link004", "GP", "Children's Social Care", "effective", None, 0.7),
        ("Child X/link005", "Adult Social Care", "Adult Mental Health", "broken", None, 0.8),
        ("Child X/link006", "Police", "Children's Social Care", "effective", True, 1.0),
    ]
    assert [r["name"] for r in involved] == [
        "Adult Mental Health", "Adult Social Care", "Children's Social Care", "Emergency Department", "GP",
        "Health Visiting", "Hospital and Paediatrics", "Police",
    ]
    assert lp[-1] == {"id": "Child X/lp042", "text": OWN_WORDS, "section": "analyst"}
    assert [r["id"] for r in lp] == ["Child X/lp024", "Child X/lp034", "Child X/lp042"]


def test_round_trip_in_the_review_map(round_trip, auto_home):
    home, _ann, _result = round_trip
    html = maps.review_map_html(pipeline.stored_graph(home), "Child X")
    plain = maps.review_map_html(pipeline.stored_graph(auto_home), "Child X")
    # The added and the redirected link are dotted lines, with a legend entry.
    assert html.count('"dashes":[2,6]') == 2 and plain.count('"dashes":[2,6]') == 0
    assert '"from":"Agency:Police","guard":true,"id":"e' in html
    assert html.count('"label":"Dotted: link added or changed by an analyst"') == 1
    assert "Dotted: link added" not in plain
    # The side panel: a "Curated" badge flag and note on the curated facts.
    # The two links: the lines themselves (2), their side panels and both agencies' lists (6);
    # the three curated learning points: in the review's list (3) and under each agency they
    # are addressed to (1 + 8 + 1).
    assert html.count('"curated":true') == 21 and plain.count('"curated":true') == 0
    assert html.count("curated by an analyst \\u00b7 ") == 19 and "curated by an analyst" not in plain
    assert html.count('["Curated","added or changed by an analyst"]') == 2


def test_round_trip_through_the_cli(round_trip, tmp_path, capsys):
    _home, ann, _result = round_trip
    assert main(["build", str(SEEDS), "--home", str(tmp_path / "ws"), "-q", "--jobs", "1", "--annotations", str(ann)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"Applied 5 annotation file(s) from {ann}/: 5 curated fact(s), 1 automatic fact(s) removed, 0 stale quote(s) reported."
    )


# --------------------------------------------------------------------------- stale quotes


def test_a_curated_quote_gone_from_a_changed_document_is_reported(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CHILD_X_DOC, docs / CHILD_X_DOC.name)
    ann = tmp_path / "annotations"
    curation.write_annotations(pipeline.extract_files([docs], jobs=1), ann)
    path = ann / "Child_X.yaml"
    edit_child_x(path)
    # The document changes: the sentence the added link quotes is reworded. Three automatic
    # facts quoted it too (the first mention of Police and of 'other adult', a learning point).
    doc = docs / CHILD_X_DOC.name
    doc.write_text(
        doc.read_text(encoding="utf-8").replace("Referral made by the Police officers", "Police officers referred"),
        encoding="utf-8",
    )
    assert main(["build", str(docs), "--home", str(tmp_path / "ws"), "-q", "--jobs", "1", "--annotations", str(ann)]) == 0
    err = capsys.readouterr().err.splitlines()

    def quote_line(entry: str) -> int:
        return _line(path, "  quote:", after=_line(path, entry))

    short = "\"Referral made by the Police officers who attended the home to arrest the two ri\u2026\""
    source = "004_cd261efeb7acd646.txt"
    assert err[:5] == [
        f"Warning: {path}: was written for another version of {source} (its sha256 differs); "
        "its facts were checked against the current text.",
        f"Warning: {path}, line {quote_line('- name: Police')}: the quote {short} of agency 'Police' is no longer in {source}; "
        "the automatic fact was kept, with the quote extraction finds now.",
        f"Warning: {path}, line {quote_line('- role: other adult')}: the quote {short} of family member 'other adult' is "
        f"no longer in {source}; the automatic fact was kept, with the quote extraction finds now.",
        f"Warning: {path}, line {quote_line('- id: Child X/lp029')}: the quote {short} of learning point Child X/lp029 is "
        f"no longer in {source}; the fact was left out.",
        f"Warning: {path}, line {quote_line('- source: Police')}: the quote {short} of communication link Child X/link006 "
        f"(Police \u2192 Children's Social Care) is no longer in {source}; the fact was left out.",
    ]
    assert err[-1] == (
        f"Applied 1 annotation file(s) from {ann}/: 4 curated fact(s), 1 automatic fact(s) removed, 4 stale quote(s) reported."
    )
    g = pipeline.stored_graph(tmp_path / "ws")
    edges = _edges(g)
    assert "Child X/link006" not in edges and "LearningPoint:Child X/lp029" not in g
    assert edges["Child X/INVOLVES/Police"][2]["quote"].startswith("Police officers referred")
    assert "curated" not in edges["Child X/INVOLVES/Police"][2]


# --------------------------------------------------------------------------- validation


@pytest.fixture()
def child_x_file(tmp_path) -> Path:
    ann = tmp_path / "annotations"
    curation.write_annotations([pipeline.extract_files([CHILD_X_DOC], jobs=1)[0]], ann)
    return ann / "Child_X.yaml"


def _line(path: Path, startswith: str, after: int = 0) -> int:
    return next(i for i, x in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if i > after and x.startswith(startswith))


def _error(path: Path) -> str:
    with pytest.raises(InputError) as exc:
        curation.load_annotation(path, TAX)
    return exc.value.message


def test_wrong_type_names_file_and_line(child_x_file):
    text = child_x_file.read_text(encoding="utf-8")
    child_x_file.write_text(text.replace("  directed: true\n", "  directed: sometimes\n", 1), encoding="utf-8")
    line = _line(child_x_file, "  directed: sometimes")
    assert _error(child_x_file) == (
        f"{child_x_file}, line {line}: 'directed' of communication_links entry 1: "
        "input should be a valid boolean, unable to interpret input."
    )


def test_missing_field_names_file_and_line(child_x_file):
    text = child_x_file.read_text(encoding="utf-8")
    child_x_file.write_text(text.replace("  status: effective\n", "", 1), encoding="utf-8")
    line = _line(child_x_file, "- id: Child X/link004")
    assert _error(child_x_file) == f"{child_x_file}, line {line}: 'status' of communication_links entry 4 is missing."


def test_unknown_agency_names_file_and_line_with_suggestions(child_x_file):
    text = child_x_file.read_text(encoding="utf-8")
    child_x_file.write_text(text.replace("- name: Police\n", "- name: Polise\n", 1), encoding="utf-8")
    line = _line(child_x_file, "- name: Polise")
    assert _error(child_x_file) == (
        f"{child_x_file}, line {line}: Unknown agency 'Polise'. Did you mean: Police? "
        "Run 'sgraph taxonomy' to list agencies."
    )


def test_malformed_yaml_names_file_and_line(child_x_file):
    lines = child_x_file.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[9] = "agencies: [unclosed\n"
    child_x_file.write_text("".join(lines), encoding="utf-8")
    assert _error(child_x_file) == (
        f"{child_x_file}: malformed YAML at line 11, column 7: expected ',' or ']', but got ':'."
    )


def test_agency_removed_but_still_named_by_a_fact(child_x_file):
    d = yaml.safe_load(child_x_file.read_text(encoding="utf-8"))
    d["agencies"] = [a for a in d["agencies"] if a["name"] != "Early Help Services"]
    dump(d, child_x_file)
    line = _line(child_x_file, "  - Early Help Services")
    assert _error(child_x_file) == (
        f"{child_x_file}, line {line}: 'Early Help Services' is not in this review's agencies; "
        "add it to 'agencies' (with a quote) or remove it here."
    )


def test_an_alias_is_accepted_and_canonicalised(child_x_file):
    text = child_x_file.read_text(encoding="utf-8")
    child_x_file.write_text(text.replace("  source: GP\n", "  source: general practitioner\n", 1), encoding="utf-8")
    ann = curation.load_annotation(child_x_file, TAX)
    assert ann.data.communication_links[1].source == "GP"


def test_an_invalid_file_means_the_build_writes_nothing(child_x_file, tmp_path, capsys):
    text = child_x_file.read_text(encoding="utf-8")
    child_x_file.write_text(text.replace("- name: Police\n", "- name: Polise\n", 1), encoding="utf-8")
    home = tmp_path / "ws"
    code = main(["build", str(CHILD_X_DOC), "--home", str(home), "-q", "--jobs", "1", "--annotations", str(child_x_file.parent)])
    assert code == 1
    line = _line(child_x_file, "- name: Polise")
    assert capsys.readouterr().err == (
        f"Error: {child_x_file}, line {line}: Unknown agency 'Polise'. Did you mean: Police? "
        "Run 'sgraph taxonomy' to list agencies.\n"
    )
    assert not home.exists()


# --------------------------------------------------------------------------- review-queue


def test_review_queue_rows_on_the_seeds(auto_home, capsys):
    rows = curation.review_queue(auto_home, below=0.55)
    none = {
        "000-d5bcbe7d1a8f4ecb": [1],
        "002-2b128cb0abd04d34": [1, 2, 3, 4, 5, 6, 8, 9],
        "Child X": [1, 2, 3, 4, 5, 8, 9, 10, 11, 13, 15, 16, 18, 20, 21, 22],
        "IN14": [1],
        "SILR15b": [2],
    }
    assert [(r.confidence, r.review, r.kind, r.fact) for r in rows] == [
        (0.5, rid, "missed opportunity", f"{rid}/mo{n:03d}: no agency identified") for rid, ns in none.items() for n in ns
    ]
    assert main(["review-queue", "--below", "0.65", "--format", "csv", "--home", str(auto_home)]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == "confidence,review,kind,fact,quote"
    assert csv_lines[1] == (
        '0.50,000-d5bcbe7d1a8f4ecb,missed opportunity,000-d5bcbe7d1a8f4ecb/mo001: no agency identified,'
        'Communication difficulties were exacerbated by an early decision not to proceed to a Child Protection Conference (CPC).'
    )
    assert csv_lines[-1] == (
        "0.60,Child X,agency,Emergency Department,Mother's presentation to A&E for Child X's incident in September 2015 "
        "was not in keeping with previous proportionate presentations."
    )
    assert len(csv_lines) == 1 + 27 + 11 + 28 + 1  # missed opportunities, family members, themes at 0.55, one agency
    assert main(["review-queue", "--below", "0.3", "--home", str(auto_home)]) == 0
    assert capsys.readouterr().out == "No facts below that confidence.\n"
    assert main(["review-queue", "--below", "0.51", "--format", "json", "--home", str(auto_home)]) == 0
    assert json.loads(capsys.readouterr().out)[0] == {
        "review": "000-d5bcbe7d1a8f4ecb", "kind": "missed opportunity",
        "fact": "000-d5bcbe7d1a8f4ecb/mo001: no agency identified", "confidence": 0.5,
        "quote": "Communication difficulties were exacerbated by an early decision not to proceed to a Child Protection Conference (CPC).",
    }


def test_curated_facts_leave_the_review_queue(round_trip, auto_home):
    home, _ann, _result = round_trip

    def links(h):
        return [r.fact for r in curation.review_queue(h, below=1.0) if r.review == "Child X" and r.kind == "communication link"]

    assert links(auto_home) == [
        "Child X/link001: Adult Mental Health \u2192 Health Visiting (broken)",
        "Child X/link004: GP \u2192 Children's Social Care (effective)",
        "Child X/link002: GP \u2192 Children's Social Care (broken)",
        "Child X/link003: Hospital and Paediatrics \u2192 Adult Mental Health (broken)",
        "Child X/link005: Adult Social Care \u2014 Adult Mental Health (broken)",
    ]
    # The redirected link is curated (confidence 1.0): an analyst has checked it.
    assert links(home) == links(auto_home)[1:]


@pytest.mark.browser
def test_curated_link_shows_its_badge_in_a_browser(round_trip, tmp_path, browser):  # noqa: F811
    home, _ann, _result = round_trip
    path = tmp_path / "review.html"
    path.write_text(maps.review_map_html(pipeline.stored_graph(home), "Child X"), encoding="utf-8")
    p = Page(browser, path)
    try:
        p.wait_ready()
        dotted = p.js("() => window.sgMap.edges.get({filter: (e) => e.curated}).map((e) => [e.id, e.dashes])")
        assert [d for _e, d in dotted] == [[2, 6], [2, 6]]  # still dotted after the filters have run
        dotted = [e for e, _d in dotted]
        eid = p.click_first_edge(dotted)
        edge = p.js("(id) => window.sgMap.edges.get(id)", eid)
        text = p.panel()
        assert p.page.inner_text("#panel-body .curated-badge") == "Curated"
        assert "added or changed by an analyst" in text
        quote = ADDED_QUOTE if edge["from"] == "Agency:Police" else _edges(pipeline.stored_graph(home))["Child X/link001"][2]["quote"]
        assert quote in text
        assert p.errors == [] and p.requests == []
    finally:
        p.close()
