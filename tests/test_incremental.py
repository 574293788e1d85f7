"""Incremental build: the extraction cache (graph_model/extract_cache.py) and kept counts.

An incremental build must give the same workspace as a full one: the same graph.json,
records.json and counts.json byte for byte, and the same embedded store (compared as sorted
dumps of its nodes and relationships), after documents are added, changed and removed, and
after a taxonomy change; and a build killed half-way leaves the previous workspace whole.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from graph_model import embedded, pipeline, stored, workspace
from graph_model.commands import main
from graph_model.extract_cache import CACHE_DIR, KEPT_SUFFIX, MANIFEST
from graph_model.synth import generate_corpus

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EXTRA_SENTENCE = (
    "\n\nThe health visitor did not share the information about the mother's mental health with the GP, "
    "and no referral was made to children's social care.\n"
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Ten synthetic reviews (txt and docx) and the five seeds: 15 documents."""
    folder = tmp_path_factory.mktemp("corpus")
    generate_corpus(folder / "synth", 10, seed=3, formats=("txt", "docx"))
    (folder / "synth" / "ground_truth.json").unlink()
    shutil.copytree(SEEDS, folder / "seeds")
    return folder


def _docs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".txt", ".docx"))


def store_dump(home: Path) -> list[str]:
    """Every node and relationship of the embedded store, with its properties, sorted."""
    with embedded.EmbeddedBackend(home / workspace.EMBEDDED_DIR) as be:
        nodes = be.run("MATCH (n) RETURN labels(n) AS l, properties(n) AS p")
        rels = be.run(
            "MATCH (a)-[r]->(b) RETURN labels(a) AS la, properties(a) AS a, type(r) AS t, properties(r) AS p, "
            "labels(b) AS lb, properties(b) AS b"
        )
    dump = [json.dumps(["node", r["l"], r["p"]], sort_keys=True, ensure_ascii=False) for r in nodes]
    dump += [json.dumps(["rel", r["la"], r["a"], r["t"], r["p"], r["lb"], r["b"]], sort_keys=True, ensure_ascii=False) for r in rels]
    return sorted(dump)


def workspace_files(home: Path) -> dict[str, bytes]:
    return {name: (home / name).read_bytes() for name in (workspace.GRAPH_FILE, workspace.RECORDS_FILE, workspace.COUNTS_FILE)}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones too): path -> sha256 or 'dir'."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        for name in files:
            p = Path(root) / name
            try:
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            except FileNotFoundError:  # a killed build's staged file, just removed by its reaper
                continue
        for d in dirs:
            out[str(Path(root) / d) + "/"] = "dir"
    return out


def assert_same_as_full(docs: Path, home: Path, tmp: Path, taxonomy: str | None = None) -> None:
    """``home`` (built incrementally) holds what a full build of ``docs`` writes."""
    fresh = tmp / "full"
    shutil.rmtree(fresh, ignore_errors=True)
    pipeline.build([docs], home=fresh, taxonomy_file=taxonomy, jobs=1, cache=False)
    assert workspace_files(home) == workspace_files(fresh)
    assert store_dump(home) == store_dump(fresh)


def test_incremental_equals_full_after_adding_changing_removing_and_a_taxonomy_change(corpus, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(corpus, docs)
    home = tmp_path / "ws"
    all_docs = _docs(docs)
    added = all_docs[-1]
    held_back = tmp_path / added.name
    shutil.move(added, held_back)

    first = pipeline.build([docs], home=home, jobs=2)  # 14 documents
    assert first.extraction == ""  # nothing to say on a first build
    assert len(manifest_entries(home)) == 14
    # No second copy of a review: the cache is its manifest (each review is in records.json.gz).
    assert sorted(p.name for p in home.joinpath(*CACHE_DIR).iterdir()) == [MANIFEST]

    again = pipeline.build([docs], home=home, jobs=2)
    assert again.extraction.startswith("14 of 14 document(s) unchanged")
    assert_same_as_full(docs, home, tmp_path)

    # Add one document, change one, remove one.
    shutil.move(held_back, added)
    changed = next(p for p in _docs(docs) if p.suffix == ".txt" and p.parent.name == "synth")
    changed.write_text(changed.read_text(encoding="utf-8") + EXTRA_SENTENCE, encoding="utf-8")
    removed = next(p for p in _docs(docs) if p.parent.name == "seeds")
    removed_id = next(r.id for r in first.records if Path(r.source).name == removed.name)
    removed.unlink()
    result = pipeline.build([docs], home=home, jobs=2)
    assert result.extraction.startswith("12 of 14 document(s) unchanged"), result.extraction
    assert result.extraction.endswith("2 extracted.")
    assert removed_id not in {r.id for r in result.records}
    assert not any(d.get("review_id") == removed_id for _n, d in result.graph.nodes(data=True))
    assert_same_as_full(docs, home, tmp_path)
    # Only the entries of the documents built remain.
    assert len(manifest_entries(home)) == 14

    # A taxonomy change extracts everything again, and says why.
    tax = tmp_path / "extra.yaml"
    tax.write_text("agencies:\n  - name: Youth Club\n    sector: voluntary\n    aliases: [youth worker]\n", encoding="utf-8")
    result = pipeline.build([docs], home=home, taxonomy_file=str(tax), jobs=1)
    assert result.extraction == "The taxonomy changed since the last build: extracting all 14 document(s) again."
    assert_same_as_full(docs, home, tmp_path, taxonomy=str(tax))
    assert len(manifest_entries(home)) == 14


def test_full_flag_and_the_cli_say_what_was_extracted(corpus, tmp_path, capsys):
    docs = corpus / "seeds"
    home = tmp_path / "ws"
    assert main(["build", str(docs), "--home", str(home), "-q", "--jobs", "1"]) == 0
    assert "unchanged" not in capsys.readouterr().err
    assert main(["build", str(docs), "--home", str(home), "-q", "--jobs", "1"]) == 0
    assert "5 of 5 document(s) unchanged since the last build (not extracted again), 0 extracted." in capsys.readouterr().err
    assert main(["build", str(docs), "--home", str(home), "-q", "--jobs", "1", "--full"]) == 0
    assert "--full: extracting all 5 document(s) again." in capsys.readouterr().err


def manifest_entries(home: Path) -> dict[str, str]:
    return json.loads(home.joinpath(*CACHE_DIR, MANIFEST).read_text())["entries"]


def test_a_wrong_manifest_entry_or_a_damaged_records_file_is_extracted_again(corpus, tmp_path):
    docs = corpus / "seeds"
    home = tmp_path / "ws"
    pipeline.build([docs], home=home, jobs=1)
    before = workspace_files(home)
    manifest = home.joinpath(*CACHE_DIR, MANIFEST)
    data = json.loads(manifest.read_text())
    data["entries"][sorted(data["entries"])[0]] = "0" * 64  # no review has this digest
    manifest.write_text(json.dumps(data))
    result = pipeline.build([docs], home=home, jobs=1)
    assert workspace_files(home) == before
    assert result.extraction.startswith("4 of 5 document(s) unchanged"), result.extraction
    # records.json.gz cut short: the reviews read before the cut are found, the rest extracted.
    records = home / workspace.RECORDS_FILE
    records.write_bytes(records.read_bytes()[: records.stat().st_size // 2])
    result = pipeline.build([docs], home=home, jobs=2)
    assert workspace_files(home) == before
    hits = int(result.extraction.split(" of ")[0])
    assert hits < 5 and result.extraction.endswith(f"{5 - hits} extracted."), result.extraction
    records.write_bytes(b"not gzip")
    result = pipeline.build([docs], home=home, jobs=1)
    assert result.extraction.startswith("0 of 5"), result.extraction
    again = pipeline.build([docs], home=home, jobs=1)  # and everything is found again
    assert workspace_files(home) == before
    assert again.extraction.startswith("5 of 5")


def test_a_review_changed_after_extraction_is_kept_in_the_cache_as_extracted(corpus, tmp_path):
    """An annotated review is in records.json.gz as curated, not as extracted: the cache
    keeps its extracted JSON itself, and the next build finds it."""
    from graph_model.curation import write_annotations

    docs = corpus / "seeds"
    home = tmp_path / "ws"
    first = pipeline.build([docs], home=home, jobs=1)
    ann = tmp_path / "annotations"
    record = next(r for r in first.records if r.learning_points)
    write_annotations([record], ann)
    text = next(ann.iterdir()).read_text(encoding="utf-8")
    assert "learning_points:" in text
    pipeline.build([docs], home=home, jobs=1, annotations=ann)
    kept = list(home.joinpath(*CACHE_DIR).glob(f"*{KEPT_SUFFIX}"))
    assert len(kept) == 1
    again = pipeline.build([docs], home=home, jobs=1, annotations=ann)
    assert again.extraction.startswith("5 of 5"), again.extraction
    fresh = tmp_path / "full"
    pipeline.build([docs], home=fresh, jobs=1, annotations=ann, cache=False)
    assert workspace_files(home) == workspace_files(fresh)
    # Without the annotation file the review is written as extracted: nothing kept any more.
    pipeline.build([docs], home=home, jobs=1)
    assert not list(home.joinpath(*CACHE_DIR).glob(f"*{KEPT_SUFFIX}"))


def test_a_cache_of_the_older_format_is_replaced(corpus, tmp_path):
    docs = corpus / "seeds"
    home = tmp_path / "ws"
    pipeline.build([docs], home=home, jobs=1)
    folder = home.joinpath(*CACHE_DIR)
    (folder / "0123.sgx").write_bytes(b"an entry of the older format")
    (folder / MANIFEST).write_text(json.dumps({"extractor_version": json.loads((folder / MANIFEST).read_text())["extractor_version"],
                                                "taxonomy": json.loads((folder / MANIFEST).read_text())["taxonomy"], "entries": 5}))
    result = pipeline.build([docs], home=home, jobs=1)
    assert result.extraction == "The extraction cache is of an older format: extracting all 5 document(s) again."
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST]
    assert pipeline.build([docs], home=home, jobs=1).extraction.startswith("5 of 5")


def test_the_extractor_version_is_part_of_the_key(corpus, tmp_path, monkeypatch):
    from graph_model import extract_cache

    docs = corpus / "seeds"
    home = tmp_path / "ws"
    pipeline.build([docs], home=home, jobs=1)
    monkeypatch.setattr(extract_cache, "EXTRACTOR_VERSION", 10_000)
    result = pipeline.build([docs], home=home, jobs=1)
    assert result.extraction == (
        "The extractor changed since the last build (version 1 -> 10000): extracting all 5 document(s) again."
    )


def test_a_failed_build_leaves_the_workspace_and_its_cache_as_they_were(corpus, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(corpus / "seeds", docs)
    home = tmp_path / "ws"
    pipeline.build([docs], home=home, jobs=1)
    before = snapshot(home)
    (docs / "zz-new.txt").write_text(EXTRA_SENTENCE * 3, encoding="utf-8")
    (docs / "zz-broken.docx").write_bytes(b"not a zip")
    with pytest.raises(Exception, match="zz-broken.docx"):
        pipeline.build([docs], home=home, jobs=1)
    assert snapshot(home) == before


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from graph_model import build as build_module, pipeline
    docs, home, where = sys.argv[1], sys.argv[2], sys.argv[3]
    seen = []
    def progress(_path):
        seen.append(_path)
        if where == "extracting" and len(seen) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    if where == "writing":
        real = pipeline.stage_text
        def stage_then_die(path, text, *args):
            staged = real(path, text, *args)
            if path.name == "graph.json.gz":
                os.kill(os.getpid(), signal.SIGKILL)
            return staged
        pipeline.stage_text = stage_then_die
    print("PID", os.getpid(), flush=True)
    pipeline.build([docs], home=home, jobs=1, progress=progress)
    """
)


def done_pid(done: subprocess.CompletedProcess) -> int:
    return int(done.stdout.split("PID ", 1)[1].split()[0])


@pytest.mark.parametrize("where", ["extracting", "writing"])
def test_a_killed_incremental_build_leaves_the_previous_workspace_whole(corpus, tmp_path, where):
    docs = tmp_path / "docs"
    shutil.copytree(corpus / "seeds", docs)
    home = tmp_path / "ws"
    pipeline.build([docs], home=home, jobs=1)
    before = {k: v for k, v in snapshot(home).items()}
    (docs / "zz-new.txt").write_text("Serious Case Review: Child Q\n" + EXTRA_SENTENCE * 3, encoding="utf-8")
    first = _docs(docs)[0]
    first.write_text(first.read_text(encoding="utf-8") + EXTRA_SENTENCE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", KILLER, str(docs), str(home), where], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    after = snapshot(home)
    # Whole: every file of the previous workspace as it was; at most a staged file beside them.
    assert {k: v for k, v in after.items() if k in before} == before
    assert all(".tmp-" in k for k in set(after) - set(before)), sorted(set(after) - set(before))
    # The next build goes through and equals a full one; the killed one's staging folder is gone.
    stale = [p for p in Path(tempfile.gettempdir()).glob(f"sgraph-extract-cache-{done_pid(done)}-*")]
    pipeline.build([docs], home=home, jobs=1)
    assert_same_as_full(docs, home, tmp_path)
    # gone: removed by the killed build's reaper at once, or by the next build (its sweep)
    assert not any(p.exists() for p in stale)
    assert not list(Path(tempfile.gettempdir()).glob(f"sgraph-extract-cache-{done_pid(done)}-*"))


def test_stats_reads_the_kept_counts(corpus, tmp_path, capsys):
    home = tmp_path / "ws"
    built = pipeline.build([corpus / "seeds"], home=home, jobs=1)
    kept = workspace.kept_counts(home)
    assert kept is not None and kept["reviews"] == 5
    recount = pipeline.graph_stats(built.graph)
    assert {k: kept[k] for k in ("nodes", "relationships", "links")} == recount
    assert main(["stats", "--home", str(home)]) == 0
    shown = capsys.readouterr().out
    assert f"│ nodes         │ Review                 │ {recount['nodes']['Review']}" in shown

    # Counts that do not belong to the graph beside them are not used: they are counted again.
    counts = json.loads((home / workspace.COUNTS_FILE).read_text())
    counts["nodes"]["Review"] = 999
    (home / workspace.COUNTS_FILE).write_text(json.dumps(counts))
    assert stored.stored_stats(home)["nodes"]["Review"] == 999  # same graph.json size: trusted
    graph = home / workspace.GRAPH_FILE
    graph.write_bytes(gzip.compress(gzip.decompress(graph.read_bytes()) + b"\n"))
    assert workspace.kept_counts(home) is None
    assert stored.stored_stats(home) == recount
    (home / workspace.COUNTS_FILE).unlink()
    assert stored.stored_stats(home) == recount


def test_stats_does_not_parse_the_graph(corpus, tmp_path):
    home = tmp_path / "ws"
    pipeline.build([corpus / "seeds"], home=home, jobs=1)
    code = (
        "import sys\nfrom graph_model.commands import main\n"
        f"code = main(['stats', '--home', {str(home)!r}])\n"
        "assert code == 0\n"
        "print('LOADED', 'networkx' in sys.modules, 'graph_model.pipeline' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "LOADED False False" in done.stdout


def test_the_workspace_is_compressed_and_reads_back_as_built(corpus, tmp_path):
    home = tmp_path / "ws"
    built = pipeline.build([corpus / "seeds"], home=home, jobs=1)
    graph, records = home / workspace.GRAPH_FILE, home / workspace.RECORDS_FILE
    for path in (graph, records):
        assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    # The same text as the uncompressed files of earlier builds: graph_json_chunks, the records' JSON.
    from graph_model.build import graph_json_chunks, graph_to_data

    assert gzip.decompress(graph.read_bytes()).decode("utf-8") == "".join(graph_json_chunks(built.graph))
    assert [r["id"] for r in json.loads(gzip.decompress(records.read_bytes()))["reviews"]] == sorted(
        r.id for r in built.records
    )
    assert graph_to_data(pipeline.stored_graph(home)) == graph_to_data(built.graph)
    assert not (home / workspace.OLD_GRAPH_FILE).exists() and not (home / workspace.OLD_RECORDS_FILE).exists()
    # Several times smaller than the text it holds (7x on the seeds, 11x at 2,000 reviews).
    assert graph.stat().st_size * 5 < len(gzip.decompress(graph.read_bytes()))


def test_a_workspace_of_the_uncompressed_format_is_still_read_and_replaced_by_the_next_build(corpus, tmp_path, capsys):
    from graph_model.build import graph_to_data
    from graph_model.exports import export_graph

    docs = corpus / "seeds"
    new = tmp_path / "new"
    built = pipeline.build([docs], home=new, jobs=1)
    old = tmp_path / "old"  # as a build before the compact format left it
    shutil.copytree(new, old)
    for name, old_name in ((workspace.GRAPH_FILE, workspace.OLD_GRAPH_FILE), (workspace.RECORDS_FILE, workspace.OLD_RECORDS_FILE)):
        (old / old_name).write_bytes(gzip.decompress((old / name).read_bytes()))
        (old / name).unlink()
    counts = json.loads((old / workspace.COUNTS_FILE).read_text())
    counts["graph_bytes"] = (old / workspace.OLD_GRAPH_FILE).stat().st_size
    (old / workspace.COUNTS_FILE).write_text(json.dumps(counts))

    assert workspace.graph_path(old) == old / "graph.json" and workspace.records_path(old) == old / "records.json"
    assert graph_to_data(pipeline.stored_graph(old)) == graph_to_data(built.graph)
    assert [r.model_dump() for r in pipeline.stored_records(old)] == [r.model_dump() for r in built.records]
    assert workspace.kept_counts(old) == counts
    assert graph_to_data(export_graph(old, ["GP"])) == graph_to_data(export_graph(new, ["GP"]))
    assert main(["stats", "--home", str(old)]) == 0
    assert main(["stats", "--home", str(new)]) == 0
    shown = capsys.readouterr().out.split("\n")
    assert shown[: len(shown) // 2] == shown[len(shown) // 2 : -1]

    pipeline.build([docs], home=old, jobs=1)  # the old files are replaced by the compressed ones
    assert not (old / "graph.json").exists() and not (old / "records.json").exists()
    assert workspace_files(old) == workspace_files(new)


@pytest.mark.parametrize("damage", ["truncated", "not gzip"])
def test_a_damaged_compressed_file_is_one_clear_sentence(corpus, tmp_path, capsys, damage):
    home = tmp_path / "ws"
    pipeline.build([corpus / "seeds"], home=home, jobs=1)
    for name in (workspace.GRAPH_FILE, workspace.RECORDS_FILE):
        path = home / name
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\x1f\x8b" + b"x" * 100)
    (home / workspace.COUNTS_FILE).unlink()  # stats has to read the graph
    assert main(["stats", "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert f"{home / 'graph.json.gz'}: the stored graph cannot be read (" in err
    assert err.rstrip().endswith("); run 'sgraph build' again.") and "Traceback" not in err
    assert main(["review-queue", "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert f"{home / 'records.json.gz'}: the stored records cannot be read (" in err
    assert err.rstrip().endswith("); run 'sgraph build' again.") and "Traceback" not in err
