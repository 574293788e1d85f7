"""The core commands (build, extract, stats, taxonomy) and their errors, through the CLI."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import yaml

from graph_model.build import graph_from_data, graph_to_data
from graph_model.commands import main
from graph_model.pipeline import build, graph_stats, stored_graph

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_build_stores_graph_and_records(tmp_path, capsys):
    home = tmp_path / "ws"
    code, _out, err = run(capsys, "build", SEEDS, "--home", home, "--quiet")
    assert code == 0, err
    assert "Built the graph of 5 review(s)" in err
    assert "6 broken" not in err and "4 broken and 2 effective communication links" in err
    g = stored_graph(home)
    stats = graph_stats(g)
    assert stats["nodes"]["Review"] == 5
    assert stats["nodes"]["Case"] == 3
    assert stats["links"] == {"broken": 4, "effective": 2}
    records = json.loads(gzip.decompress((home / "records.json.gz").read_bytes()))
    assert [r["id"] for r in records["reviews"]] == sorted(
        ["000-d5bcbe7d1a8f4ecb", "IN14", "002-2b128cb0abd04d34", "SILR15b", "Child X"]
    )


def test_graph_follows_schema_and_round_trips(tmp_path):
    from graph_model.schema import NODE_TYPES, REL_TYPES

    g = build([SEEDS], home=tmp_path, embedded=False).graph
    for n, d in g.nodes(data=True):
        nt = NODE_TYPES[d["label"]]
        assert n == f"{nt.label}:{d[nt.key]}"
        assert set(d) - {"label"} <= set(nt.properties)
    for u, v, k, d in g.edges(keys=True, data=True):
        rt = REL_TYPES[d["type"]]
        assert (g.nodes[u]["label"], g.nodes[v]["label"]) in rt.pairs
        assert k == d["id"]
        # Every relationship belongs to one review, except the cross-review SIMILAR_TO and
        # the totals' LINKED_WITH (docs/schema.md).
        assert d["review_id"] if "review_id" in rt.properties else d["type"] in ("SIMILAR_TO", "LINKED_WITH")
        assert set(d) - {"type"} <= set(rt.properties)
    again = graph_from_data(graph_to_data(g))
    assert graph_to_data(again) == graph_to_data(g)


def test_graph_json_is_one_item_a_line_in_any_pieces(tmp_path):
    from graph_model.build import graph_json_chunks

    g = build([SEEDS], home=tmp_path, embedded=False).graph
    g.nodes["Review:IN14"]["title"] = 'Quotes " and \\ and \u00e9 \u2019 and a tab\t'  # escaped as json.dumps does
    data = graph_to_data(g)
    dumps = [json.dumps(item, ensure_ascii=False, sort_keys=True) for item in data["nodes"]]
    rels = [json.dumps(item, ensure_ascii=False, sort_keys=True) for item in data["relationships"]]
    expected = (
        '{"format":"sgraph-graph","nodes":[\n' + ",\n".join(dumps) + '\n],"relationships":[\n' + ",\n".join(rels)
        + '\n],"version":1}\n'
    )
    for batch in (1, 2, 7, 1000):
        assert "".join(graph_json_chunks(g, batch=batch)) == expected
    assert json.loads(expected) == data


def test_graph_json_lines_encoded_ahead_are_those_linking_and_totals_leave_alone(tmp_path):
    # The build encodes the lines of SETTLED_LABELS' nodes and their relationships while it
    # links learning points and counts the totals (build.EncodedAhead): neither may change them.
    from graph_model.build import SETTLED_LABELS, EncodedAhead, SortedGraphBuilder, graph_json_chunks
    from graph_model.pipeline import stored_records

    build([SEEDS], home=tmp_path, embedded=False)
    records = sorted(stored_records(tmp_path), key=lambda r: r.id)
    builder = SortedGraphBuilder()
    for r in records:
        assert builder.add(r)
    g = builder.graph
    before = {n: json.dumps(d, sort_keys=True) for n, d in g.nodes(data=True) if d["label"] in SETTLED_LABELS}
    out = {
        (u, k): json.dumps(d, sort_keys=True)
        for u, _v, k, d in g.edges(keys=True, data=True)
        if g.nodes[u]["label"] in SETTLED_LABELS
    }
    ahead = EncodedAhead(g).start()
    try:
        builder.finish()
        assert {n: json.dumps(d, sort_keys=True) for n, d in g.nodes(data=True) if d["label"] in SETTLED_LABELS} == before
        assert {
            (u, k): json.dumps(d, sort_keys=True)
            for u, _v, k, d in g.edges(keys=True, data=True)
            if g.nodes[u]["label"] in SETTLED_LABELS
        } == out
        assert "".join(graph_json_chunks(g, ahead=ahead)) == "".join(graph_json_chunks(g))
    finally:
        ahead.close()
    assert before and out and any(d["label"] not in SETTLED_LABELS for _n, d in g.nodes(data=True))


def test_building_twice_gives_identical_graphs(tmp_path):
    a = build([SEEDS], home=tmp_path / "a", embedded=False).graph
    b = build([SEEDS], home=tmp_path / "b", embedded=False, jobs=2).graph
    assert graph_to_data(a) == graph_to_data(b)


def test_family_members_are_per_review(tmp_path):
    g = build([SEEDS], home=tmp_path, embedded=False).graph
    mothers = sorted(n for n, d in g.nodes(data=True) if d["label"] == "FamilyMember" and d["role"] == "mother")
    assert mothers == [
        "FamilyMember:000-d5bcbe7d1a8f4ecb/mother",
        "FamilyMember:002-2b128cb0abd04d34/Child One/mother",
        "FamilyMember:Child X/mother",
        "FamilyMember:IN14/mother",
        "FamilyMember:SILR15b/mother",
    ]


def test_extract_json_is_the_documented_interface(capsys):
    code, out, err = run(capsys, "extract", SEEDS / "004_cd261efeb7acd646.txt", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["schema_version"] == 1
    (review,) = data["reviews"]
    assert review["id"] == "Child X"
    for key in ("title", "agencies", "family_members", "themes", "learning_points", "missed_opportunities",
                "communication_links"):
        assert key in review
    assert {"name", "evidence"} <= set(review["agencies"][0])
    assert {"role", "evidence"} <= set(review["family_members"][0])
    assert {"text", "kind", "themes", "agencies", "quote"} <= set(review["learning_points"][0])
    assert {"quote", "agencies", "family_members"} <= set(review["missed_opportunities"][0])
    assert {"source", "target", "status", "quote"} <= set(review["communication_links"][0])
    assert {"quote", "start", "end", "section"} <= set(review["agencies"][0]["evidence"][0])


def test_extract_yaml(capsys):
    code, out, _ = run(capsys, "extract", SEEDS / "001_58071196eda5a159.txt", "--format", "yaml")
    assert code == 0
    assert yaml.safe_load(out)["reviews"][0]["id"] == "IN14"


def test_taxonomy_lists_canonical_names(capsys):
    code, out, _ = run(capsys, "taxonomy", "--kind", "agency")
    assert code == 0
    assert "Health Visiting" in out and "Children's Social Care" in out
    assert "Safe sleep" not in out


def test_stats_without_a_build_is_one_sentence(tmp_path, capsys):
    code, _out, err = run(capsys, "stats", "--home", tmp_path / "none")
    assert code == 1
    assert "no graph has been built here yet; run 'sgraph build DOCUMENTS' first." in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "is empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("notes.xyz", b"hello there", "xyz"),
    ],
)
def test_bad_input_names_the_file_and_writes_nothing(tmp_path, capsys, name, content, message):
    bad = tmp_path / "docs"
    bad.mkdir()
    shutil.copy(SEEDS / "001_58071196eda5a159.txt", bad)
    (bad / name).write_bytes(content)
    home = tmp_path / "ws"
    code, _out, err = run(capsys, "build", bad / name if name.endswith(".xyz") else bad, "--home", home, "-q")
    assert code == 1
    assert name in err and message in err.lower()
    assert "Traceback" not in err
    assert not home.exists()


def test_scanned_pdf_is_refused(tmp_path, capsys):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50, style="F")
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    code, _out, err = run(capsys, "build", path, "--home", tmp_path / "ws", "-q")
    assert code == 1
    assert "scan.pdf" in err and "no text layer" in err


def test_malformed_taxonomy_names_the_line(tmp_path, capsys):
    tax = tmp_path / "mine.yaml"
    tax.write_text("agencies:\n  - name: Youth Club\n    sector: voluntary\n    aliases: [youth club\n")
    code, _out, err = run(capsys, "build", SEEDS, "--home", tmp_path / "ws", "--taxonomy", tax, "-q")
    assert code == 1
    assert "mine.yaml: malformed YAML at line 5" in err
    assert not (tmp_path / "ws").exists()


def test_taxonomy_alias_that_would_break_matching(tmp_path, capsys):
    tax = tmp_path / "mine.yaml"
    tax.write_text("agencies:\n  - name: Youth Club\n    sector: voluntary\n    aliases: [the]\n")
    code, _out, err = run(capsys, "taxonomy", "--taxonomy", tax)
    assert code == 1
    assert "mine.yaml (line 4): agency 'Youth Club' has the alias 'the'" in err


def test_user_taxonomy_extends_the_shipped_one(tmp_path, capsys):
    tax = tmp_path / "mine.yaml"
    tax.write_text(
        "agencies:\n  - name: Youth Club\n    sector: voluntary\n    aliases: [youth worker]\n"
        "  - name: Police\n    sector: police\n    aliases: [neighbourhood team]\n"
    )
    doc = tmp_path / "r.txt"
    doc.write_text("Learning Review\n\nSummary\nThe youth worker did not share the concern with the neighbourhood team.\n")
    code, out, err = run(capsys, "extract", doc, "--taxonomy", tax)
    assert code == 0, err
    (review,) = json.loads(out)["reviews"]
    assert [(x["source"], x["target"], x["status"]) for x in review["communication_links"]] == [
        ("Youth Club", "Police", "broken")
    ]


def test_unknown_command_is_a_usage_error(capsys):
    code, _out, err = run(capsys, "frobnicate")
    assert code == 2
    assert "No such command" in err


def test_records_json_from_the_spool_in_any_order():
    from graph_model.pipeline import Extracted, _Spool

    spool = _Spool()
    try:
        for rid in ("b", "a", "c", "d"):
            spool.add(Extracted(rid, rid + ".txt", json.dumps({"id": rid, "t": "\u00e9"}).encode()))
        for order in ([1, 0, 2, 3], [0, 1, 2, 3], [3, 2, 1, 0], [1], [], [0, 1, 3]):
            entries = [spool.index[i] for i in order]
            expected = '{"reviews":[' + "".join(
                ("\n" if k == 0 else ",\n") + spool.json(e) for k, e in enumerate(entries)
            ) + "\n]}\n"
            for piece in (1, 3, 1 << 20):
                assert b"".join(spool.records_json(entries, piece=piece)).decode() == expected
    finally:
        spool.close()
