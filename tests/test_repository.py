"""Checks on the repository's own text files: what a reader sees first must be whole."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("<<<<<<< ", ">>>>>>> ")  # "=======" alone is also a Markdown heading rule


def _tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    suffixes = {".md", ".py", ".cypher", ".yaml", ".toml", ".html", ".css", ".js", ".txt"}
    names = [n for n in out.decode().split("\0") if n]
    return [ROOT / n for n in names if Path(n).suffix in suffixes and (ROOT / n).is_file()]


def test_no_file_holds_an_unresolved_merge_conflict():
    files = _tracked_text_files()
    assert any(f.name == "README.md" for f in files)
    bad = []
    for f in files:
        for number, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(True), 1):
            if line.startswith(MARKERS):
                bad.append(f"{f.relative_to(ROOT)}:{number}")
    assert bad == []
