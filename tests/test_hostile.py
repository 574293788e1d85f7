"""Security: text in a document never runs in a browser or changes a database, and the
Neo4j password never appears in any output, log or error.

The hostile document carries ``<script>`` (entity-encoded, so the reader decodes it into the
text, where it reaches quotes), an event-handler attribute on an unknown tag, a
``javascript:`` link, Cypher fragments, a very long line and control characters. It is
built through the CLI like any review; the exports must escape it, and running every
query with the hostile strings as parameters must leave the graph as it was, the strings
coming back verbatim as data.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

import graph_model.cli  # noqa: F401  (registers every command)
from graph_model import embedded, neo4j_store, pipeline, queries
from graph_model.build import graph_to_data
from graph_model.commands import main
from graph_model.errors import DatabaseError

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

SCRIPT = "<script>alert(1)</script>"
HANDLER = '<b2 onmouseover="alert(2)">x</b2>'
JS_LINK = "javascript:alert(3)"
CYPHER_1 = "'}) DETACH DELETE n //"
CYPHER_2 = "MATCH (n) DETACH DELETE n"
LONG = "very long line " * 20000  # 300,000 characters on one line
HOSTILE_VALUES = [SCRIPT, HANDLER, JS_LINK, CYPHER_1, CYPHER_2, f'"; {CYPHER_2}; //', "`) DETACH DELETE n //", "$agency", "\\' OR 1=1 --"]

DOCUMENT = (
    "Learning Review &lt;script&gt;alert(0)&lt;/script&gt;\n\n"
    "Key learning\n"
    "1. The health visitor did not share information with the GP &lt;script&gt;alert(1)&lt;/script&gt; "
    f"{HANDLER} {JS_LINK} {CYPHER_1} {CYPHER_2} \x07\x1b[31m end.\n"
    "2. Police did not refer the family to Children's Social Care [click](javascript:alert(5)) "
    f"{CYPHER_2}.\n"
    f"3. The school did not tell the GP about the {LONG}.\n\n"
    "Recommendations\nAll - escalate.\n"
)
# what the reader makes of line 1 of the key learning (entities decoded, control characters dropped)
LEARNING_1 = (
    f"The health visitor did not share information with the GP {SCRIPT} {HANDLER} {JS_LINK} {CYPHER_1} "
    f"{CYPHER_2} [31m end."
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """A workspace holding the seeds plus the hostile review."""
    folder = tmp_path_factory.mktemp("hostile-docs")
    for f in SEEDS.iterdir():
        shutil.copy(f, folder / f.name)
    (folder / "hostile.txt").write_text(DOCUMENT, encoding="utf-8")
    home = folder / "ws"
    assert main(["build", str(folder), "--home", str(home), "-q", "--jobs", "1"]) == 0
    return home


def test_the_hostile_text_reaches_the_graph_verbatim(hostile):
    g = pipeline.stored_graph(hostile)
    texts = [d.get("text") for _n, d in g.nodes(data=True) if d.get("label") == "LearningPoint"]
    assert LEARNING_1 in texts
    assert any(LONG.strip() in (t or "") for t in texts)


# --------------------------------------------------------------------------- exports


def test_html_export_escapes_everything(hostile, tmp_path, capsys):
    out = tmp_path / "hv.html"
    assert main(["export", "agency", "HV", "--out", str(out), "--full", "--home", str(hostile)]) == 0
    page = out.read_text(encoding="utf-8")  # --full: the digest and every item in one file
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b2 onmouseover=&quot;alert(2)&quot;&gt;x&lt;/b2&gt;" in page
    assert "&#x27;}) DETACH DELETE n //" in page or "&#39;}) DETACH DELETE n //" in page
    # nothing from the document is markup: no script, no handler attribute, no javascript: link
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", page)
    assert not re.search(r"""(?:href|src)\s*=\s*["']?\s*javascript:""", page, re.IGNORECASE)
    assert "\x07" not in page and "\x1b" not in page


def test_html_index_of_all_agencies_escapes_too(hostile, tmp_path, capsys):
    assert main(["export", "agencies", "--format", "html", "--out", str(tmp_path / "pack"), "--home", str(hostile)]) == 0
    for page in (tmp_path / "pack").iterdir():
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text.lower(), page.name
        assert not re.search(r"<[^>]*\son\w+\s*=", text), page.name


def test_docx_export_keeps_the_text_as_text(hostile, tmp_path, capsys):
    import zipfile

    import docx

    out = tmp_path / "hv.docx"
    assert main(["export", "agency", "HV", "--out", str(out), "--full", "--home", str(hostile)]) == 0
    document = docx.Document(str(out))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert any(LEARNING_1 in c for c in cells)  # the literal text, as text
    with zipfile.ZipFile(out) as z:
        xml = z.read("word/document.xml").decode("utf-8")
        names = z.namelist()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xml and "<script" not in xml
    assert not any(n.endswith((".bin", ".js")) or "vbaProject" in n for n in names)  # no macros, no scripts
    for name in names:
        if name.endswith(".rels"):
            with zipfile.ZipFile(out) as z:
                assert "javascript:" not in z.read(name).decode("utf-8")


def test_markdown_and_csv_exports_are_inert(hostile, tmp_path, capsys):
    md = tmp_path / "hv.md"
    assert main(["export", "agency", "HV", "--out", str(md), "--full", "--home", str(hostile)]) == 0
    text = md.read_text(encoding="utf-8")
    assert "<script>" not in text and "\\<script\\>" in text
    csv_file = tmp_path / "hv.csv"
    assert main(["export", "agency", "HV", "--out", str(csv_file), "--full", "--home", str(hostile)]) == 0
    assert "<script>alert(1)</script>" in csv_file.read_text(encoding="utf-8-sig")  # data, verbatim


# --------------------------------------------------------------------------- the stores


def _hostile_params(query) -> list[dict]:
    """Each hostile string in turn as every text parameter (numbers keep their example)."""
    out = []
    for value in HOSTILE_VALUES:
        out.append({p.name: value if isinstance(p.example, str) else p.example for p in query.params})
    return out


def _node_count(backend) -> tuple[int, int]:
    n = backend.run("MATCH (n) RETURN count(n) AS n", {})[0]["n"]
    r = backend.run("MATCH ()-[r]->() RETURN count(r) AS n", {})[0]["n"]
    return n, r


def _every_query_with_hostile_values(backend) -> int:
    ran = 0
    for q in queries.list_queries():
        for params in _hostile_params(q):
            queries.run_query(q.name, params, backend)
            ran += 1
    return ran


def _echo(backend, tmp_path: Path) -> None:
    """The hostile strings come back verbatim as data, through a query file's parameter."""
    f = tmp_path / "echo.cypher"
    f.write_text("// params: value=\"text\"\nRETURN $value AS value\n", encoding="utf-8")
    for value in [*HOSTILE_VALUES, LONG, "tab\there\nnewline \u2028 nul"]:
        assert queries.run_file(f, {"value": value}, backend) == [{"value": value}]
    nul = "before \x00 after"
    if backend.name == "neo4j":
        assert queries.run_file(f, {"value": nul}, backend) == [{"value": nul}]
    else:  # FalkorDB cannot take a NUL in a parameter: one sentence, not a wrong answer
        with pytest.raises(DatabaseError) as exc:
            queries.run_file(f, {"value": nul}, backend)
        assert str(exc.value) == f"{f}: parameter 'value' holds a NUL character, which the embedded engine cannot take."


def test_embedded_store_every_query_with_hostile_values_changes_nothing(hostile, tmp_path):
    before_files = {p.name: p.read_bytes() for p in hostile.iterdir() if p.is_file()}
    with embedded.EmbeddedBackend(hostile / pipeline.EMBEDDED_DIR) as be:
        before = _node_count(be)
        assert _every_query_with_hostile_values(be) >= 12 * len(HOSTILE_VALUES)
        _echo(be, tmp_path)
        assert _node_count(be) == before
        rows = queries.run_query("agency-learning", {"agency": "Health Visiting"}, be)
        assert any(LEARNING_1 in json.dumps(r, ensure_ascii=False) .encode().decode("unicode_escape") or LEARNING_1 in str(r) for r in rows)
        with pytest.raises(DatabaseError, match="read-only"):
            be.run(CYPHER_2, {})
    assert {p.name: p.read_bytes() for p in hostile.iterdir() if p.is_file()} == before_files


def test_cli_query_with_hostile_parameters(hostile, capsys):
    for value in HOSTILE_VALUES:
        # A parameter naming an agency takes the taxonomy's names and aliases (issue 21): a
        # hostile one is a usage error, one sentence, before it reaches any engine.
        assert main(["query", "run", "agency-learning", "--param", f"agency={value}", "--format", "json", "--embedded", "--home", str(hostile)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.startswith("Error: Unknown agency ") and captured.err.count("\n") == 1
        # As data through a text parameter that names nothing, it comes back verbatim.
        assert main(["query", "run", "review-timeline", "--param", f"review_id={value}", "--format", "json", "--embedded", "--home", str(hostile)]) == 0
        assert json.loads(capsys.readouterr().out) == []
    with embedded.EmbeddedBackend(hostile / pipeline.EMBEDDED_DIR) as be:
        assert _node_count(be)[0] == pipeline.stored_graph(hostile).number_of_nodes()


@pytest.mark.neo4j
def test_neo4j_load_and_every_query_with_hostile_values_changes_nothing(neo4j_backend, hostile, tmp_path):
    graph = pipeline.stored_graph(hostile)
    neo4j_store.load(graph, wipe=True, backend=neo4j_backend)
    before = _node_count(neo4j_backend)
    assert before == (graph.number_of_nodes(), graph.number_of_edges())
    assert _every_query_with_hostile_values(neo4j_backend) >= 12 * len(HOSTILE_VALUES)
    _echo(neo4j_backend, tmp_path)
    assert _node_count(neo4j_backend) == before
    assert graph_to_data(neo4j_store.read_graph(neo4j_backend)) == graph_to_data(graph)  # verbatim


# --------------------------------------------------------------------------- credentials


def _no_secret(capsys, caplog, secret: str, logs: bool = True) -> str:
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert secret not in text
    if logs:  # the driver's own DEBUG log (off unless configured) never carries the password
        assert all(secret not in r.getMessage() for r in caplog.records)
    caplog.clear()
    return text


@pytest.mark.neo4j
def test_the_password_never_appears(neo4j_backend, hostile, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="neo4j")
    real = os.environ["NEO4J_PASSWORD"]
    wrong = "wrong-" + real[::-1] + "-x"
    for password, code in ((real, 0), (wrong, 1)):
        monkeypatch.setenv("NEO4J_PASSWORD", password)
        assert main(["load", "--home", str(hostile), "-q"]) == code
        _no_secret(capsys, caplog, password)
        assert main(["doctor"]) == code
        text = _no_secret(capsys, caplog, password)
        if code:
            assert "refused the user name or password" in text
        assert main(["query", "run", "reviews-overview", "--neo4j", "--format", "json"]) == code
        _no_secret(capsys, caplog, password)
        assert main(["query", "run", "no-such-query", "--neo4j"]) == 2
        _no_secret(capsys, caplog, password)
    # nor in the repr of the settings, nor in a driver error that quotes the address
    assert real not in repr(neo4j_backend.config)
    cfg = neo4j_backend.config
    uri = cfg.uri.split("://", 1)
    monkeypatch.setenv("NEO4J_URI", f"{uri[0]}://{cfg.username}:{real}@{uri[1]}")
    assert main(["doctor"]) == 1
    _no_secret(capsys, caplog, real)


def test_the_password_never_appears_without_a_server(tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG, logger="neo4j")
    secret = "pw-Zq81-never-printed"
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("NEO4J_USERNAME", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", secret)
    home = tmp_path / "ws"
    pipeline.build([str(SEEDS)], home=home, jobs=1, embedded=False)
    uris = [f"bolt://127.0.0.1:{port}", f"neo4j://127.0.0.1:{port}", f"bolt://neo4j:{secret}@127.0.0.1:{port}"]
    uris += [f"{secret}://x", f"bolt://{secret}:1", secret]  # the password pasted into the wrong variable
    for uri in uris:
        monkeypatch.setenv("NEO4J_URI", uri)
        for argv in (["doctor"], ["query", "run", "reviews-overview", "--neo4j"], ["load", "--home", str(home), "-q"]):
            assert main(argv) == 1
            # (a password pasted in as the host name is the host name the driver logs)
            text = _no_secret(capsys, caplog, secret, logs=uri != f"bolt://{secret}:1")
            assert text.count("\n") == 1 if argv != ["doctor"] else "Error: " in text


def test_a_settings_file_others_can_read_is_refused(tmp_path, monkeypatch, capsys):
    home = tmp_path / "ws"
    pipeline.build([str(SEEDS)], home=home, jobs=1, embedded=False)
    for var in neo4j_store.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    f = tmp_path / "sgraph" / "neo4j.env"
    f.parent.mkdir()
    f.write_text("NEO4J_URI=bolt://127.0.0.1:1\nNEO4J_USERNAME=neo4j\nNEO4J_PASSWORD=file-secret-123\n")
    for mode in (0o640, 0o604, 0o660, 0o666):
        f.chmod(mode)
        for argv in (["doctor"], ["load", "--home", str(home), "-q"], ["query", "run", "reviews-overview", "--neo4j"]):
            assert main(argv) == 1
            captured = capsys.readouterr()
            assert captured.err == (
                f"Error: {f}: holds the Neo4j password but others can read it (mode {mode:04o}); run 'chmod 600 {f}'.\n"
            )
            assert "file-secret-123" not in captured.out + captured.err
    f.chmod(0o600)
    assert neo4j_store.load_config().password == "file-secret-123"


def test_board_pack_keeps_the_hostile_text_inert(hostile, tmp_path, capsys):
    """Read-only check of the board pack (maps.py is edited elsewhere): the maps' own scripts
    are fine, but nothing from the document is ever markup or script source."""
    out = tmp_path / "pack"
    assert main(["report", "--out", str(out), "--home", str(hostile)]) == 0
    pages = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".js", ".json")]
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for raw in (SCRIPT, "<script>alert(0)</script>", HANDLER, '<b2 onmouseover="alert(2)">'):
            assert raw not in text, (page.name, raw)
        assert not re.search(r"""(?:href|src)\s*=\s*["']?\s*javascript:""", text, re.IGNORECASE), page.name
