"""``sgraph query shell``: many queries on one open store (graph_model/query_shell.py)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph_model import pipeline, queries
from graph_model.query_shell import Completer, Session, shell
from graph_model.results import Rows

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shell") / "ws"
    pipeline.build([SEEDS], home=folder, jobs=1)
    return folder


@pytest.fixture(scope="module")
def backend(home):
    be = queries.open_backend(False, home)
    yield be
    be.close()


class Recorder:
    def __init__(self) -> None:
        self.shown: list[tuple[list[dict], str]] = []
        self.said: list[str] = []

    def emit(self, rows: Rows, fmt: str, fh=None) -> None:
        if fh is not None:
            if fmt == "json":
                fh.write(json.dumps(rows))
            else:
                w = csv.writer(fh)
                w.writerow(rows.columns)
                w.writerows([[r[c] for c in rows.columns] for r in rows])
        else:
            self.shown.append((list(rows), fmt))

    def say(self, line: str) -> None:
        self.said.append(line)


def test_queries_params_formats_and_errors(backend, tmp_path):
    rec = Recorder()
    s = shell(
        backend,
        [
            "breakdown-agencies",
            ":param agency=GP",
            "agency-learning limit=3",
            ":format csv",
            'agency-learning agency="Health Visiting" limit=2',
            f"agency-learning limit=2 > {tmp_path / 'gp.json'}",
            "no-such-query",
            ":format yaml",
            "agency-learning limit=0",
            ":timing off",
            "breakdown-agencies",
            ":quit",
            "breakdown-agencies",  # after :quit: not run
        ],
        rec.emit,
        rec.say,
    )
    assert s.done and s.params == {"agency": "GP"} and s.format == "csv"
    expected = queries.run_query("breakdown-agencies", {}, backend)
    assert rec.shown[0] == (list(expected), "table")
    gp = queries.run_query("agency-learning", {"agency": "GP", "limit": 3}, backend)
    assert rec.shown[1] == (list(gp), "table") and len(gp) == 3
    hv = queries.run_query("agency-learning", {"agency": "Health Visiting", "limit": 2}, backend)
    assert rec.shown[2] == (list(hv), "csv")
    assert json.loads((tmp_path / "gp.json").read_text()) == list(queries.run_query("agency-learning", {"agency": "GP", "limit": 2}, backend))
    assert len(rec.shown) == 4  # the last breakdown-agencies, with timing off
    timings = [line for line in rec.said if line.endswith(" ms.")]
    assert len(timings) == 4 and timings[0].startswith(f"{len(expected)} row(s) in ")
    errors = [line for line in rec.said if line.startswith("Error: ")]
    assert errors == [
        "Error: There is no query called 'no-such-query'. 'sgraph query list' shows them all.",
        "Error: Unknown format 'yaml'; use table, csv or json.",
        "Error: Parameter 'limit' of query 'agency-learning' must be at least 1 (e.g. --param limit=100).",
    ]
    assert any(line.startswith(f"Wrote {2} row(s) to ") for line in rec.said)


def test_params_listing_and_session_parameters(backend):
    rec = Recorder()
    session = Session(backend, rec.emit, rec.say)
    session.handle(":params")
    assert rec.said[-1] == "No session parameters; set one with :param name=value."
    session.handle(":params agency-learning")
    rows, _fmt = rec.shown[-1]
    assert [r["param"] for r in rows] == ["agency", "limit"]
    assert rows[1]["default"] == "100"
    session.handle(':param agency="Police" theme=x')
    session.handle(":param theme=")
    assert session.params == {"agency": "Police"}
    session.handle(":params breakdown-agencies")
    assert rec.said[-1] == "Query 'breakdown-agencies' takes no parameters."
    session.handle("agency-learning > rows.txt")
    assert rec.said[-1].startswith("Error: ") and ".csv or .json" in rec.said[-1]


def test_completion_of_names_and_parameters():
    c = Completer()
    assert "agency-learning" in c.candidates("agency-l", "agency-l")
    assert c.candidates(":par", ":par") == [":param", ":params"]
    assert c.candidates("agency-learning ", "") == ["agency=", "limit="]
    assert c.candidates("agency-learning agency=GP l", "l") == ["limit="]
    assert c.candidates(":params agency-le", "agency-le") == ["agency-learning"]
    assert c.candidates(":format ", "") == ["table", "csv", "json"]


def test_the_command_reads_a_piped_script(home):
    script = ":format csv\nbreakdown-agencies\n:timing off\nreviews-sharing-theme theme=\"Information sharing\"\n"
    done = subprocess.run(
        [sys.executable, "-m", "graph_model", "query", "shell", "--home", str(home), "--embedded"],
        input=script, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first = list(csv.reader(io.StringIO(done.stdout)))
    assert first[0] == ["agency", "sector", "breakdowns", "as_sender", "as_receiver", "reviews"]
    assert done.stderr.count(" ms.") == 1
