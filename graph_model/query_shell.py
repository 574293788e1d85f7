"""``sgraph query shell``: many questions on one open store.

Opening the embedded store is most of a ``sgraph query run`` at a national corpus's size
(the server loads the whole graph); the shell opens it once and then answers each query in
the time the engine takes. One line is one command::

    breakdown-agencies                         a shipped query (Tab completes names and parameters)
    agency-learning agency="Health Visiting" limit=5
    agency-learning agency=GP > gp.csv         its rows to a file, CSV or JSON by the suffix
    :params agency-learning                    the parameters a query takes, with examples
    :param agency=GP                           a session parameter, given to every query that takes it
    :params                                    the session parameters
    :format csv                                rows as table (default), csv or json
    :timing off                                no "N row(s) in 12 ms" line
    :list   :help   :quit                      (or Ctrl-D)

Errors are one sentence and the shell carries on. When its input is a terminal it has line
editing, completion and a history (``$XDG_STATE_HOME/sgraph/query-history``, else
``~/.local/state/sgraph/query-history``, readable only by you: parameters can name people);
otherwise it reads commands from its input without a prompt (a script of queries).
Nothing runs in the background: the store's server is the shell's own and stops with it,
unless a warm server holds the store (``sgraph query serve``), which the shell then uses.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import queries
from .errors import SgraphError, UsageError
from .results import Rows

COMMANDS = (":list", ":params", ":param", ":format", ":timing", ":help", ":quit", ":exit")
FORMATS = ("table", "csv", "json")
HELP = __doc__.split("::", 1)[1].split("Errors are", 1)[0].strip("\n") + "\n"


def history_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "sgraph" / "query-history"


@dataclass
class Session:
    """The shell's state and its commands, independent of the terminal (tests drive it)."""

    backend: queries.Backend
    emit: Callable[[Rows, str, TextIO | None], None]  # rows, format, file (None: the screen)
    say: Callable[[str], None]  # one line to the user (stderr)
    params: dict[str, str] = field(default_factory=dict)
    format: str = "table"
    timing: bool = True
    done: bool = False

    def handle(self, line: str) -> None:
        """Run one line; a problem is said in one sentence, never raised."""
        line = line.strip()
        if not line or line.startswith("//"):
            return
        try:
            if line.startswith(":"):
                self._command(line)
            else:
                self._query(line)
        except SgraphError as exc:
            self.say(f"Error: {exc.message}")

    # ------------------------------------------------------------------ commands

    def _command(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word in (":quit", ":exit", ":q"):
            self.done = True
        elif word == ":help":
            self.say(HELP.rstrip("\n"))
        elif word == ":list":
            self.emit(
                Rows(({"name": q.name, "params": ", ".join(p.example_text() for p in q.params)} for q in queries.list_queries()),
                     ["name", "params"]),
                self.format,
                None,
            )
        elif word == ":params":
            if rest:
                q = queries.get_query(rest)
                rows = Rows(
                    ({"param": p.name, "type": p.type_name, "example": p.example_text(),
                      "default": "" if not p.optional else str(p.default),
                      "session": self.params.get(p.name, "")} for p in q.params),
                    ["param", "type", "example", "default", "session"],
                )
                if not rows:
                    self.say(f"Query '{q.name}' takes no parameters.")
                    return
                self.emit(rows, self.format, None)
            elif not self.params:
                self.say("No session parameters; set one with :param name=value.")
            else:
                self.emit(Rows(({"param": k, "value": v} for k, v in sorted(self.params.items())), ["param", "value"]),
                          self.format, None)
        elif word == ":param":
            if not rest:
                raise UsageError("Write :param name=value (or :param name= to drop it).")
            for k, v in queries.parse_param_args(_words(rest)).items():
                if v == "":
                    self.params.pop(k, None)
                else:
                    self.params[k] = v
        elif word == ":format":
            if rest not in FORMATS:
                raise UsageError(f"Unknown format '{rest}'; use table, csv or json.")
            self.format = rest
        elif word == ":timing":
            if rest not in ("on", "off"):
                raise UsageError("Write :timing on or :timing off.")
            self.timing = rest == "on"
        else:
            raise UsageError(f"Unknown command '{word}'; {', '.join(COMMANDS[:-1])} (:help says more).")

    def _query(self, line: str) -> None:
        target: Path | None = None
        if ">" in line:
            line, _, out = line.rpartition(">")
            out = out.strip()
            if not out:
                raise UsageError("Name a file after '>', e.g. > rows.csv.")
            target = Path(os.path.expanduser(out))
        words = _words(line)
        if not words:
            raise UsageError("Write a query's name before '>'.")
        query = queries.get_query(words[0])
        given = queries.parse_param_args(words[1:])
        takes = {p.name for p in query.params} | set(queries.referenced_params(query.text))
        params = {k: v for k, v in self.params.items() if k in takes}
        params.update(given)
        started = time.perf_counter()
        rows = queries.run_query(query.name, params, self.backend)
        took = time.perf_counter() - started
        if target is None:
            self.emit(rows, self.format, None)
        else:
            fmt = {".csv": "csv", ".json": "json"}.get(target.suffix.lower())
            if fmt is None:
                raise UsageError(f"{target}: name a .csv or .json file to write the rows to.")
            _write_rows(rows, fmt, target, self.emit)
            self.say(f"Wrote {len(rows)} row(s) to {target}.")
        if self.timing:
            self.say(f"{len(rows)} row(s) in {took * 1000:.0f} ms.")


def _words(text: str) -> list[str]:
    """Shell-like words: name=value, with "quoted values" kept whole (quotes removed)."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"Cannot read the line ({exc}); close the quotes.") from None


def _write_rows(rows: Rows, fmt: str, target: Path, emit: Callable[[Rows, str, TextIO | None], None]) -> None:
    """The rows into ``target``, whole or not at all."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            emit(rows, fmt, fh)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{target}: cannot be written ({exc.strerror or exc}).") from None


class Completer:
    """Tab completion: commands and query names first, then the query's parameters."""

    def __init__(self) -> None:
        self.names = [q.name for q in queries.list_queries()]
        self._matches: list[str] = []

    def candidates(self, line: str, text: str) -> list[str]:
        words = line.split()
        first = not words or (len(words) == 1 and not line.endswith(" "))
        if first:
            return sorted(w for w in (*self.names, *COMMANDS) if w.startswith(text))
        if words[0] in (":params",):
            return sorted(n for n in self.names if n.startswith(text))
        if words[0] in (":format",):
            return [f for f in FORMATS if f.startswith(text)]
        if words[0] in (":timing",):
            return [f for f in ("on", "off") if f.startswith(text)]
        if words[0] in self.names:
            q = queries.get_query(words[0])
            used = {w.split("=", 1)[0] for w in words[1:]}
            return sorted(f"{p.name}=" for p in q.params if p.name.startswith(text) and p.name not in used)
        return []

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            import readline

            self._matches = self.candidates(readline.get_line_buffer()[: readline.get_endidx()], text)
        return self._matches[state] if state < len(self._matches) else None


def shell(
    backend: queries.Backend,
    lines: Iterable[str] | None,
    emit: Callable[[Rows, str, TextIO | None], None],
    say: Callable[[str], None],
    params: dict[str, Any] | None = None,
    format: str = "table",
) -> Session:
    """Run the shell on ``backend`` until :quit or the end of input. ``lines``: the commands
    (e.g. a script read from a pipe), or None to read them from the terminal with line
    editing, completion and history."""
    session = Session(backend, emit, say, dict(params or {}), format)
    if lines is not None:
        for line in lines:
            session.handle(line)
            if session.done:
                break
        return session
    import readline

    history = history_path()
    try:
        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
    except OSError:
        pass
    readline.set_history_length(1000)
    completer = Completer()
    readline.set_completer(completer.complete)
    readline.set_completer_delims(" \t")
    readline.parse_and_bind("tab: complete")
    say("Type a query's name (Tab completes), :help for more, :quit or Ctrl-D to leave.")
    try:
        while not session.done:
            try:
                line = input("sgraph> ")
            except EOFError:
                break
            except KeyboardInterrupt:  # Ctrl-C drops the line being typed, as in a shell
                print()
                continue
            session.handle(line)
    finally:
        try:
            fd = os.open(history, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
            os.chmod(history, 0o600)
            readline.write_history_file(history)
        except OSError:
            pass
    return session
