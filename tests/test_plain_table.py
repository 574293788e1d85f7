"""The query commands' text table (graph_model/plain_table.py), drawn without rich."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from graph_model.plain_table import ASCII, render, width, wrap

ROOT = Path(__file__).resolve().parent.parent


def test_a_table_has_a_header_a_rule_and_one_line_a_row():
    out = render(["agency", "n"], [["GP", "3"], ["Health Visiting", "12"]])
    assert out == (
        "┏━━━━━━━━━━━━━━━━━┳━━━━┓\n"
        "┃ agency          ┃ n  ┃\n"
        "┡━━━━━━━━━━━━━━━━━╇━━━━┩\n"
        "│ GP              │ 3  │\n"
        "│ Health Visiting │ 12 │\n"
        "└─────────────────┴────┘\n"
    )
    assert render(["a"], [["x"]], box=ASCII) == "+---+\n| a |\n+===+\n| x |\n+---+\n"


def test_a_table_wider_than_the_screen_is_wrapped_at_spaces_to_fit():
    text = "Everything one agency must learn: learning points addressed to it, missed opportunities attributed to it"
    out = render(["name", "description"], [["agency-learning", text]], max_width=50)
    lines = out.splitlines()
    assert max(width(line) for line in lines) <= 50
    assert len({width(line) for line in lines}) == 1  # every line as wide as the table
    body = [line for line in lines if line.startswith("│")]
    assert len(body) > 2 and body[0].startswith("│ agency-learning │ Everything one")
    cells = " ".join(line.split("│")[2].strip() for line in body)
    assert cells == text  # nothing lost, nothing cut in a word
    # A column too narrow for a word folds it; a screen too narrow for the table lets it overflow.
    assert wrap("Paediatrics", 4) == ["Paed", "iatr", "ics"]
    narrow = render(["a", "b", "c"], [["1", "2", "3"]], max_width=5)
    assert "│ 1 │ 2 │ 3 │" in narrow


def test_untrusted_text_cannot_reach_the_terminal_as_controls():
    out = render(["text"], [["red \x1b[31malert\x07 \u202eevil\tx\r\nsecond line"]])
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\t" not in out and "\r" not in out
    assert "│ red ?[31malert? ?evil x │" in out
    assert "│ second line             │" in out  # a line break is a new line in the cell


def test_wide_characters_take_two_columns():
    out = render(["name"], [["日本"], ["ab"]])
    assert "│ 日本 │" in out and "│ ab   │" in out
    assert width("日本") == 4 and width("e\u0301") == 1


def test_query_list_on_a_narrow_terminal_fits_it():
    """In a terminal (a pseudo-terminal here) of 60 columns the table is wrapped to 60."""
    import pty

    code = "from graph_model.commands import main; raise SystemExit(main(['query', 'list']))"
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdout is the terminal
        os.environ.update(COLUMNS="60", PYTHONPATH=str(ROOT))
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", code])
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    os.close(fd)
    lines = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert table and max(width(line) for line in table) <= 60
    assert any(line.startswith("│ agency-learning ") for line in table)
    assert lines[-1] == f"{len(subprocess.run([sys.executable, '-m', 'graph_model', 'query', 'list', '-f', 'csv'], cwd=ROOT, capture_output=True, text=True).stdout.splitlines()) - 1} row(s)."
